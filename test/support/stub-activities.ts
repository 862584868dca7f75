/**
 * Stubbed activities for the workflow's logic tests (test/unit/workflow-logic.test.ts): typed as
 * OpsGuardActivities, so a change to the contract breaks them at compile time. Each model or sandbox
 * call takes the next scripted answer (or a default), and every call's arguments are recorded.
 */
import type {
  OpenPullRequestResult,
  PlanDeliveryResult,
  AuthoredFix,
  AuthoredScript,
  PrepareEnvironmentResult,
  OpsGuardActivities,
  RunSummary,
  ScriptRuns,
  TestRunSummary,
  WorkspaceInfo,
} from '../../workflows/incident-types';

/** The incident every stub run is about: a KeyError in app/config.py:database_url. */
export const STUB_LOG = [
  'Traceback (most recent call last):',
  '  File "/srv/app/main.py", line 3, in <module>',
  '  File "/srv/app/app/config.py", line 19, in database_url',
  "KeyError: 'user'",
].join('\n');

const LIMITS = { memoryMb: 512, cpus: 1, timeoutSeconds: 60, pids: 128 };

function run(over: Partial<RunSummary>): RunSummary {
  return {
    exitCode: 1,
    timedOut: false,
    oomKilled: false,
    durationMs: 100,
    imageId: 'sha256:stub',
    limits: LIMITS,
    warnings: [],
    exception: null,
    ranToEnd: false,
    stdoutTail: '',
    stderrTail: '',
    stdoutPath: '/stub/stdout.txt',
    stderrPath: '/stub/stderr.txt',
    outputTruncated: false,
    tripwire: null,
    coverage: { changedStatements: 1, executedChanged: 1, byFile: [], functions: ['app/config.py:database_url'] },
    ...over,
  };
}

/** A run that fails like the incident (gate 1 passes on it). */
export const reproduces = (): RunSummary =>
  run({
    exception: {
      type: 'KeyError',
      mro: ['KeyError', 'LookupError', 'Exception', 'BaseException', 'object'],
      message: "'user'",
      innermostRepoFrame: { file: 'app/config.py', func: 'database_url' },
      raisedIn: 'repository',
    },
    stderrTail: "KeyError: 'user'",
  });
/** A run that ran to its end and exited 0. */
export const passes = (): RunSummary => run({ exitCode: 0, ranToEnd: true });

const same = (r: () => RunSummary, n: number) => Array.from({ length: n }, r);

export interface StubScript {
  /** prepareEnvironment's answer (default: ready, nothing installed). */
  environment?: PrepareEnvironmentResult;
  reproductions?: AuthoredScript[];
  /** One entry per runReproductions call: the primary's run maker, and each variant's. */
  reproductionRuns?: (() => RunSummary)[][];
  fixes?: AuthoredFix[];
  /** applyFix answers (default: applied). */
  applies?: ({ ok: true } | { ok: false; reason: string })[];
  tests?: Partial<TestRunSummary>[];
  workspace?: Partial<WorkspaceInfo>;
  /** planDelivery answers (default: not a git repository, nothing delivered). */
  plans?: PlanDeliveryResult[];
  /** openPullRequest answers (default: opened #7). */
  pullRequests?: OpenPullRequestResult[];
}

export interface StubCalls {
  [name: string]: unknown[];
}

