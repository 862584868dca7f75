/**
 * The proof's pure rules, from constructed results (no Docker, no Temporal): path normalisation in
 * every form a traceback prints, gate 1's fidelity rules and flakiness, gate 2's checks, the
 * regression gate's verdicts including the ones that must say "not verified".
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fixGate, fixRunVerdict } from '../../workflows/fix-gate';
import type { RunSummary, TestOutcome, IncidentSignature } from '../../workflows/incident-types';
import { failToPassCandidates, regressionGate } from '../../workflows/regression-gate';
import type { TestResults } from '../../workflows/regression-gate';
import { functionOfFrame, innermostRepoFrame, normalizePath, sameLocation } from '../../workflows/repo-paths';
import { reproductionGate, reproductionRunVerdict } from '../../workflows/reproduction-gate';
import { classifyError, isCheckLine } from '../../workflows/classify-error';
import type { LocatedFrame } from '../../workflows/classify-error';
import { parseTraceback } from '../../workflows/traceback';
import { coverageRuns } from '../../workflows/proof-rules';
import { runSummary } from '../support/run-summaries';

test('paths: .., ., repeated slashes and Windows separators name the same file', () => {
  const forms = [
    '/workspace/mod.py',
    '/workspace/tests/../mod.py',
    '/workspace/./mod.py',
    '/workspace//mod.py',
    '/workspace/jobs/sub/../../mod.py',
    '\\workspace\\jobs\\..\\mod.py',
  ];
  for (const f of forms) assert.equal(normalizePath(f), '/workspace/mod.py', f);
  assert.equal(normalizePath('C:\\srv\\app\\jobs\\..\\mod.py'), 'C:/srv/app/mod.py');
  assert.equal(normalizePath('/../etc/passwd'), '/etc/passwd', 'no climbing above the root');
  assert.deepEqual(innermostRepoFrame([{ file: '/workspace/jobs/../exporter/batching.py', func: 'batch_heads' }]), {
    file: 'exporter/batching.py',
    func: 'batch_heads',
  });
  assert.equal(
    innermostRepoFrame([{ file: '/workspace/.venv/lib/python3.11/site-packages/six.py', func: 'reraise' }]),
    null,
    'site-packages inside the workspace is not the repository',
  );
  assert.ok(sameLocation({ file: 'jobs/../mod.py', func: 'f' }, { file: 'mod.py', func: 'f' }));
});

/** One bug, as Python 3.11 prints it (the list comprehension a frame of its own) and as 3.13 does (inlined). */
const LISTCOMP_311 =
  'Traceback (most recent call last):\n  File "/srv/billing/job.py", line 3, in <module>\n    close_month([{"amount": 10, "currency": "EUR"}, {"amount": 5, "currency": "usd"}])\n  File "/srv/billing/billing/invoices.py", line 5, in close_month\n    return [round(line["amount"] * RATES[line["currency"]], 2) for line in lines]\n           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n  File "/srv/billing/billing/invoices.py", line 5, in <listcomp>\n    return [round(line["amount"] * RATES[line["currency"]], 2) for line in lines]\n                                   ~~~~~^^^^^^^^^^^^^^^^^^\nKeyError: \'usd\'\n';
const LISTCOMP_313 =
  'Traceback (most recent call last):\n  File "/srv/billing/job.py", line 3, in <module>\n    close_month([{"amount": 10, "currency": "EUR"}, {"amount": 5, "currency": "usd"}])\n    ~~~~~~~~~~~^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n  File "/srv/billing/billing/invoices.py", line 5, in close_month\n    return [round(line["amount"] * RATES[line["currency"]], 2) for line in lines]\n                                   ~~~~~^^^^^^^^^^^^^^^^^^\nKeyError: \'usd\'\n';

