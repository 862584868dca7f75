/**
 * The regression gate (pure): the repository's own tests, per test, before and after the patch.
 *
 * - pass-to-pass: every test that passed before passes after (missing after counts as broken);
 * - fail-to-pass: every test that failed before with the incident's exception through the incident's
 *   location passes after (inferred from the incident, paths normalised);
 * - vanished: a test that failed before and has no result after was deselected or stopped being
 *   collected (test files cannot change), which is tampering with the run, not a fix;
 * - incomplete: every test that failed before, executed a statement the patch changed (coverage
 *   contexts), and still fails, is a case of the bug the fix missed. For a wrong-result bug this is
 *   the check that counts: its tests fail at their own asserts, never at the incident's location;
 * - nothing is a pass by default: no per-test results, zero tests collected, or a run cut short is
 *   "not verified" with the reason (when it happened before the patch too), or a failure (when the
 *   patch caused it). Tests the operator names as known to fail are exempt, and listed.
 */
import { innermostRepoFrame, repoStack, sameLocation } from './repo-paths';
import type { CodeLocation } from './repo-paths';
import { INFRA_EXCEPTIONS } from './classify-error';
import { isIncidentType } from './reproduction-gate';
import type { IncidentSignature, GateVerdict, ProofCheck, TestOutcome, TestRunSummary } from './incident-types';

/** One test's result, as OpsGuard's pytest plugin recorded it (frames as the container saw them). */
export interface TestResult {
  outcome: TestOutcome;
  exception: { type: string; mro: string[]; message?: string; frames: { file: string; func: string }[] } | null;
}

/** A whole run's per-test results (tests.json in the attempt folder). */
export interface TestResults {
  tests: Record<string, TestResult>;
  completeness: 'complete' | 'partial' | 'missing';
  problem?: string;
  collected: number;
  collectErrors: string[];
  /** Tests that executed a changed statement (after a patch); null when coverage did not measure. */
  changedHit: string[] | null;
  exitStatus: number | null;
  /** Repository files other than Python source the run read (activities/test-data.ts). */
  reads?: string[];
  /** The repository's Python modules the run loaded (activities/test-support.ts). */
  modules?: string[];
}

export type RegressionVerdict = GateVerdict & {
  status: 'passed' | 'failed' | 'not_verified';
  regression: NonNullable<TestRunSummary['regression']>;
};

const FAILING: TestOutcome[] = ['failed', 'error', 'timeout'];

/** Exceptions that say the environment failed the test (no network, no credentials, a missing module). */
const ENVIRONMENTAL = new Set([...INFRA_EXCEPTIONS, 'ModuleNotFoundError', 'ImportError', 'PermissionError']);

/**
 * A test that failed for an environmental reason before the patch: no code change can make it pass
 * in the sandbox, so it is not evidence that a fix is incomplete (it is listed as unrelated).
 */
function environmental(r: TestResult | undefined): boolean {
  return !!r?.exception && r.exception.mro.some((t) => ENVIRONMENTAL.has(t));
}

/** Tests that fail before the patch with the incident's exception through the incident's location; for a
 * hang, the tests stopped at their deadline with the incident's location on the stack. */
export function failToPassCandidates(before: TestResults, incident: IncidentSignature): string[] {
  return Object.entries(before.tests)
    .filter(([, r]) => {
      if (incident.hang) {
        if (r.outcome !== 'timeout' || !r.exception) return false;
        return !incident.location || repoStack(r.exception.frames, 50).some((f) => sameLocation(f, incident.location));
      }
      if (!FAILING.includes(r.outcome) || !r.exception) return false;
      if (!isIncidentType(r.exception.mro, incident.type)) return false;
      if (!incident.location) return true;
      const at: CodeLocation | null = innermostRepoFrame(r.exception.frames);
      return sameLocation(at, incident.location);
    })
    .map(([id]) => id)
    .sort();
}

