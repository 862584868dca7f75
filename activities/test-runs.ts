/**
 * The repository's tests in a fresh container. By default pytest under OpsGuard's guard
 * (sandbox/runner/opsguard_tests.py): per-test results written as each test ends (tests.json here),
 * a per-test deadline, per-test memory containment, and with a patch, which tests ran the changed
 * lines. A custom `testCommand` runs as given and only its exit status is compared, which the
 * verdict says.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type Docker from 'dockerode';
import { containerPythonPaths, environmentMounts, IN_CONTAINER, runGuarded, SANDBOX_ENV } from '../sandbox/guarded-run';
import type { RunEnvironment } from '../sandbox/guarded-run';
import type { GuardedRunResult } from '../sandbox/guarded-run';
import type { SandboxLimits } from '../sandbox/limits';
import { runInSandbox } from '../sandbox/run-container';
import { exitStatusVerdict, failToPassCandidates, regressionGate } from '../workflows/regression-gate';
import type { TestResult, TestResults } from '../workflows/regression-gate';
import type { IncidentSignature, TestOutcome, TestRunSummary } from '../workflows/incident-types';
import { guardSpecFor } from './changed-files';
import { writeFileAtomic } from './incident-paths';
import { readsOf } from './test-data';
import { modulesOf } from './test-support';
import type { IncidentPaths } from './incident-paths';
import type { ChangedFile } from '../workflows/incident-types';
import { memoryLimitBytes } from './reproduction-runs';
import { redactRecordsFile, resolveFrames, saveOutput, tripwireOf } from './run-summary';
import { loadSecretMap, redactor } from './repo-secrets';
import { inSandboxActivity } from './sandbox-activity';
import { baselineRunShare, keepBaselineRun, takeBaselineRun } from './baseline-test-reuse';
import { leaderFirst } from './leader-first';
import { readContext } from './workspace';

/** Exit code of a run whose watchdog ended it: a test ignored its deadline (opsguard_pytest.py). */
const WATCHDOG_EXIT = 85;

export interface TestRunRequest {
  incidentId: string;
  testCommand?: string[];
  outDir: string;
  image: string;
  /** The whole run's limits (its deadline is the container's). */
  limits: SandboxLimits;
  perTestSeconds: number;
  /** The prepared dependencies, import paths and profile variables. */
  environment?: RunEnvironment;
  /** pytest arguments from the repository profile (the test selection). */
  testArgs?: string[];
  /** Baseline run: the incident's signature, to infer fail-to-pass tests. */
  incident?: IncidentSignature;
  /** After a patch: what it changed (coverage contexts, the tripwire's suspects). */
  changed?: ChangedFile[];
  /** After a patch: the baseline's results and the tests to hold the patch to. */
  baseline?: { resultsPath: string; failToPass: string[]; knownFailing?: string[] };
}

const OUTCOMES: TestOutcome[] = ['passed', 'failed', 'error', 'skipped', 'timeout'];