test("a list comprehension's frame is its enclosing function, as Python 3.12+ prints it: an incident from one version, a run on another, one place", () => {
  const located = (log: string): LocatedFrame[] =>
    (parseTraceback(log)?.frames ?? []).map((f) => ({
      ...f,
      repoPath: f.file.endsWith('/billing/invoices.py') ? 'billing/invoices.py' : null,
    }));
  const where = (log: string) => {
    const c = classifyError({
      errorLog: log,
      traceback: parseTraceback(log),
      frames: located(log),
      repoDefinesException: false,
    });
    return c.kind === 'code' ? { file: c.location.file, func: c.location.func } : c.reason;
  };
  assert.deepEqual(where(LISTCOMP_311), { file: 'billing/invoices.py', func: 'close_month' });
  assert.deepEqual(where(LISTCOMP_313), { file: 'billing/invoices.py', func: 'close_month' });
  // The runs' side: the sandbox's frames, in either form, name the same location.
  const inContainer = (log: string) =>
    (parseTraceback(log)?.frames ?? []).map((f) => ({ ...f, file: f.file.replace('/srv/billing', '/workspace') }));
  assert.deepEqual(innermostRepoFrame(inContainer(LISTCOMP_311)), { file: 'billing/invoices.py', func: 'close_month' });
  assert.deepEqual(innermostRepoFrame(inContainer(LISTCOMP_313)), { file: 'billing/invoices.py', func: 'close_month' });
  // A generator expression is a frame in every version, and a comprehension called from another file stays itself.
  assert.equal(
    functionOfFrame(
      [
        { file: 'a.py', func: 'total' },
        { file: 'a.py', func: '<genexpr>' },
      ],
      1,
    ),
    '<genexpr>',
  );
  assert.equal(
    functionOfFrame(
      [
        { file: 'a.py', func: 'f' },
        { file: 'b.py', func: '<listcomp>' },
      ],
      1,
    ),
    '<listcomp>',
  );
  assert.equal(
    functionOfFrame(
      [
        { file: 'a.py', func: 'f' },
        { file: 'a.py', func: '<listcomp>' },
        { file: 'a.py', func: '<dictcomp>' },
      ],
      2,
    ),
    'f',
    'nested comprehensions: the function around them all',
  );
});

test('a check line is an assert, a raise of AssertionError, a unittest assertion or an assert_* helper, nothing else', () => {
  for (const l of [
    'assert result == 110, "x"',
    'assert(x)',
    'raise AssertionError("no")',
    'raise errors.AssertionError',
  ]) {
    assert.equal(isCheckLine(l), true, l);
    assert.equal(isCheckLine(l, true), true, `${l} (rules before classify-v2)`);
  }
  for (const l of [
    "self.assertEqual(parse_duration('1:02:03'), 3723)",
    'self.assertTrue(ok)',
    'with self.assertRaises(ValueError):',
    'self.fail("unreachable")',
    'np.testing.assert_allclose(result, expected)',
    'tm.assert_frame_equal(result, expected)',
    'assert_array_equal(a, b)',
  ]) {
    assert.equal(isCheckLine(l), true, l);
    assert.equal(isCheckLine(l, true), false, `${l}: not a check before classify-v2 (replays as it ran)`);
  }
  for (const l of [
    'result = median(x)',
    'raise ValueError("x")',
    'assertions.append(1)',
    'self.asserted = True',
    'reassert_all(x)',
    undefined,
  ]) {
    assert.equal(isCheckLine(l), false, String(l));
  }
});

const run = runSummary;
const keyError = (file: string | null) =>
  run({
    exception: {
      type: 'KeyError',
      mro: ['KeyError', 'LookupError', 'Exception', 'BaseException', 'object'],
      message: "'user'",
      innermostRepoFrame: file ? { file, func: 'database_url' } : null,
      raisedIn: file ? 'repository' : 'script',
    },
  });
const INCIDENT: IncidentSignature = { type: 'KeyError', location: { file: 'app/config.py', func: 'database_url' } };

test('gate 1, location rule: the same type through the same place, every run', () => {
  const v = reproductionGate(
    [keyError('app/config.py'), keyError('app/config.py'), keyError('app/config.py')],
    INCIDENT,
  );
  assert.deepEqual([v.passed, v.rule], [true, 'location']);
  assert.match(v.reason, /3 of 3 runs/);
});

test('gate 1: an incident of Exception itself wants Exception, not any failure (every type is its subclass)', () => {
  const incident: IncidentSignature = { type: 'Exception', location: { file: 'app/config.py', func: 'database_url' } };
  const raised = (type: string, mro: string[]) =>
    run({
      exception: {
        type,
        mro,
        message: 'x',
        innermostRepoFrame: { file: 'app/config.py', func: 'database_url' },
        raisedIn: 'repository',
      },
    });
  assert.equal(
    reproductionRunVerdict(raised('Exception', ['Exception', 'BaseException', 'object']), incident).passed,
    true,
  );
  const other = reproductionRunVerdict(
    raised('KeyError', ['KeyError', 'LookupError', 'Exception', 'BaseException', 'object']),
    incident,
  );
  assert.equal(other.passed, false);
  assert.match(other.reason, /raised KeyError .* expected Exception/);
  // Below the roots, a subclass still counts: RecursionError is a RuntimeError.
  assert.equal(
    reproductionRunVerdict(
      raised('RecursionError', ['RecursionError', 'RuntimeError', 'Exception', 'BaseException', 'object']),
      {
        ...incident,
        type: 'RuntimeError',
      },
    ).passed,
    true,
  );
});