export function regressionGate(
  before: TestResults,
  after: TestResults,
  opts: { failToPass: string[]; knownFailing?: string[] },
): RegressionVerdict {
  const known = new Set(opts.knownFailing ?? []);
  const passedBefore = Object.keys(before.tests)
    .filter((id) => before.tests[id]?.outcome === 'passed' && !known.has(id))
    .sort();
  const failedBefore = Object.keys(before.tests)
    .filter((id) => FAILING.includes(before.tests[id]?.outcome as TestOutcome) && !known.has(id))
    .sort();
  const passes = (id: string) => after.tests[id]?.outcome === 'passed';
  const broken = passedBefore.filter((id) => !passes(id));
  const failToPass = opts.failToPass.filter((id) => !known.has(id));
  const stillFailing = failToPass.filter((id) => !passes(id));
  const hit = after.changedHit ? new Set(after.changedHit) : null;
  const incompleteCandidates = hit
    ? failedBefore.filter((id) => hit.has(id) && !failToPass.includes(id) && !environmental(before.tests[id]))
    : [];
  const incomplete = incompleteCandidates.filter((id) => !passes(id));
  const unrelatedFailures = failedBefore.filter(
    (id) => !passes(id) && !incomplete.includes(id) && !stillFailing.includes(id),
  );
  // A test file that did not collect before (its module did not import: a SyntaxError, an ImportError)
  // had no results to compare; with the patch its tests exist, and they must pass.
  const uncollected = new Set(before.collectErrors);
  const collectedNow = Object.keys(after.tests)
    .filter((id) => uncollected.has(id.split('::')[0] ?? '') && !known.has(id))
    .sort();
  const collectStillFailing = collectedNow.filter((id) => !passes(id));
  const regression = {
    passToPass: { count: passedBefore.length, broken },
    failToPass: { count: failToPass.length, stillFailing },
    incomplete: { count: incompleteCandidates.length, stillFailing: incomplete },
    unrelatedFailures,
    exempted: [...known].sort(),
    ...(collectedNow.length
      ? { collectToPass: { count: collectedNow.length, stillFailing: collectStillFailing } }
      : {}),
  };
  const describe = (ids: string[]) =>
    ids
      .slice(0, 10)
      .map((id) => {
        const r = after.tests[id];
        return `${id} (${r ? `${r.outcome}${r.exception ? `: ${r.exception.type}` : ''}` : 'missing after the patch'})`;
      })
      .join(', ') + (ids.length > 10 ? `, and ${ids.length - 10} more` : '');
  const verdict = (status: RegressionVerdict['status'], reason: string): RegressionVerdict => ({
    passed: status !== 'failed',
    status,
    reason,
    regression,
  });

  const newlyCollecting =
    before.collected === 0 &&
    before.collectErrors.length > 0 &&
    after.completeness === 'complete' &&
    after.collectErrors.length === 0 &&
    collectedNow.length > 0;
  if (newlyCollecting) {
    // Nothing collected before because the incident broke the import: the files now collect, and then
    // every test in them must pass (there is no earlier result to excuse a failure).
    return collectStillFailing.length
      ? verdict(
          'failed',
          `Incomplete: before the patch ${before.collectErrors.length} test files failed to collect; with it they collect, but ${collectStillFailing.length} of ${collectedNow.length} of their tests do not pass: ${describe(collectStillFailing)}.`,
        )
      : verdict(
          'passed',
          `Repository tests: before the patch no test collected (${before.collectErrors.length} files failed to collect: ${before.collectErrors.slice(0, 5).join(', ')}); with it they collect and all ${collectedNow.length} of their tests pass.`,
        );
  }
  if (before.completeness === 'missing' || before.collected === 0) {
    const why =
      before.problem ??
      (before.collectErrors.length
        ? `${before.collectErrors.length} files failed to collect`
        : 'no tests were collected');
    return verdict(
      'not_verified',
      `Repository tests: NOT VERIFIED — before the patch no test results came back (${why}), so there is nothing to compare with.`,
    );
  }
  if (after.completeness !== 'complete') {
    if (before.completeness !== 'complete') {
      return verdict(
        'not_verified',
        `Repository tests: NOT VERIFIED — the test run did not finish before the patch (${before.problem}) nor after it (${after.problem}); raise limits.testsTimeoutSeconds or narrow the test selection.`,
      );
    }
    return verdict(
      'failed',
      `Regression: the tests did not finish with the patch (${after.problem ?? 'no results'}), although they did before it.`,
    );
  }
  const newCollectErrors = after.collectErrors.filter((f) => !before.collectErrors.includes(f));
  if (newCollectErrors.length) {
    return verdict(
      'failed',
      `Regression: with the patch these test files no longer collect: ${newCollectErrors.slice(0, 10).join(', ')}.`,
    );
  }
  if (broken.length) {
    return verdict(
      'failed',
      `Regression: ${broken.length} of ${passedBefore.length} tests that passed before the patch do not pass after it: ${describe(broken)}.`,
    );
  }
  // Test files cannot change (the patch policy), so a test that ran before and has no result after
  // was deselected or stopped being collected: tampering with which tests run, not a fix.
  const vanished = failedBefore.filter((id) => after.tests[id] === undefined && !failToPass.includes(id));
  if (vanished.length) {
    return verdict(
      'failed',
      `Tampered: ${vanished.length} of ${failedBefore.length} tests that failed before the patch have no result after it (deselected, or no longer collected): ${describe(vanished)}. A fix makes failing tests pass; it does not stop them running.`,
    );
  }
  if (stillFailing.length) {
    return verdict(
      'failed',
      `Incomplete: ${stillFailing.length} of ${failToPass.length} tests that failed with the incident's exception still do not pass: ${describe(stillFailing)}.`,
    );
  }
  if (collectStillFailing.length) {
    return verdict(
      'failed',
      `Incomplete: ${collectStillFailing.length} of ${collectedNow.length} tests in files that failed to collect before the patch do not pass after it: ${describe(collectStillFailing)}.`,
    );
  }
  if (incomplete.length) {
    return verdict(
      'failed',
      `Incomplete: ${incomplete.length} of ${incompleteCandidates.length} tests that failed before the patch run the changed code and still fail: ${describe(incomplete)}. The bug has more cases than the reproduction's; fix them all.`,
    );
  }
  const partialNote =
    before.completeness === 'partial'
      ? ` (before the patch the run was cut short: ${before.problem}; compared where results exist)`
      : '';
  const coverageNote = !hit
    ? '; which failing tests run the changed code was not measured'
    : incompleteCandidates.length
      ? `; all ${incompleteCandidates.length} that failed before and run the changed code now pass`
      : `; no ${failToPass.length ? 'other ' : ''}test that failed before runs the changed code`;
  return verdict(
    'passed',
    `Repository tests: all ${passedBefore.length} that passed before still pass; ${failToPass.length} that failed with the incident's exception now pass${coverageNote}${unrelatedFailures.length ? `; ${unrelatedFailures.length} unrelated failures before and after` : ''}${partialNote}.`,
  );
}