/** Per-test results from a guarded pytest run's records. */
async function resultsOf(run: GuardedRunResult, workspace: string): Promise<TestResults> {
  const { end, data } = run.records;
  const tests: Record<string, TestResult> = {};
  const tampered = new Set<string>();
  let lastStarted: string | null = null;
  for (const d of data) {
    if (d.kind === 'test-start') lastStarted = String(d.fields.nodeid);
    if (d.kind !== 'test') continue;
    const f = d.fields as { nodeid: string; outcome: string; exception: TestResult['exception'] };
    const nodeid = String(f.nodeid);
    // The plugin writes one result per test. A second one (before or after it) was written by the
    // code under test, so the test counts as not passing, whichever of the two is genuine.
    if (tests[nodeid]) tampered.add(nodeid);
    const outcome = (OUTCOMES.includes(f.outcome as TestOutcome) ? f.outcome : 'error') as TestOutcome;
    const exception = f.exception
      ? { ...f.exception, frames: await resolveFrames(workspace, f.exception.frames) }
      : null;
    tests[nodeid] = { outcome, exception };
    if (lastStarted === nodeid) lastStarted = null;
  }
  for (const nodeid of tampered) {
    tests[nodeid] = {
      outcome: 'error',
      exception: {
        type: 'OpsGuardTamperedResult',
        mro: ['OpsGuardTamperedResult'],
        message: 'more than one result was recorded for this test: something other than OpsGuard wrote one',
        frames: [],
      },
    };
  }
  const collected = Number(data.find((d) => d.kind === 'collected')?.fields.count ?? Object.keys(tests).length);
  const collectErrors = data.filter((d) => d.kind === 'collect-error').map((d) => String(d.fields.nodeid));
  const complete = end?.kind === 'tests' && end.header.ran_to_end;
  const details = (complete ? end.details : null) as { changed_hit?: string[] | null } | null;
  let problem: string | undefined;
  if (!complete) {
    const s = run.sandbox;
    const { fatal } = tripwireOf(run);
    const cause = fatal
      ? `the guard ended it: ${fatal.file}:${fatal.func} line ${fatal.line} raised ${fatal.event}`
      : s.timedOut
        ? `killed at the ${s.limits.timeoutSeconds} s deadline of the whole run`
        : s.oomKilled
          ? `killed for exceeding ${s.limits.memoryMb} MiB of memory`
          : s.exitCode === WATCHDOG_EXIT
            ? 'a test ignored its per-test deadline, so the run was stopped'
            : (run.records.problem ?? `exit code ${s.exitCode}`);
    problem = `${cause}${lastStarted ? `, while ${lastStarted} was running` : ''}`;
  }
  return {
    tests,
    completeness: complete ? 'complete' : Object.keys(tests).length ? 'partial' : 'missing',
    ...(problem ? { problem } : {}),
    collected,
    collectErrors,
    changedHit: details?.changed_hit ?? null,
    exitStatus: complete ? end.header.exit_code : null,
    reads: readsOf(data),
    modules: modulesOf(data),
  };
}

export async function runRepoTests(docker: Docker, paths: IncidentPaths, req: TestRunRequest): Promise<TestRunSummary> {
  if (req.testCommand) return await runCustomCommand(docker, paths, req, req.testCommand);
  if (!(await readContext(paths)).testsFound) {
    return {
      ran: false,
      command: [],
      reason: 'no test files (test_*.py, *_test.py) in the repository',
      passed: true,
      perTest: false,
    };
  }
  if (req.changed || req.baseline) return await runPytest(docker, paths, req);
  // A baseline run: a clean one is shared by the incidents on the same tree (baseline-test-reuse.ts).
  const shareable = await baselineRunShare(docker, paths, req).catch((err: Error) => ({ why: err.message }));
  if (!('share' in shareable)) return await runPytest(docker, paths, req);
  const { share } = shareable;
  // A follower's wait for the leader ends with its own incident's cancellation.
  return await inSandboxActivity(req.image, (signal) =>
    leaderFirst(
      share.key,
      async () => {
        const taken = await takeBaselineRun(share, req.outDir);
        if (taken) {
          const results = JSON.parse(await fs.readFile(taken.resultsPath ?? '', 'utf8')) as TestResults;
          // Its candidates are the other incident's: ours come from the same results and our signature.
          const { failToPassCandidates: _theirs, ...rest } = taken;
          return {
            ...rest,
            ...(req.incident ? { failToPassCandidates: failToPassCandidates(results, req.incident) } : {}),
          };
        }
        const summary = await runPytest(docker, paths, req);
        await keepBaselineRun(share, req.outDir, summary, req.incidentId).catch(() => false); // sharing is optional
        return summary;
      },
      signal,
    ),
  );
}