test('gate 1: runs that disagree are flaky, and flaky is refused with its own reason', () => {
  const mixed = reproductionGate(
    [keyError('app/config.py'), run({ ranToEnd: true, exitCode: 0 }), keyError('app/config.py')],
    INCIDENT,
  );
  assert.equal(mixed.passed, false);
  assert.match(mixed.reason, /^Flaky: 2 of 3 runs reproduced the incident and 1 did not/);
  const twoPlaces = reproductionGate([keyError('app/config.py'), keyError('app/other.py')], {
    ...INCIDENT,
    location: null,
  });
  assert.equal(twoPlaces.passed, true, 'by type alone both places count, and the signature is the type');
});

test('gate 1: no signed outcome, or a tripwire, is never a reproduction', () => {
  assert.match(
    reproductionRunVerdict(run({ ranToEnd: null, unverifiedReason: 'forged' }), INCIDENT).reason,
    /without the runner's signed outcome \(forged\)/,
  );
  const tripped = run({
    ranToEnd: null,
    tripwire: {
      event: 'gc.get_objects',
      detail: null,
      kind: 'script',
      file: '/opsguard/scripts/reproduction.py',
      func: '<module>',
      line: 3,
    },
  });
  assert.match(
    reproductionRunVerdict(tripped, INCIDENT).reason,
    /the guard ended the run: the reproduction script .* raised gc\.get_objects/,
  );
});

const CHECK_INCIDENT: IncidentSignature = {
  type: 'AssertionError',
  location: { file: 'jobs/nightly.py', func: 'main' },
  check: true,
};
const assertionRun = (
  check: { kind: string; trivial: boolean; line: number; usesRepository?: boolean } | null,
  functions: string[] | null,
) =>
  run({
    exception: {
      type: 'AssertionError',
      mro: ['AssertionError', 'Exception', 'BaseException', 'object'],
      message: '120',
      innermostRepoFrame: null,
      raisedIn: 'script',
      scriptCheck: check,
    },
    coverage: functions ? { changedStatements: 0, executedChanged: 0, byFile: [], functions } : null,
  });