/** Activities that answer from `script`; `calls` records every call's argument by activity name. */
export function stubActivities(script: StubScript = {}): { activities: OpsGuardActivities; calls: StubCalls } {
  const calls: StubCalls = {};
  const record = (name: string, args: unknown) => (calls[name] ??= []).push(args);
  const next = <T>(queue: T[] | undefined, fallback: T): T => (queue?.length ? (queue.shift() as T) : fallback);
  const ok = { ok: true as const, usage: { inputTokens: 10, outputTokens: 5 }, durationMs: 1 };
  let reproductionN = 0;
  let fixN = 0;
  const activities: OpsGuardActivities = {
    async ping(name) {
      return `pong ${name}`;
    },
    async setupWorkspace(args) {
      record('setupWorkspace', args);
      return {
        workspacePath: '/stub/workspace',
        baselinePath: '/stub/baseline',
        artifactDir: '/stub/artifacts',
        fileCount: 3,
        skippedSymlinks: [],
        frames: [
          { file: '/srv/app/main.py', line: 3, func: '<module>', repoPath: 'main.py' },
          { file: '/srv/app/app/config.py', line: 19, func: 'database_url', repoPath: 'app/config.py' },
        ],
        exceptionType: 'KeyError',
        exceptionMessage: "'user'",
        repoDefinesException: false,
        testsFound: true,
        redactions: [],
        ...script.workspace,
      };
    },
    async prepareEnvironment(args) {
      record('prepareEnvironment', args);
      return (
        script.environment ?? {
          ok: true as const,
          summary: {
            image: 'opsguard/sandbox-python:3.11',
            imageId: 'sha256:stub',
            python: '3.11',
            pythonFull: '3.11.2',
            pythonSource: 'default',
            pythonReason: 'nothing names a Python: the default image',
            depsKey: null,
            cacheHit: false,
            declarationFiles: [],
            profileSources: [],
            requirements: 0,
            installed: [],
            notes: [],
            durationMs: 1,
          },
          environment: { depsKey: null, pythonPaths: ['.'], env: {}, testArgs: [] },
          profile: {},
        }
      );
    },
    async verifyDecision(args) {
      record('verifyDecision', args);
      return { ok: false as const, reason: 'the stub verifies no signature' };
    },
    async writeReproduction(args) {
      record('writeReproduction', args);
      reproductionN++;
      return next(script.reproductions, {
        model: ok,
        scriptPath: `/stub/reproduce-${reproductionN}/reproduction.py`,
        scriptSha256: `sha-${reproductionN}`,
        variants: [],
      });
    },
    async runReproductions(args) {
      record('runReproductions', args);
      const makers = next(script.reproductionRuns, []);
      return args.scripts.map((s, i): ScriptRuns => {
        const maker = makers[i] ?? (args.step === 'reproduce' ? reproduces : passes);
        return { name: s.name, role: s.role, runs: same(maker, s.repeats) };
      });
    },
    async runReproduction(args) {
      record('runReproduction', args);
      return reproduces();
    },
    async runRepoTests(args) {
      record('runRepoTests', args);
      const over = next(script.tests, {});
      return {
        ran: true,
        command: ['pytest'],
        passed: true,
        perTest: true,
        completeness: 'complete',
        resultsPath: `/stub/${args.label}/tests.json`,
        failToPassCandidates: [],
        ...(args.baseline
          ? { verdict: { passed: true, status: 'passed' as const, reason: 'Repository tests: all pass.' } }
          : {}),
        ...over,
      };
    },
    async writeFix(args) {
      record('writeFix', args);
      fixN++;
      return next(script.fixes, {
        model: ok,
        proposalPath: `/stub/fix-${fixN}/proposal.json`,
        files: ['app/config.py'],
      });
    },
    async applyFix(args) {
      record('applyFix', args);
      const a = next<{ ok: true } | { ok: false; reason: string }>(script.applies, { ok: true });
      return a.ok
        ? {
            ok: true,
            changedFiles: ['app/config.py'],
            changed: [{ path: 'app/config.py', lines: [5] }],
            diffPath: `/stub/fix-${args.attempt}/patch.diff`,
            added: 1,
            removed: 0,
          }
        : { ok: false, reason: a.reason, changedFiles: [], changed: [] };
    },
    async restoreWorkspace(args) {
      record('restoreWorkspace', args);
    },
    async writePrDescription(args) {
      record('writePrDescription', args);
      return { model: ok, descriptionPath: '/stub/pr.md' };
    },
    async writeArtifacts(args) {
      record('writeArtifacts', args);
      return { 'proof.json': '/stub/artifacts/proof.json' };
    },
    async recordDecision(args) {
      record('recordDecision', args);
    },
    async planDelivery(args) {
      record('planDelivery', args);
      return next(script.plans, {
        ok: false,
        skip: true,
        reason: 'nothing was delivered: not a git repository',
        notes: [],
      });
    },
    async createDeliveryBranch(args) {
      record('createDeliveryBranch', args);
      return { ok: true, branch: `opsguard/${args.incidentId}`, commit: 'c0ffee'.padEnd(40, '0') };
    },
    async pushDeliveryBranch(args) {
      record('pushDeliveryBranch', args);
      return { ok: true, pushed: true };
    },
    async openPullRequest(args) {
      record('openPullRequest', args);
      return next(script.pullRequests, { ok: true, number: 7, url: 'https://github.test/acme/app/pull/7' });
    },
    async recordDelivery(args) {
      record('recordDelivery', args);
    },
  };
  return { activities, calls };
}
