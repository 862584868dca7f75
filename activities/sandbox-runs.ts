import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { runInSandbox } from '../sandbox/run-container';
import type { SandboxMount, SandboxResult } from '../sandbox/run-container';
import type { SandboxLimits } from '../sandbox/limits';
import { WORKSPACE_IN_CONTAINER, failToPassCandidates, innermostRepoFrame, regressionGate } from '../workflows/gates';
import type { IncidentSignature, TestResults } from '../workflows/gates';
import { parseTraceback, tail } from '../workflows/traceback';
import type { RunSummary, TestOutcome, TestRunSummary } from '../workflows/incident-types';
import { sha256, writeFileAtomic } from './incident-paths';
import type { IncidentPaths } from './incident-paths';
import { readContext } from './workspace';

export const SCRIPT_IN_CONTAINER = '/opsguard/reproduction.py';
export const RUNNER_IN_CONTAINER = '/opsguard/runner';
/** Our runner and pytest plugin, on the host: mounted read-only, outside the workspace. */
export const RUNNER_ON_HOST = fileURLToPath(new URL('../sandbox/runner', import.meta.url));

/** The container's whole environment. Nothing of the worker's (keys, tokens) is passed in. */
const BASE_ENV = {
  HOME: '/tmp',
  PYTHONDONTWRITEBYTECODE: '1',
  PYTHONUNBUFFERED: '1',
  PATH: '/usr/local/bin:/usr/bin:/bin',
  LANG: 'C.UTF-8',
};

/** Inside an activity: heartbeat while the container runs, and stop it when cancelled. */
function activityContext(): Context | null {
  try {
    return Context.current();
  } catch {
    return null; // called outside a worker (a script, a bench, a test of the activity itself)
  }
}

async function run(
  docker: Docker,
  args: {
    image: string;
    argv: string[];
    env: Record<string, string>;
    mounts: SandboxMount[];
    limits: SandboxLimits;
    incidentId: string;
    purpose: string;
  },
): Promise<SandboxResult> {
  const ctx = activityContext();
  const beat = ctx ? setInterval(() => ctx.heartbeat(), 5000) : undefined;
  try {
    return await runInSandbox(docker, { ...args, workdir: WORKSPACE_IN_CONTAINER, signal: ctx?.cancellationSignal });
  } catch (err) {
    const message = (err as Error).message;
    if (/no such image/i.test(message)) {
      throw ApplicationFailure.nonRetryable(
        `The sandbox image ${args.image} does not exist on the Docker engine; run 'npm run setup' or set OPSGUARD_SANDBOX_IMAGE`,
        'SandboxImageMissing',
      );
    }
    throw err; // a daemon hiccup: Temporal retries the activity
  } finally {
    clearInterval(beat);
  }
}

/** Take our protocol line (`<MARKER> <nonce> <json>`, the last one) out of stderr. */
export function takeProtocolLine(stderr: string, marker: string, nonce: string): { json: unknown; rest: string } {
  const prefix = `${marker} ${nonce} `;
  const lines = stderr.split('\n');
  const i = lines.findLastIndex((l) => l.startsWith(prefix));
  if (i < 0) return { json: null, rest: stderr };
  let json: unknown;
  try {
    json = JSON.parse(lines[i]?.slice(prefix.length) ?? '');
  } catch {
    json = null; // a torn line: no outcome
  }
  lines.splice(i, 1);
  return { json, rest: lines.join('\n').replace(/\n+$/, '\n') };
}

interface RunnerOutcome {
  ran_to_end: boolean;
  exit_code: number;
  exception: {
    type: string;
    mro: string[];
    message: string;
    frames: { file: string; line: number; func: string }[];
  } | null;
}

/** Save full output as artifacts and summarise the run for the workflow (tails only). */
async function summarise(
  result: SandboxResult,
  stderr: string,
  dir: string,
  prefix: string,
  outcome: RunnerOutcome | null,
  viaRunner: boolean,
): Promise<RunSummary> {
  const stdoutPath = path.join(dir, `${prefix}stdout.txt`);
  const stderrPath = path.join(dir, `${prefix}stderr.txt`);
  await writeFileAtomic(stdoutPath, result.stdout);
  await writeFileAtomic(stderrPath, stderr);
  let exception: RunSummary['exception'] = null;
  if (outcome?.exception) {
    const e = outcome.exception;
    exception = {
      type: e.type,
      mro: e.mro,
      message: e.message.slice(0, 500),
      innermostRepoFrame: innermostRepoFrame(e.frames),
    };
  } else if (!viaRunner) {
    const tb = parseTraceback(stderr);
    if (tb?.exceptionType) {
      exception = {
        type: tb.exceptionType,
        mro: [tb.exceptionType],
        message: tb.message.slice(0, 500),
        innermostRepoFrame: innermostRepoFrame(tb.frames),
      };
    }
  }
  return {
    exitCode: result.exitCode,
    timedOut: result.timedOut,
    oomKilled: result.oomKilled,
    durationMs: result.durationMs,
    imageId: result.imageId,
    limits: {
      memoryMb: result.limits.memoryMb,
      cpus: result.limits.cpus,
      timeoutSeconds: result.limits.timeoutSeconds,
      pids: result.limits.pids,
    },
    warnings: result.warnings,
    exception,
    ranToEnd: outcome ? outcome.ran_to_end : null,
    stdoutTail: tail(result.stdout, 1500),
    stderrTail: tail(stderr, 2500),
    stdoutPath,
    stderrPath,
    outputTruncated: result.stdoutTruncated || result.stderrTruncated,
  };
}