/** The repository tests' part of the evidence: each check passed, failed, or not run, and why. */
export function testChecks(tests: TestRunSummary | undefined): ProofCheck[] {
  if (!tests?.ran) {
    return [
      { name: 'repository tests', status: 'not_run', detail: tests?.reason ?? 'the fix did not reach the tests' },
    ];
  }
  const verdict = tests.verdict;
  const r = tests.regression;
  if (!verdict || verdict.status === 'not_verified' || !r) {
    return [
      {
        name: 'repository tests',
        status: 'not_run',
        detail: verdict?.reason ?? tests.reason ?? 'no per-test comparison',
      },
    ];
  }
  const status = (failing: string[]): ProofCheck['status'] => (failing.length ? 'failed' : 'passed');
  const checks: ProofCheck[] = [
    {
      name: 'tests: pass-to-pass',
      status: status(r.passToPass.broken),
      detail: `${r.passToPass.count - r.passToPass.broken.length} of ${r.passToPass.count} that passed before still pass`,
    },
    {
      name: 'tests: fail-to-pass (failed with the incident)',
      status: r.failToPass.count ? status(r.failToPass.stillFailing) : 'not_run',
      detail: r.failToPass.count
        ? `${r.failToPass.count - r.failToPass.stillFailing.length} of ${r.failToPass.count} now pass`
        : "no test failed with the incident's exception at its location before the patch",
    },
  ];
  if (r.collectToPass) {
    checks.push({
      name: 'tests: files that did not collect before now pass',
      status: status(r.collectToPass.stillFailing),
      detail: `${r.collectToPass.count - r.collectToPass.stillFailing.length} of ${r.collectToPass.count} tests of files that failed to collect before the patch pass`,
    });
  }
  if (tests.changedHit === null || r.incomplete === undefined) {
    checks.push({
      name: 'tests: failing tests that run the change now pass',
      status: 'not_run',
      detail: 'coverage did not measure which tests run the change',
    });
  } else {
    checks.push({
      name: 'tests: failing tests that run the change now pass',
      status: r.incomplete.count ? status(r.incomplete.stillFailing) : 'not_run',
      detail: r.incomplete.count
        ? `${r.incomplete.count - r.incomplete.stillFailing.length} of ${r.incomplete.count} now pass`
        : 'no test that failed before runs the changed code',
    });
  }
  return checks;
}

/**
 * A custom testCommand's verdict: its exit status before and after the patch (null: killed at its
 * deadline). Without per-test results only "passed before, fails after" is a regression; a command
 * that failed before cannot show one, so that is NOT VERIFIED, and every verdict says it compared
 * exit statuses only.
 */
export function exitStatusVerdict(
  before: number | null,
  after: number | null,
): GateVerdict & { status: RegressionVerdict['status'] } {
  if (before !== 0) {
    return {
      passed: true,
      status: 'not_verified',
      reason: `Repository tests: NOT VERIFIED — the custom testCommand ${before === null ? 'did not finish' : `failed (exit ${before})`} before the patch as well, so its exit status cannot tell a regression (no per-test results for a custom testCommand).`,
    };
  }
  if (after === 0) {
    return {
      passed: true,
      status: 'passed',
      reason:
        'The custom testCommand passes after the patch as before it (exit status compared only: no per-test results for a custom testCommand).',
    };
  }
  return {
    passed: false,
    status: 'failed',
    reason: `Regression: the custom testCommand passed before the patch and ${after === null ? 'did not finish' : `fails (exit ${after})`} after it.`,
  };
}
