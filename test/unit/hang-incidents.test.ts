/**
 * Hang incidents: a program that did not finish and was stopped, as real tools print it (each log
 * under test/fixtures/hang-logs and looping-programs/incident.log is real output of Python 3.11,
 * pytest 9 and pytest-timeout 2.4, paths moved to /srv): located where it was stopped, classified as
 * a code error marked `hang` (infra when it was waiting on the network), and held by gate 1's hang
 * rule, gate 2 and the fail-to-pass tests as the runner reported it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { classifyError } from '../../workflows/classify-error';
import type { LocatedFrame } from '../../workflows/classify-error';
import { parseTraceback } from '../../workflows/traceback';
import { reproductionGate, reproductionRunVerdict } from '../../workflows/reproduction-gate';
import { fixGate, fixRunVerdict } from '../../workflows/fix-gate';
import { failToPassCandidates } from '../../workflows/regression-gate';
import { incidentSignature, reproductionCriterion } from '../../workflows/summaries';
import { hangWatchSeconds } from '../../activities/reproduction-runs';
import { DEFAULT_LIMITS } from '../../sandbox/limits';
import type { IncidentSignature, RunSummary } from '../../workflows/incident-types';
import { runSummary } from '../support/run-summaries';

const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures');
const log = (name: string) => fs.readFileSync(path.join(FIXTURES, 'hang-logs', name), 'utf8');
const REPO_FILES = [
  'python_programs/bitcount.py',
  'billing/client.py',
  'net.py',
  'run.py',
  'mt.py',
  'reports/summary.py',
  'wsgi.py',
  'wsgi2.py',
];

function classify(text: string, rulesBeforeV2 = false) {
  const traceback = parseTraceback(text);
  const frames: LocatedFrame[] = (traceback?.frames ?? []).map((f) => ({
    ...f,
    repoPath: REPO_FILES.find((r) => f.file === r || f.file.endsWith(`/${r}`)) ?? null,
  }));
  return classifyError({ errorLog: text, traceback, frames, repoDefinesException: false, rulesBeforeV2 });
}

const BITCOUNT = 'python_programs/bitcount.py:bitcount';
const HANGS: [string, string, RegExp, string?][] = [
  [
    "pytest-timeout's report (signal method), as CI printed it",
    fs.readFileSync(path.join(FIXTURES, 'repos', 'looping-programs', 'incident.log'), 'utf8'),
    /pytest-timeout stopped it \(Timeout \(>2\.0s\)/,
  ],
  ["pytest-timeout's thread-method stack dump", log('pytest-timeout-thread.txt'), /pytest-timeout stopped the test/],
  ['Ctrl-C: KeyboardInterrupt', log('keyboard-interrupt.txt'), /interrupted \(Ctrl-C or SIGINT\)/],
  ["faulthandler's dump at its timeout", log('faulthandler-timeout.txt'), /faulthandler dumped the stack/],
  ["faulthandler's dump of two threads: the main one is the last", log('faulthandler-two-threads.txt'), /faulthandler/],
  [
    "gunicorn's WORKER TIMEOUT (SystemExit from its abort handler, below the app's frames)",
    log('gunicorn-worker-timeout.txt'),
    /gunicorn's arbiter stopped the worker at its timeout/,
    'reports/summary.py:build',
  ],
];

for (const [name, text, how, where = BITCOUNT] of HANGS) {
  test(`a hang, located where it was stopped: ${name}`, () => {
    const c = classify(text);
    assert.equal(c.kind, 'code', c.reason);
    if (c.kind !== 'code') return;
    assert.equal(c.hang, true);
    assert.equal(`${c.location.file}:${c.location.func}`, where);
    assert.match(c.reason, how);
    const signature = incidentSignature(c);
    assert.equal(signature.hang, true);
    assert.ok(reproductionCriterion(signature).startsWith(`a hang in ${where}:`), reproductionCriterion(signature));
    // Recorded before the hang rules, the same incident ended unclassified, and replays so.
    assert.equal(classify(text, true).kind, 'unclassified');
  });
}

test("Celery's soft time limit and RQ's job timeout are hangs where the task was (written in their format: neither runs here without a broker)", () => {
  const task = (stopper: string[], last: string) =>
    [
      'Traceback (most recent call last):',
      '  File "/srv/algorithms/.venv/lib/python3.11/site-packages/celery/app/trace.py", line 453, in trace_task',
      '    R = retval = fun(*args, **kwargs)',
      '  File "/srv/algorithms/python_programs/bitcount.py", line 4, in bitcount',
      '    n ^= n - 1',
      ...stopper,
      last,
    ].join('\n');
  const celery = classify(
    task(
      [
        '  File "/srv/algorithms/.venv/lib/python3.11/site-packages/billiard/pool.py", line 229, in soft_timeout_sighandler',
        '    raise SoftTimeLimitExceeded()',
      ],
      'celery.exceptions.SoftTimeLimitExceeded: SoftTimeLimitExceeded()',
    ),
  );
  const rq = classify(
    task(
      [
        '  File "/srv/algorithms/.venv/lib/python3.11/site-packages/rq/timeouts.py", line 63, in handle_death_penalty',
        "    raise self._exception('Task exceeded maximum timeout value ({0} seconds)'.format(self._timeout))",
      ],
      'rq.timeouts.JobTimeoutException: Task exceeded maximum timeout value (180 seconds)',
    ),
  );
  for (const [c, how] of [
    [celery, /Celery's time limit stopped the task/],
    [rq, /RQ stopped the job at its timeout/],
  ] as const) {
    assert.equal(c.kind, 'code', c.reason);
    assert.equal(c.kind === 'code' && c.hang, true);
    assert.match(c.reason, how);
  }
});

test("the dump's frames are the main thread's, oldest first, as a traceback prints them", () => {
  const tb = parseTraceback(log('faulthandler-two-threads.txt'));
  assert.deepEqual(
    tb?.frames.slice(-2).map((f) => `${path.basename(f.file)}:${f.func}`),
    ['mt.py:<module>', 'bitcount.py:bitcount'],
  );
  assert.ok(!tb?.frames.some((f) => f.func === 'heartbeat'), 'the heartbeat thread is not the program');
});

test('a traceback printed after a dump is the incident; a dump after a traceback is', () => {
  const dump = log('faulthandler-timeout.txt');
  const traceback =
    'Traceback (most recent call last):\n  File "/srv/algorithms/run.py", line 3, in <module>\nValueError: bad n\n';
  assert.equal(parseTraceback(`${dump}\n${traceback}`)?.exceptionType, 'ValueError');
  assert.equal(parseTraceback(`${traceback}\n${dump}`)?.exceptionType, 'Hang');
});

test('stopped while waiting on the network (a socket read under urllib) is infra, not a loop to fix: Ctrl-C, and gunicorn under its abort handler', () => {
  for (const file of ['keyboard-interrupt-socket.txt', 'gunicorn-worker-timeout-socket.txt']) {
    const c = classify(log(file));
    assert.equal(c.kind, 'infra', `${file}: ${c.reason}`);
    assert.match(c.reason, /waiting in .*socket\.py:readinto, called from billing\/client\.py:fetch_rates/, file);
  }
});

// --- the gates, from constructed runs ------------------------------------------------------------
const INCIDENT: IncidentSignature = {
  type: 'Failed',
  location: { file: 'python_programs/bitcount.py', func: 'bitcount' },
  hang: true,
};

const run = runSummary;

const stopped = (innermost: string) =>
  run({
    exception: {
      type: 'OpsGuardHang',
      mro: ['OpsGuardHang', 'BaseException', 'object'],
      message: 'still running after 2 s',
      innermostRepoFrame: { file: 'python_programs/bitcount.py', func: innermost },
      raisedIn: 'repository',
    },
    hang: {
      afterSeconds: 2,
      repoStack: [
        { file: 'python_programs/bitcount.py', func: 'bitcount' },
        ...(innermost === 'bitcount' ? [] : [{ file: 'python_programs/bitcount.py', func: innermost }]),
      ],
    },
  });

test('gate 1, hang rule: stopped with the location on the stack, the same way every run wherever inside it', () => {
  const v = reproductionGate([stopped('bitcount'), stopped('step'), stopped('bitcount')], INCIDENT);
  assert.deepEqual([v.passed, v.rule], [true, 'hang'], v.reason);
  assert.match(v.reason, /still running after 2 s and was stopped inside python_programs\/bitcount\.py:bitcount/);
});

test('gate 1, hang rule refusals: it finished, it raised, it hung elsewhere, the exception was only named like ours, the deadline killed it', () => {
  const refused = (r: RunSummary) => reproductionRunVerdict(r, INCIDENT);
  assert.match(refused(run({ ranToEnd: true, exitCode: 0 })).reason, /ran to its end .* did not hang/);
  const raised = run({
    exception: {
      type: 'TypeError',
      mro: ['TypeError', 'Exception', 'BaseException', 'object'],
      message: 'bad operand',
      innermostRepoFrame: INCIDENT.location,
      raisedIn: 'repository',
    },
  });
  assert.match(refused(raised).reason, /raised TypeError .* instead of running on/);
  const elsewhere = run({
    exception: stopped('bitcount').exception,
    hang: { afterSeconds: 2, repoStack: [{ file: 'python_programs/to_base.py', func: 'to_base' }] },
  });
  assert.match(
    refused(elsewhere).reason,
    /in python_programs\/to_base\.py:to_base, and python_programs\/bitcount\.py:bitcount was not on its stack/,
  );
  // The script's own class named OpsGuardHang: the runner signed no stop, so it is an exception like any.
  const named = run({ exception: stopped('bitcount').exception });
  assert.equal(refused(named).passed, false);
  assert.match(refused(named).reason, /raised OpsGuardHang/);
  const killed = run({ timedOut: true, ranToEnd: null });
  assert.match(refused(killed).reason, /killed at its 60 s deadline: the hang watch could not stop it/);
});

test("gate 1, hang rule: the script's own timer stopping the code inside the location counts; stopping it elsewhere does not", () => {
  const ownTimer = (inside: string) =>
    run({
      exception: {
        type: 'TimeoutError',
        mro: ['TimeoutError', 'OSError', 'Exception', 'BaseException', 'object'],
        message: 'took too long',
        innermostRepoFrame: { file: 'python_programs/bitcount.py', func: inside },
        raisedIn: 'script',
        interrupted: [{ file: 'python_programs/bitcount.py', func: inside }],
      },
    });
  const v = reproductionGate([ownTimer('bitcount'), ownTimer('bitcount'), ownTimer('bitcount')], INCIDENT);
  assert.deepEqual([v.passed, v.rule], [true, 'hang'], v.reason);
  assert.match(v.reason, /the script's own TimeoutError .* inside python_programs\/bitcount\.py:bitcount/);
  assert.equal(reproductionRunVerdict(ownTimer('to_base'), INCIDENT).passed, false);
  // Raised by the script with nothing of the repository running below it: not a hang.
  const plain = run({
    exception: {
      type: 'TimeoutError',
      mro: ['TimeoutError', 'OSError', 'Exception', 'BaseException', 'object'],
      message: 'x',
      innermostRepoFrame: null,
      raisedIn: 'script',
    },
  });
  assert.match(reproductionRunVerdict(plain, INCIDENT).reason, /raised TimeoutError .* instead of running on/);
});

test('gate 2: a reproduction still stopped by the hang watch is not fixed, and a hidden variant that hangs is overfit', () => {
  assert.match(
    fixRunVerdict(stopped('bitcount')).reason,
    /^Not fixed: the reproduction still hangs: .* in python_programs\/bitcount\.py:bitcount/,
  );
  const passing = run({
    ranToEnd: true,
    exitCode: 0,
    coverage: { changedStatements: 1, executedChanged: 1, byFile: [], functions: [] },
  });
  const v = fixGate({
    primary: [passing, passing, passing],
    variants: [{ name: 'variant-1', run: stopped('bitcount') }],
  });
  assert.equal(v.passed, false);
  assert.match(v.reason, /^Overfit: 1 of 1 hidden variants .* still hang \(still running after 2 s\)/);
});

test("fail-to-pass for a hang: the tests stopped at OpsGuard's per-test deadline with the location on their stack", () => {
  const timeout = (funcs: string[]) => ({
    outcome: 'timeout' as const,
    exception: {
      type: 'OpsGuardTestTimeout',
      mro: ['OpsGuardTestTimeout', 'BaseException', 'object'],
      frames: funcs.map((f) => ({
        file: f.startsWith('test_')
          ? '/workspace/python_testcases/test_bitcount.py'
          : '/workspace/python_programs/bitcount.py',
        func: f,
      })),
    },
  });
  const before = {
    tests: {
      'python_testcases/test_bitcount.py::test_bitcount[a]': timeout(['test_bitcount', 'bitcount']),
      'python_testcases/test_bitcount.py::test_bitcount[b]': timeout(['test_bitcount', 'bitcount', 'step']),
      'python_testcases/test_other.py::test_sleep': timeout(['test_sleep']),
      'python_testcases/test_bitcount.py::test_bitcount[c]': {
        outcome: 'failed' as const,
        exception: { type: 'AssertionError', mro: ['AssertionError'], frames: [] },
      },
    },
  };
  assert.deepEqual(failToPassCandidates(before as never, INCIDENT), [
    'python_testcases/test_bitcount.py::test_bitcount[a]',
    'python_testcases/test_bitcount.py::test_bitcount[b]',
  ]);
});

test("the hang watch fires inside the run's own deadline, so the runner can still sign the stop", () => {
  assert.equal(hangWatchSeconds(undefined, DEFAULT_LIMITS), null);
  assert.equal(hangWatchSeconds(10, { ...DEFAULT_LIMITS, timeoutSeconds: 60 }), 10);
  assert.equal(hangWatchSeconds(120, { ...DEFAULT_LIMITS, timeoutSeconds: 60 }), 45);
  assert.equal(hangWatchSeconds(10, { ...DEFAULT_LIMITS, timeoutSeconds: 8 }), 3);
  assert.equal(hangWatchSeconds(10, { ...DEFAULT_LIMITS, timeoutSeconds: 2 }), 1);
});