/**
 * Run the reproduction script, pinned by its hash, through OpsGuard's runner in a fresh container.
 * The workspace, the runner and the script are separate read-only mounts, so a patch can change
 * neither the script nor the runner; the runner's outcome line carries a per-run nonce.
 */
export async function runReproduction(
  docker: Docker,
  paths: IncidentPaths,
  args: {
    incidentId: string;
    scriptPath: string;
    scriptSha256: string;
    outDir: string;
    image: string;
    limits: SandboxLimits;
    purpose: string;
  },
): Promise<RunSummary> {
  const script = await fs.readFile(args.scriptPath);
  if (sha256(script) !== args.scriptSha256) {
    throw ApplicationFailure.nonRetryable(
      `The reproduction script ${args.scriptPath} no longer matches its recorded hash`,
      'ArtifactTampered',
    );
  }
  const nonce = randomBytes(16).toString('hex');
  const result = await run(docker, {
    image: args.image,
    // -I: isolated mode, so PYTHONPATH and files in the workspace cannot shadow the runner's imports.
    argv: ['python3', '-I', `${RUNNER_IN_CONTAINER}/opsguard_runner.py`, nonce, SCRIPT_IN_CONTAINER],
    env: BASE_ENV,
    mounts: [
      { hostPath: paths.workspace, containerPath: WORKSPACE_IN_CONTAINER, readOnly: true },
      { hostPath: RUNNER_ON_HOST, containerPath: RUNNER_IN_CONTAINER, readOnly: true },
      { hostPath: args.scriptPath, containerPath: SCRIPT_IN_CONTAINER, readOnly: true },
    ],
    limits: args.limits,
    incidentId: args.incidentId,
    purpose: args.purpose,
  });
  const { json, rest } = takeProtocolLine(result.stderr, 'OPSGUARD-OUTCOME', nonce);
  await writeFileAtomic(path.join(args.outDir, 'outcome.json'), JSON.stringify(json, null, 2));
  return await summarise(result, rest, args.outDir, '', json as RunnerOutcome | null, true);
}

export interface TestRunRequest {
  incidentId: string;
  testCommand?: string[];
  outDir: string;
  image: string;
  limits: SandboxLimits;
  /** Baseline run: the incident's signature, to infer fail-to-pass tests. */
  incident?: IncidentSignature;
  /** After a patch: the baseline's per-test results and fail-to-pass tests to hold it to. */
  baseline?: { resultsPath: string; failToPass: string[] };
}

/**
 * The repository's tests in a fresh container: `testCommand` when given (exit status only), else
 * pytest with OpsGuard's plugin where test files exist (per-test results, written to tests.json).
 */
export async function runRepoTests(
  docker: Docker,
  paths: IncidentPaths,
  args: TestRunRequest,
): Promise<TestRunSummary> {
  const nonce = randomBytes(16).toString('hex');
  const perTest = !args.testCommand;
  if (perTest) {
    if (!(await readContext(paths)).testsFound) {
      return {
        ran: false,
        command: [],
        reason: 'no test files (test_*.py, *_test.py) in the repository',
        passed: true,
        perTest: false,
      };
    }
  }
  const command = args.testCommand ?? [
    'python3',
    '-m',
    'pytest',
    '-q',
    '-rA',
    '-p',
    'no:cacheprovider',
    '-p',
    'opsguard_pytest',
    '--opsguard-nonce',
    nonce,
  ];
  const result = await run(docker, {
    image: args.image,
    argv: command,
    env: {
      ...BASE_ENV,
      PYTHONPATH: perTest ? `${RUNNER_IN_CONTAINER}:${WORKSPACE_IN_CONTAINER}` : WORKSPACE_IN_CONTAINER,
    },
    mounts: [
      { hostPath: paths.workspace, containerPath: WORKSPACE_IN_CONTAINER, readOnly: true },
      { hostPath: RUNNER_ON_HOST, containerPath: RUNNER_IN_CONTAINER, readOnly: true },
    ],
    limits: args.limits,
    incidentId: args.incidentId,
    purpose: 'tests',
  });
  const { json, rest } = perTest
    ? takeProtocolLine(result.stderr, 'OPSGUARD-TESTS', nonce)
    : { json: null, rest: result.stderr };
  const run_ = await summarise(result, rest, args.outDir, 'tests-', null, false);
  const summary: TestRunSummary = {
    ran: true,
    command: command.map((c) => (c === nonce ? '<nonce>' : c)),
    run: run_,
    passed: result.exitCode === 0 && !result.timedOut,
    perTest: false,
  };
  if (!perTest) return summary;

  const raw = json as { tests: TestResults['tests']; exit_status: number } | null;
  const results: TestResults = raw
    ? { tests: raw.tests, exitStatus: raw.exit_status }
    : { tests: {}, exitStatus: result.exitCode };
  const resultsPath = path.join(args.outDir, 'tests.json');
  await writeFileAtomic(resultsPath, JSON.stringify(results, null, 2));
  const counts: Record<TestOutcome, number> = { passed: 0, failed: 0, error: 0, skipped: 0 };
  for (const r of Object.values(results.tests)) counts[r.outcome]++;
  Object.assign(summary, { perTest: raw !== null, counts, resultsPath });
  if (!raw)
    summary.reason = `pytest reported no per-test results (exit code ${result.exitCode}; collection error or timeout)`;

  if (args.incident) summary.failToPassCandidates = failToPassCandidates(results, args.incident);
  if (args.baseline) {
    const before = JSON.parse(await fs.readFile(args.baseline.resultsPath, 'utf8')) as TestResults;
    const gate = regressionGate(before, results, args.baseline.failToPass);
    summary.regression = gate.regression;
    summary.verdict = { passed: gate.passed, reason: gate.reason };
  }
  return summary;
}