test('gate 1, assertion rule: a non-trivial check of the script after repository code ran', () => {
  const ok = reproductionRunVerdict(
    assertionRun({ kind: 'assert', trivial: false, line: 4 }, ['reports/stats.py:median']),
    CHECK_INCIDENT,
  );
  assert.deepEqual([ok.passed, ok.rule], [true, 'assertion']);
  assert.match(ok.reason, /after it ran reports\/stats\.py:median/);
  const trivial = reproductionRunVerdict(
    assertionRun({ kind: 'assert', trivial: true, line: 2 }, ['reports/stats.py:median']),
    CHECK_INCIDENT,
  );
  assert.match(trivial.reason, /tests a constant or raises unconditionally .* raising the type itself/);
  const noCall = reproductionRunVerdict(assertionRun({ kind: 'assert', trivial: false, line: 2 }, []), CHECK_INCIDENT);
  assert.match(
    noCall.reason,
    /failed before the script called any repository function, on values that do not come from the repository/,
  );
  // A wrong constant or default: no function runs, but the checked value is the repository's.
  const constant = reproductionRunVerdict(
    assertionRun({ kind: 'assert', trivial: false, line: 2, usesRepository: true }, []),
    CHECK_INCIDENT,
  );
  assert.deepEqual([constant.passed, constant.rule], [true, 'assertion']);
  assert.match(constant.reason, /on values imported from the repository/);
  const unmeasured = reproductionRunVerdict(
    assertionRun({ kind: 'assert', trivial: false, line: 2 }, null),
    CHECK_INCIDENT,
  );
  assert.match(unmeasured.reason, /coverage\.py did not measure/);
  const notACheck = reproductionRunVerdict(assertionRun(null, ['reports/stats.py:median']), CHECK_INCIDENT);
  assert.match(notACheck.reason, /did not come from a check statement/);
  // The same script for an incident that is not a check: the location rule applies, and it fails.
  const plain = reproductionRunVerdict(assertionRun({ kind: 'assert', trivial: false, line: 4 }, ['x.py:f']), {
    ...CHECK_INCIDENT,
    check: false,
  });
  assert.match(plain.reason, /not through the incident's location jobs\/nightly\.py:main/);
});

const pass = (over: Partial<RunSummary> = {}) => run({ ranToEnd: true, exitCode: 0, ...over });
const covered = (executed: number) => ({
  changedStatements: 2,
  executedChanged: executed,
  byFile: [{ file: 'mod.py', statements: 2, executed }],
  functions: [],
});

test('gate 2: every run passes, the change ran, hidden variants pass', () => {
  const v = fixGate({
    primary: [pass({ coverage: covered(1) }), pass(), pass()],
    variants: [{ name: 'variant-1', run: pass() }],
  });
  assert.equal(v.passed, true, v.reason);
  assert.deepEqual(
    v.checks.map((c) => [c.name, c.status]),
    [
      ['tripwire', 'passed'],
      ['reproduction passes (3 runs)', 'passed'],
      ['reproduction executes the change', 'passed'],
      ['hidden variants pass (1)', 'passed'],
    ],
  );
});

test('gate 2 refusals: flaky, change not executed, overfit (without naming the variant), tripwire first', () => {
  const flaky = fixGate({ primary: [pass({ coverage: covered(1) }), keyError('mod.py'), pass()], variants: [] });
  assert.match(flaky.reason, /^Flaky: the reproduction passed 2 of 3 runs/);
  const untouched = fixGate({ primary: [pass({ coverage: covered(0) }), pass(), pass()], variants: [] });
  assert.match(untouched.reason, /without executing any of the 2 statements the patch changed/);
  const overfit = fixGate({
    primary: [pass({ coverage: covered(2) }), pass(), pass()],
    variants: [{ name: 'variant-1', run: keyError('mod.py') }],
  });
  assert.match(overfit.reason, /^Overfit: 1 of 1 hidden variants .* still fails with KeyError/);
  assert.doesNotMatch(overfit.reason, /variant-1/, 'the model is not told which variant, nor its input');
  const tripped = fixGate({
    primary: [
      pass({ coverage: covered(2) }),
      run({
        ranToEnd: null,
        tripwire: { event: 'sys._getframe', detail: null, kind: 'suspect', file: 'mod.py', func: '<module>', line: 3 },
      }),
    ],
    variants: [],
  });
  assert.match(tripped.reason, /the patched code \(mod\.py:<module> line 3\) raised sys\._getframe/);
  const noVariants = fixGate({ primary: [pass({ coverage: covered(1) })], variants: [] });
  assert.deepEqual(noVariants.checks.at(-1), {
    name: 'hidden variants pass',
    status: 'not_run',
    detail: 'no hidden variant was checked (the model gave none that reproduced the bug)',
  });
  assert.match(
    fixRunVerdict(run({ exception: { type: 'SystemExit', mro: [], message: '0', innermostRepoFrame: null } })).reason,
    /sys\.exit\(0\)/,
  );
});

function results(tests: Record<string, TestOutcome>, over: Partial<TestResults> = {}): TestResults {
  return {
    tests: Object.fromEntries(Object.entries(tests).map(([id, outcome]) => [id, { outcome, exception: null }])),
    completeness: 'complete',
    collected: Object.keys(tests).length,
    collectErrors: [],
    changedHit: [],
    exitStatus: 0,
    ...over,
  };
}

test('regression: incomplete when a test that failed before runs the change and still fails', () => {
  const before = results({ a: 'passed', b: 'failed', c: 'timeout', d: 'failed' });
  const after = results({ a: 'passed', b: 'failed', c: 'timeout', d: 'failed' }, { changedHit: ['a', 'b', 'c'] });
  const v = regressionGate(before, after, { failToPass: [] });
  assert.equal(v.status, 'failed');
  assert.match(
    v.reason,
    /^Incomplete: 2 of 2 tests that failed before the patch run the changed code and still fail: b \(failed\), c \(timeout\)/,
  );
  assert.deepEqual(v.regression.unrelatedFailures, ['d']);
  const exempt = regressionGate(before, after, { failToPass: [], knownFailing: ['b', 'c'] });
  assert.equal(exempt.status, 'passed', exempt.reason);
  assert.deepEqual(exempt.regression.exempted, ['b', 'c']);
});

test('regression: a test that failed before and has no result after was deselected: tampered, never "unrelated"', () => {
  const before = results({ a: 'passed', b: 'failed', c: 'failed' });
  // The overfit fix's config change deselected b and c: they ran no changed code after, because they did not run.
  const after = results({ a: 'passed' }, { changedHit: ['a'] });
  const v = regressionGate(before, after, { failToPass: [] });
  assert.equal(v.status, 'failed');
  assert.match(
    v.reason,
    /^Tampered: 2 of 2 tests that failed before the patch have no result after it .*: b \(missing after the patch\), c/,
  );
  assert.equal(regressionGate(before, after, { failToPass: [], knownFailing: ['b', 'c'] }).status, 'passed');
  // Still there and still failing without running the change: unrelated, as before.
  assert.equal(
    regressionGate(before, results({ a: 'passed', b: 'failed', c: 'failed' }), { failToPass: [] }).status,
    'passed',
  );
});

test('regression: a test failing before for an environmental reason is unrelated, even when it runs the change', () => {
  const before = results({ a: 'passed', net: 'failed', wrong: 'failed' });
  before.tests.net = {
    outcome: 'failed',
    exception: {
      type: 'ConnectionRefusedError',
      mro: ['ConnectionRefusedError', 'ConnectionError', 'OSError'],
      frames: [],
    },
  };
  const after = results({ a: 'passed', net: 'failed', wrong: 'failed' }, { changedHit: ['net', 'wrong'] });
  after.tests.net = before.tests.net;
  const v = regressionGate(before, after, { failToPass: [] });
  assert.match(v.reason, /^Incomplete: 1 of 1 tests .*: wrong \(failed\)/, 'the wrong-expectation test still counts');
  assert.deepEqual(v.regression.unrelatedFailures, ['net']);
  assert.equal(regressionGate(before, after, { failToPass: [], knownFailing: ['wrong'] }).status, 'passed');
});

test('regression: nothing to compare is NOT VERIFIED, never a pass; the patch breaking the run is a failure', () => {
  const none = regressionGate(
    results({}, { collected: 0, collectErrors: ['tests/test_x.py'] }),
    results({ a: 'passed' }),
    { failToPass: [] },
  );
  assert.equal(none.status, 'not_verified');
  assert.match(none.reason, /NOT VERIFIED — before the patch no test results came back \(1 files failed to collect\)/);
  const bothCut = regressionGate(
    results({ a: 'passed' }, { completeness: 'partial', problem: 'killed at the 600 s deadline' }),
    results({ a: 'passed' }, { completeness: 'partial', problem: 'killed at the 600 s deadline' }),
    { failToPass: [] },
  );
  assert.equal(bothCut.status, 'not_verified');
  const brokeIt = regressionGate(
    results({ a: 'passed' }),
    results({}, { completeness: 'missing', problem: 'exit code 2' }),
    { failToPass: [] },
  );
  assert.equal(brokeIt.status, 'failed');
  assert.match(brokeIt.reason, /did not finish with the patch \(exit code 2\), although they did before/);
  const newCollectError = regressionGate(
    results({ a: 'passed' }),
    results({ a: 'passed' }, { collectErrors: ['tests/test_y.py'] }),
    { failToPass: [] },
  );
  assert.match(newCollectError.reason, /no longer collect: tests\/test_y\.py/);
});

test('regression: a test file that did not collect before (its module did not import) must collect and pass with the patch', () => {
  const brokenImport = results({}, { collected: 0, collectErrors: ['tests/test_batching.py'] });
  const fixed = regressionGate(
    brokenImport,
    results({ 'tests/test_batching.py::test_a': 'passed', 'tests/test_batching.py::test_b': 'passed' }),
    { failToPass: [] },
  );
  assert.equal(fixed.status, 'passed', fixed.reason);
  assert.match(
    fixed.reason,
    /no test collected \(1 files failed to collect: tests\/test_batching\.py\); with it they collect and all 2 of their tests pass/,
  );
  assert.deepEqual(fixed.regression.collectToPass, { count: 2, stillFailing: [] });
  const half = regressionGate(
    brokenImport,
    results({ 'tests/test_batching.py::test_a': 'passed', 'tests/test_batching.py::test_b': 'failed' }),
    { failToPass: [] },
  );
  assert.equal(half.status, 'failed');
  assert.match(half.reason, /1 of 2 of their tests do not pass: tests\/test_batching\.py::test_b/);
  // Beside tests that did collect: the newly collected ones are held to passing too.
  const beside = regressionGate(
    results({ 'tests/test_other.py::test_ok': 'passed' }, { collectErrors: ['tests/test_batching.py'] }),
    results({ 'tests/test_other.py::test_ok': 'passed', 'tests/test_batching.py::test_a': 'error' }),
    { failToPass: [] },
  );
  assert.equal(beside.status, 'failed');
  assert.match(beside.reason, /1 of 1 tests in files that failed to collect before the patch do not pass after it/);
});

test('fail-to-pass candidates compare normalised frames (tests that import through ..)', () => {
  const before: TestResults = {
    ...results({}),
    tests: {
      't::one': {
        outcome: 'failed',
        exception: {
          type: 'IndexError',
          mro: ['IndexError', 'LookupError', 'Exception'],
          frames: [
            { file: '/workspace/tests/test_batching.py', func: 'test_one' },
            { file: '/workspace/tests/../exporter/batching.py', func: 'batch_heads' },
          ],
        },
      },
    },
  };
  assert.deepEqual(
    failToPassCandidates(before, {
      type: 'IndexError',
      location: { file: 'exporter/batching.py', func: 'batch_heads' },
    }),
    ['t::one'],
  );
});

test("coverage.py measures the runs a gate reads it from: all at gate 1 for a failed check, else the first; at gate 2 the primary's first", () => {
  const primary = { role: 'primary' as const, repeats: 3 };
  const variant = { role: 'variant' as const, repeats: 3 };
  assert.equal(coverageRuns(1, primary, true), 3, 'the assertion rule reads every run');
  assert.equal(coverageRuns(1, variant, true), 3, 'a variant is judged by the same rule');
  assert.equal(coverageRuns(1, primary, false), 1, 'read by no rule: the first run is kept as evidence');
  assert.equal(coverageRuns(2, primary), 1, 'gate 2 reads the first run with the fix');
  assert.equal(coverageRuns(2, { role: 'variant', repeats: 1 }), 0, "no variant's coverage is read");
});

test("pytest's own failure at a check line (DID NOT RAISE at `with pytest.raises`) is a failed check; the script's AssertionError or Failed reproduces it", () => {
  const log = fs.readFileSync(
    path.join(import.meta.dirname, '..', 'fixtures', 'repos', 'billing-amounts', 'incident.log'),
    'utf8',
  );
  const tb = parseTraceback(log);
  const frames: LocatedFrame[] = (tb?.frames ?? []).map((f) => ({
    ...f,
    repoPath: f.file,
    source: f.file === 'tests/test_amounts.py' ? 'with pytest.raises(ValueError):' : undefined,
  }));
  const c = classifyError({ errorLog: log, traceback: tb, frames, repoDefinesException: false });
  assert.equal(c.kind, 'code', c.reason);
  assert.equal(c.kind === 'code' && c.location.check, true);
  const before = classifyError({
    errorLog: log,
    traceback: tb,
    frames,
    repoDefinesException: false,
    rulesBeforeV2: true,
  });
  assert.equal(before.kind, 'unclassified', 'recorded before classify-v2, it replays unclassified');
  const incident: IncidentSignature = {
    type: 'Failed',
    location: { file: 'tests/test_amounts.py', func: 'test_negative_amount_is_refused' },
    check: true,
  };
  const scriptCheck = (type: string, mro: string[]) =>
    run({
      exception: {
        type,
        mro,
        message: 'did not raise',
        innermostRepoFrame: null,
        raisedIn: 'script',
        scriptCheck: { kind: 'raises check', trivial: false, line: 5, usesRepository: true },
      },
      coverage: {
        changedStatements: 0,
        executedChanged: 0,
        byFile: [],
        functions: ['billing/amounts.py:parse_amount'],
      },
    });
  assert.equal(
    reproductionRunVerdict(scriptCheck('AssertionError', ['AssertionError', 'Exception']), incident).rule,
    'assertion',
  );
  assert.equal(reproductionRunVerdict(scriptCheck('Failed', ['Failed', 'BaseException']), incident).rule, 'assertion');
  const other = reproductionRunVerdict(scriptCheck('ValueError', ['ValueError', 'Exception']), incident);
  assert.match(other.reason, /raised ValueError .* expected Failed/);
});