/** The repository's pytest suite under OpsGuard's guard, in a fresh container. */
async function runPytest(docker: Docker, paths: IncidentPaths, req: TestRunRequest): Promise<TestRunSummary> {
  const guard = req.changed
    ? await guardSpecFor(paths.workspace, req.changed)
    : { changed_files: [], changed_lines: {} };
  const run = await inSandboxActivity(req.image, (signal) =>
    runGuarded(docker, {
      entry: 'opsguard_tests.py',
      image: req.image,
      limits: req.limits,
      workspace: paths.workspace,
      runDir: req.outDir,
      incidentId: req.incidentId,
      purpose: 'tests',
      signal,
      environment: req.environment,
      spec: {
        pytest_args: req.testArgs ?? [],
        per_test_seconds: req.perTestSeconds,
        memory_limit_bytes: memoryLimitBytes(req.limits),
        ...guard,
      },
    }),
  );
  const redactText = redactor(await loadSecretMap(paths.secrets));
  // Redacted before anything uses them, so before/after compare alike (a parametrized id may hold a value).
  const results = JSON.parse(redactText(JSON.stringify(await resultsOf(run, paths.workspace)))) as TestResults;
  await redactRecordsFile(run.recordsPath, redactText);
  const resultsPath = path.join(req.outDir, 'tests.json');
  await writeFileAtomic(resultsPath, JSON.stringify(results, null, 2));
  const counts = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<TestOutcome, number>;
  for (const r of Object.values(results.tests)) counts[r.outcome]++;
  const summary: TestRunSummary = {
    ran: true,
    command: ['pytest', `(OpsGuard's guarded runner, ${req.perTestSeconds} s per test)`],
    run: { ...(await saveOutput(run.sandbox, req.outDir, true, redactText)), exception: null, ranToEnd: null },
    passed: results.completeness === 'complete' && results.exitStatus === 0,
    perTest: results.completeness !== 'missing',
    completeness: results.completeness,
    ...(results.problem ? { problem: results.problem } : {}),
    collected: results.collected,
    collectErrors: results.collectErrors,
    changedHit: results.changedHit === null ? null : results.changedHit.length,
    counts,
    resultsPath,
  };
  if (results.completeness !== 'complete')
    summary.reason = `per-test results are ${results.completeness}: ${results.problem}`;
  if (req.incident) summary.failToPassCandidates = failToPassCandidates(results, req.incident);
  if (req.baseline) {
    const before = JSON.parse(await fs.readFile(req.baseline.resultsPath, 'utf8')) as TestResults;
    const gate = regressionGate(before, results, {
      failToPass: req.baseline.failToPass,
      knownFailing: req.baseline.knownFailing,
    });
    summary.regression = gate.regression;
    summary.verdict = { passed: gate.passed, reason: gate.reason, status: gate.status };
  }
  return summary;
}

/** A custom test command: run as given, exit status only (no per-test results, and the verdict says so). */
async function runCustomCommand(
  docker: Docker,
  paths: IncidentPaths,
  req: TestRunRequest,
  command: string[],
): Promise<TestRunSummary> {
  const result = await inSandboxActivity(req.image, (signal) =>
    runInSandbox(docker, {
      image: req.image,
      argv: command,
      env: {
        ...req.environment?.env,
        ...SANDBOX_ENV,
        PYTHONPATH: [
          ...containerPythonPaths(req.environment),
          ...(req.environment?.depsDir ? [IN_CONTAINER.deps] : []),
        ].join(':'),
      },
      workdir: IN_CONTAINER.workspace,
      mounts: [
        { hostPath: paths.workspace, containerPath: IN_CONTAINER.workspace, readOnly: true },
        ...environmentMounts(req.environment),
      ],
      limits: req.limits,
      incidentId: req.incidentId,
      purpose: 'tests',
      signal,
    }),
  );
  const summary: TestRunSummary = {
    ran: true,
    command,
    run: {
      ...(await saveOutput(result, req.outDir, true, redactor(await loadSecretMap(paths.secrets)))),
      exception: null,
      ranToEnd: null,
    },
    passed: result.exitCode === 0 && !result.timedOut,
    perTest: false,
    completeness: 'missing',
    problem: 'a custom testCommand gives its exit status only',
  };
  if (req.baseline) {
    const before = JSON.parse(await fs.readFile(req.baseline.resultsPath, 'utf8')) as { exitStatus: number | null };
    summary.verdict = exitStatusVerdict(before.exitStatus, result.timedOut ? null : result.exitCode);
  } else {
    const resultsPath = path.join(req.outDir, 'tests.json');
    await writeFileAtomic(resultsPath, JSON.stringify({ exitStatus: result.timedOut ? null : result.exitCode }));
    summary.resultsPath = resultsPath;
  }
  return summary;
}
