/**
 * Incidents arrive as services and CI write them, not as Python prints them: journald, container
 * runtime and compose prefixes on every line, JSON log lines, pytest's failure report. Each must give
 * the same traceback (frames, type, message) as the plain one, and a plain one must pass untouched.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { classifyError } from '../../workflows/classify-error';
import type { LocatedFrame } from '../../workflows/classify-error';
import { FUNCTION_UNKNOWN, unwrapLog } from '../../workflows/log-unwrap';
import { causeTracebacks, parseTraceback } from '../../workflows/traceback';
import { incidentFingerprint } from '../../workflows/fingerprint';
import { functionAtLine, locateInRepo } from '../../activities/frame-location';

const PLAIN = [
  'Traceback (most recent call last):',
  '  File "/srv/billing/jobs/../billing/invoices.py", line 42, in close_month',
  '    total = sum(line.amount for line in lines) / len(lines)',
  '            ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~^~~~~~~~~~~~',
  '  File "/srv/billing/.venv/lib/python3.11/site-packages/sqlalchemy/orm/query.py", line 2901, in __iter__',
  '    return self._iter().__iter__()',
  '  File "/srv/billing/billing/rounding.py", line 7, in to_cents',
  '    return int(amount * 100) // count',
  'ZeroDivisionError: integer division or modulo by zero',
];
const EXPECTED = parseTraceback(PLAIN.join('\n'));

/** Each line with its own clock: the prefixes differ in their digits, as real ones do. */
const stamped = (lines: string[], prefix: (i: number) => string) => lines.map((l, i) => `${prefix(i)}${l}`);

test('a plain traceback is returned exactly as given', () => {
  const text = `job started\n${PLAIN.join('\n')}\n`;
  assert.equal(unwrapLog(text), text);
  assert.equal(EXPECTED?.frames.length, 3);
});

test('journald, the container runtime (CRI) and compose prefixes: the same traceback as the plain one', () => {
  const forms: Record<string, string[]> = {
    journald: stamped(PLAIN, (i) => `Nov 22 06:00:${String(4 + i).padStart(2, '0')} web-3 billing-close[2211]: `),
    cri: stamped(PLAIN, (i) => `2026-11-22T06:00:04.${1234567 * (i + 1)}Z stderr F `),
    compose: stamped(PLAIN, () => 'billing-worker-1  | '),
    kubectl: stamped(PLAIN, (i) => `[pod/billing-7d9f8b6c4-x2k9q/worker] 2026-11-22 06:00:0${i % 10},${100 + i} `),
  };
  for (const [name, lines] of Object.entries(forms)) {
    const log = [`${lines[0]?.slice(0, 20)} starting monthly close`, ...lines].join('\n');
    assert.deepEqual(parseTraceback(log), EXPECTED, name);
  }
});

test("another source's lines interleaved after the traceback began are dropped; earlier lines of the log are kept", () => {
  const lines = stamped(PLAIN, () => 'billing-worker-1  | ');
  lines.splice(3, 0, 'postgres-1        | LOG:  checkpoint starting: time');
  lines.splice(6, 0, 'billing-api-1     | GET /health 200');
  const log = ['postgres-1        | LOG:  database system is ready', ...lines].join('\n');
  assert.deepEqual(parseTraceback(log), EXPECTED);
  assert.match(unwrapLog(log), /^postgres-1 {8}\| LOG: {2}database system is ready\n/);
});

test('a message on the Traceback line itself, the frames below it unprefixed: the traceback still parses', () => {
  const log = [`2026-11-22 06:00:04,512 ERROR billing.close: month close failed ${PLAIN[0]}`, ...PLAIN.slice(1)].join(
    '\n',
  );
  assert.deepEqual(parseTraceback(log), EXPECTED);
});

test("Python 3.11's exception group (as it prints one): the sub-exception, its frames, is the incident", () => {
  const log = [
    '  + Exception Group Traceback (most recent call last):',
    '  |   File "/srv/imports/imports/batch.py", line 13, in <module>',
    '  |     main()',
    '  |   File "/srv/imports/imports/batch.py", line 11, in main',
    '  |     raise ExceptionGroup("batch failed", errors)',
    '  | ExceptionGroup: batch failed (1 sub-exception)',
    '  +-+---------------- 1 ----------------',
    '    | Traceback (most recent call last):',
    '    |   File "/srv/imports/imports/batch.py", line 8, in main',
    '    |     f(k)',
    '    |   File "/srv/imports/imports/batch.py", line 2, in f',
    '    |     return {"a": 1}[x]',
    '    |            ~~~~~~~~^^^',
    "    | KeyError: 'b'",
    '    +------------------------------------',
  ].join('\n');
  assert.deepEqual(parseTraceback(log), {
    frames: [
      { file: '/srv/imports/imports/batch.py', line: 8, func: 'main' },
      { file: '/srv/imports/imports/batch.py', line: 2, func: 'f' },
    ],
    exceptionType: 'KeyError',
    message: "'b'",
  });
});

/** loguru's `logger.exception` with backtrace and diagnose on (loguru 0.7.3, as it printed it). */
const LOGURU =
  '2026-12-07 01:05:39.227 | ERROR    | __main__:main:12 - batch failed\nTraceback (most recent call last):\n\n  File "/srv/calc/app_loguru.py", line 14, in <module>\n    main()\n    \u2514 <function main at 0x7f01db8f0720>\n\n> File "/srv/calc/app_loguru.py", line 10, in main\n    ratios([(1, 2), (3, 0)])\n    \u2514 <function ratios at 0x7f01dadd6ca0>\n\n  File "/srv/calc/calc/ops.py", line 6, in ratios\n    return [ratio(a, b) for a, b in pairs]\n            \u2502                       \u2514 [(1, 2), (3, 0)]\n            \u2514 <function ratio at 0x7f01dadd6c00>\n\n  File "/srv/calc/calc/ops.py", line 6, in <listcomp>\n    return [ratio(a, b) for a, b in pairs]\n            \u2502     \u2502  \u2502      \u2502  \u2514 0\n            \u2502     \u2502  \u2502      \u2514 3\n            \u2502     \u2502  \u2514 0\n            \u2502     \u2514 3\n            \u2514 <function ratio at 0x7f01dadd6c00>\n\n  File "/srv/calc/calc/ops.py", line 2, in ratio\n    return a / b\n           \u2502   \u2514 0\n           \u2514 3\n\nZeroDivisionError: division by zero\n';
/** rich's `traceback.install()` (rich 15, as it printed it). */
const RICH =
  '\u256d\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500 Traceback (most recent call last) \u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u256e\n\u2502 /srv/calc/app_rich.py:9 in <module>                                                              \u2502\n\u2502                                                                                                  \u2502\n\u2502    6 def main():                                                                                 \u2502\n\u2502    7 \u2502   ratios([(1, 2), (3, 0)])                                                                \u2502\n\u2502    8                                                                                             \u2502\n\u2502 \u2771  9 main()                                                                                      \u2502\n\u2502   10                                                                                             \u2502\n\u2502                                                                                                  \u2502\n\u2502 /srv/calc/app_rich.py:7 in main                                                                  \u2502\n\u2502                                                                                                  \u2502\n\u2502    4 from calc.ops import ratios                                                                 \u2502\n\u2502    5                                                                                             \u2502\n\u2502    6 def main():                                                                                 \u2502\n\u2502 \u2771  7 \u2502   ratios([(1, 2), (3, 0)])                                                                \u2502\n\u2502    8                                                                                             \u2502\n\u2502    9 main()                                                                                      \u2502\n\u2502   10                                                                                             \u2502\n\u2502                                                                                                  \u2502\n\u2502 /srv/calc/calc/ops.py:6 in ratios                                                                \u2502\n\u2502                                                                                                  \u2502\n\u2502   3                                                                                              \u2502\n\u2502   4                                                                                              \u2502\n\u2502   5 def ratios(pairs):                                                                           \u2502\n\u2502 \u2771 6 \u2502   return [ratio(a, b) for a, b in pairs]                                                   \u2502\n\u2502   7                                                                                              \u2502\n\u2502                                                                                                  \u2502\n\u2502 /srv/calc/calc/ops.py:6 in <listcomp>                                                            \u2502\n\u2502                                                                                                  \u2502\n\u2502   3                                                                                              \u2502\n\u2502   4                                                                                              \u2502\n\u2502   5 def ratios(pairs):                                                                           \u2502\n\u2502 \u2771 6 \u2502   return [ratio(a, b) for a, b in pairs]                                                   \u2502\n\u2502   7                                                                                              \u2502\n\u2502                                                                                                  \u2502\n\u2502 /srv/calc/calc/ops.py:2 in ratio                                                                 \u2502\n\u2502                                                                                                  \u2502\n\u2502   1 def ratio(a, b):                                                                             \u2502\n\u2502 \u2771 2 \u2502   return a / b                                                                             \u2502\n\u2502   3                                                                                              \u2502\n\u2502   4                                                                                              \u2502\n\u2502   5 def ratios(pairs):                                                                           \u2502\n\u2570\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u256f\nZeroDivisionError: division by zero\n';

test("loguru's and rich's tracebacks: the same frames and exception as Python's own", () => {
  const named = (app: string, outer: number, inner: number) => ({
    frames: [
      { file: `/srv/calc/${app}.py`, line: outer, func: '<module>' },
      { file: `/srv/calc/${app}.py`, line: inner, func: 'main' },
      { file: '/srv/calc/calc/ops.py', line: 6, func: 'ratios' },
      { file: '/srv/calc/calc/ops.py', line: 6, func: '<listcomp>' },
      { file: '/srv/calc/calc/ops.py', line: 2, func: 'ratio' },
    ],
    exceptionType: 'ZeroDivisionError',
    message: 'division by zero',
  });
  assert.deepEqual(parseTraceback(LOGURU), named('app_loguru', 14, 10));
  assert.deepEqual(parseTraceback(RICH), named('app_rich', 9, 7));
});

/** Python 3.13 with FORCE_COLOR (as it printed it), and pytest --color=yes (pytest 9, as it printed it). */
const COLOURED_313 =
  'Traceback (most recent call last):\n  File \u001b[35m"/srv/billing/job.py"\u001b[0m, line \u001b[35m3\u001b[0m, in \u001b[35m<module>\u001b[0m\n    \u001b[31mclose_month\u001b[0m\u001b[1;31m([{"amount": 10, "currency": "EUR"}, {"amount": 5, "currency": "usd"}])\u001b[0m\n    \u001b[31m~~~~~~~~~~~\u001b[0m\u001b[1;31m^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\u001b[0m\n  File \u001b[35m"/srv/billing/billing/invoices.py"\u001b[0m, line \u001b[35m5\u001b[0m, in \u001b[35mclose_month\u001b[0m\n    return [round(line["amount"] * \u001b[31mRATES\u001b[0m\u001b[1;31m[line["currency"]]\u001b[0m, 2) for line in lines]\n                                   \u001b[31m~~~~~\u001b[0m\u001b[1;31m^^^^^^^^^^^^^^^^^^\u001b[0m\n\u001b[1;35mKeyError\u001b[0m: \u001b[35m\'usd\'\u001b[0m\n';
const COLOURED_PYTEST =
  '============================= test session starts ==============================\u001b[0m\nplatform linux -- Python 3.11.7, pytest-9.2.0, pluggy-1.7.0\nrootdir: /home/runner/work/latency-report\ncollected 10 items\n\ntests/test_stats.py \u001b[32m.\u001b[0m\u001b[32m.\u001b[0m\u001b[32m.\u001b[0m\u001b[31mF\u001b[0m\u001b[31mF\u001b[0m\u001b[31mF\u001b[0m\u001b[31mF\u001b[0m\u001b[32m.\u001b[0m\u001b[32m.\u001b[0m\u001b[32m.\u001b[0m\u001b[31m                                           [100%]\u001b[0m\n\n=================================== FAILURES ===================================\n\u001b[31m\u001b[1m___________________________ test_median[values3-1.5] ___________________________\u001b[0m\n\nvalues = [1, 2], expected = 1.5\n\n    \u001b[0m\u001b[37m@pytest\u001b[39;49;00m.mark.parametrize(\u001b[90m\u001b[39;49;00m\n        \u001b[33m"\u001b[39;49;00m\u001b[33mvalues, expected\u001b[39;49;00m\u001b[33m"\u001b[39;49;00m,\u001b[90m\u001b[39;49;00m\n        [\u001b[90m\u001b[39;49;00m\n            ([\u001b[94m5\u001b[39;49;00m], \u001b[94m5\u001b[39;49;00m),\u001b[90m\u001b[39;49;00m\n            ([\u001b[94m3\u001b[39;49;00m, \u001b[94m1\u001b[39;49;00m, \u001b[94m2\u001b[39;49;00m], \u001b[94m2\u001b[39;49;00m),\u001b[90m\u001b[39;49;00m\n            ([\u001b[94m9\u001b[39;49;00m, \u001b[94m7\u001b[39;49;00m, \u001b[94m8\u001b[39;49;00m, \u001b[94m6\u001b[39;49;00m, \u001b[94m5\u001b[39;49;00m], \u001b[94m7\u001b[39;49;00m),\u001b[90m\u001b[39;49;00m\n            ([\u001b[94m1\u001b[39;49;00m, \u001b[94m2\u001b[39;49;00m], \u001b[94m1.5\u001b[39;49;00m),\u001b[90m\u001b[39;49;00m\n            ([\u001b[94m4\u001b[39;49;00m, \u001b[94m1\u001b[39;49;00m, \u001b[94m3\u001b[39;49;00m, \u001b[94m2\u001b[39;49;00m], \u001b[94m2.5\u001b[39;49;00m),\u001b[90m\u001b[39;49;00m\n            ([\u001b[94m10\u001b[39;49;00m, \u001b[94m20\u001b[39;49;00m, \u001b[94m30\u001b[39;49;00m, \u001b[94m40\u001b[39;49;00m, \u001b[94m50\u001b[39;49;00m, \u001b[94m60\u001b[39;49;00m], \u001b[94m35\u001b[39;49;00m),\u001b[90m\u001b[39;49;00m\n            ([\u001b[94m2\u001b[39;49;00m, \u001b[94m2\u001b[39;49;00m, \u001b[94m4\u001b[39;49;00m, \u001b[94m4\u001b[39;49;00m], \u001b[94m3\u001b[39;49;00m),\u001b[90m\u001b[39;49;00m\n        ],\u001b[90m\u001b[39;49;00m\n    )\u001b[90m\u001b[39;49;00m\n    \u001b[94mdef\u001b[39;49;00m\u001b[90m \u001b[39;49;00m\u001b[92mtest_median\u001b[39;49;00m(values, expected):\u001b[90m\u001b[39;49;00m\n>       \u001b[94massert\u001b[39;49;00m median(values) == expected\u001b[90m\u001b[39;49;00m\n\u001b[1m\u001b[31mE       assert 2 == 1.5\u001b[0m\n\u001b[1m\u001b[31mE        +  where 2 = median([1, 2])\u001b[0m\n\n\u001b[1m\u001b[31mtests/test_stats.py\u001b[0m:24: AssertionError\n\u001b[31m\u001b[1m___________________________ test_median[values4-2.5] ___________________________\u001b[0m\n\nvalues = [4, 1, 3, 2], expected = 2.5\n\n    \u001b[0m\u001b[37m@pytest\u001b[39;49;00m.mark.parametrize(\u001b[90m\u001b[39;49;00m\n        \u001b[33m"\u001b[39;49;00m\u001b[33mvalues, expected\u001b[39;49;00m\u001b[33m"\u001b[39;49;00m,\u001b[90m\u001b[39;49;00m\n        [\u001b[90m\u001b[39;49;00m\n            ([\u001b[94m5\u001b[39;49;00m], \u001b[94m5\u001b[39;49;00m),\u001b[90m\u001b[39;49;00m\n            ([\u001b[94m3\u001b[39;49;00m, \u001b[94m1\u001b[39;49;00m, \u001b[94m2\u001b[39;49;00m], \u001b[94m2\u001b[39;49;00m),\u001b[90m\u001b[39;49;00m\n            ([\u001b[94m9\u001b[39;49;00m, \u001b[94m7\u001b[39;49;00m, \u001b[94m8\u001b[39;49;00m, \u001b[94m6\u001b[39;49;00m, \u001b[94m5\u001b[39;49;00m], \u001b[94m7\u001b[39;49;00m),\u001b[90m\u001b[39;49;00m\n            ([\u001b[94m1\u001b[39;49;00m, \u001b[94m2\u001b[39;49;00m], \u001b[94m1.5\u001b[39;49;00m),\u001b[90m\u001b[39;49;00m\n            ([\u001b[94m4\u001b[39;49;00m, \u001b[94m1\u001b[39;49;00m, \u001b[94m3\u001b[39;49;00m, \u001b[94m2\u001b[39;49;00m], \u001b[94m2.5\u001b[39;49;00m),\u001b[90m\u001b[39;49;00m\n            ([\u001b[94m10\u001b[39;49;00m, \u001b[94m20\u001b[39;49;00m, \u001b[94m30\u001b[39;49;00m, \u001b[94m40\u001b[39;49;00m, \u001b[94m50\u001b[39;49;00m, \u001b[94m60\u001b[39;49;00m], \u001b[94m35\u001b[39;49;00m),\u001b[90m\u001b[39;49;00m\n            ([\u001b[94m2\u001b[39;49;00m, \u001b[94m2\u001b[39;49;00m, \u001b[94m4\u001b[39;49;00m, \u001b[94m4\u001b[39;49;00m], \u001b[94m3\u001b[39;49;00m),\u001b[90m\u001b[39;49;00m\n        ],\u001b[90m\u001b[39;49;00m\n    )\u001b[90m\u001b[39;49;00m\n    \u001b[94mdef\u001b[39;49;00m\u001b[90m \u001b[39;49;00m\u001b[92mtest_median\u001b[39;49;00m(values, expected):\u001b[90m\u001b[39;49;00m\n>       \u001b[94massert\u001b[39;49;00m median(values) == expected\u001b[90m\u001b[39;49;00m\n\u001b[1m\u001b[31mE       assert 3 == 2.5\u001b[0m\n\u001b[1m\u001b[31mE        +  where 3 = median([4, 1, 3, 2])\u001b[0m\n\n\u001b[1m\u001b[31mtests/test_stats.py\u001b[0m:24: AssertionError\n\u001b[31m\u001b[1m___________________________ test_median[values5-35] ____________________________\u001b[0m\n\nvalues = [10, 20, 30, 40, 50, 60], expected = 35\n\n    \u001b[0m\u001b[37m@pytest\u001b[39;49;00m.mark.parametrize(\u001b[90m\u001b[39;49;00m\n        \u001b[33m"\u001b[39;49;00m\u001b[33mvalues, expected\u001b[39;49;00m\u001b[33m"\u001b[39;49;00m,\u001b[90m\u001b[39;49;00m\n        [\u001b[90m\u001b[39;49;00m\n            ([\u001b[94m5\u001b[39;49;00m], \u001b[94m5\u001b[39;49;00m),\u001b[90m\u001b[39;49;00m\n            ([\u001b[94m3\u001b[39;49;00m, \u001b[94m1\u001b[39;49;00m, \u001b[94m2\u001b[39;49;00m], \u001b[94m2\u001b[39;49;00m),\u001b[90m\u001b[39;49;00m\n            ([\u001b[94m9\u001b[39;49;00m, \u001b[94m7\u001b[39;49;00m, \u001b[94m8\u001b[39;49;00m, \u001b[94m6\u001b[39;49;00m, \u001b[94m5\u001b[39;49;00m], \u001b[94m7\u001b[39;49;00m),\u001b[90m\u001b[39;49;00m\n            ([\u001b[94m1\u001b[39;49;00m, \u001b[94m2\u001b[39;49;00m], \u001b[94m1.5\u001b[39;49;00m),\u001b[90m\u001b[39;49;00m\n            ([\u001b[94m4\u001b[39;49;00m, \u001b[94m1\u001b[39;49;00m, \u001b[94m3\u001b[39;49;00m, \u001b[94m2\u001b[39;49;00m], \u001b[94m2.5\u001b[39;49;00m),\u001b[90m\u001b[39;49;00m\n            ([\u001b[94m10\u001b[39;49;00m, \u001b[94m20\u001b[39;49;00m, \u001b[94m30\u001b[39;49;00m, \u001b[94m40\u001b[39;49;00m, \u001b[94m50\u001b[39;49;00m, \u001b[94m60\u001b[39;49;00m], \u001b[94m35\u001b[39;49;00m),\u001b[90m\u001b[39;49;00m\n            ([\u001b[94m2\u001b[39;49;00m, \u001b[94m2\u001b[39;49;00m, \u001b[94m4\u001b[39;49;00m, \u001b[94m4\u001b[39;49;00m], \u001b[94m3\u001b[39;49;00m),\u001b[90m\u001b[39;49;00m\n        ],\u001b[90m\u001b[39;49;00m\n    )\u001b[90m\u001b[39;49;00m\n    \u001b[94mdef\u001b[39;49;00m\u001b[90m \u001b[39;49;00m\u001b[92mtest_median\u001b[39;49;00m(values, expected):\u001b[90m\u001b[39;49;00m\n>       \u001b[94massert\u001b[39;49;00m median(values) == expected\u001b[90m\u001b[39;49;00m\n\u001b[1m\u001b[31mE       assert 40 == 35\u001b[0m\n\u001b[1m\u001b[31mE        +  where 40 = median([10, 20, 30, 40, 50, 60])\u001b[0m\n\n\u001b[1m\u001b[31mtests/test_stats.py\u001b[0m:24: AssertionError\n\u001b[31m\u001b[1m____________________________ test_median[values6-3] ____________________________\u001b[0m\n\nvalues = [2, 2, 4, 4], expected = 3\n\n    \u001b[0m\u001b[37m@pytest\u001b[39;49;00m.mark.parametrize(\u001b[90m\u001b[39;49;00m\n        \u001b[33m"\u001b[39;49;00m\u001b[33mvalues, expected\u001b[39;49;00m\u001b[33m"\u001b[39;49;00m,\u001b[90m\u001b[39;49;00m\n        [\u001b[90m\u001b[39;49;00m\n            ([\u001b[94m5\u001b[39;49;00m], \u001b[94m5\u001b[39;49;00m),\u001b[90m\u001b[39;49;00m\n            ([\u001b[94m3\u001b[39;49;00m, \u001b[94m1\u001b[39;49;00m, \u001b[94m2\u001b[39;49;00m], \u001b[94m2\u001b[39;49;00m),\u001b[90m\u001b[39;49;00m\n            ([\u001b[94m9\u001b[39;49;00m, \u001b[94m7\u001b[39;49;00m, \u001b[94m8\u001b[39;49;00m, \u001b[94m6\u001b[39;49;00m, \u001b[94m5\u001b[39;49;00m], \u001b[94m7\u001b[39;49;00m),\u001b[90m\u001b[39;49;00m\n            ([\u001b[94m1\u001b[39;49;00m, \u001b[94m2\u001b[39;49;00m], \u001b[94m1.5\u001b[39;49;00m),\u001b[90m\u001b[39;49;00m\n            ([\u001b[94m4\u001b[39;49;00m, \u001b[94m1\u001b[39;49;00m, \u001b[94m3\u001b[39;49;00m, \u001b[94m2\u001b[39;49;00m], \u001b[94m2.5\u001b[39;49;00m),\u001b[90m\u001b[39;49;00m\n            ([\u001b[94m10\u001b[39;49;00m, \u001b[94m20\u001b[39;49;00m, \u001b[94m30\u001b[39;49;00m, \u001b[94m40\u001b[39;49;00m, \u001b[94m50\u001b[39;49;00m, \u001b[94m60\u001b[39;49;00m], \u001b[94m35\u001b[39;49;00m),\u001b[90m\u001b[39;49;00m\n            ([\u001b[94m2\u001b[39;49;00m, \u001b[94m2\u001b[39;49;00m, \u001b[94m4\u001b[39;49;00m, \u001b[94m4\u001b[39;49;00m], \u001b[94m3\u001b[39;49;00m),\u001b[90m\u001b[39;49;00m\n        ],\u001b[90m\u001b[39;49;00m\n    )\u001b[90m\u001b[39;49;00m\n    \u001b[94mdef\u001b[39;49;00m\u001b[90m \u001b[39;49;00m\u001b[92mtest_median\u001b[39;49;00m(values, expected):\u001b[90m\u001b[39;49;00m\n>       \u001b[94massert\u001b[39;49;00m median(values) == expected\u001b[90m\u001b[39;49;00m\n\u001b[1m\u001b[31mE       assert 4 == 3\u001b[0m\n\u001b[1m\u001b[31mE        +  where 4 = median([2, 2, 4, 4])\u001b[0m\n\n\u001b[1m\u001b[31mtests/test_stats.py\u001b[0m:24: AssertionError\n\u001b[36m\u001b[1m=========================== short test summary info ============================\u001b[0m\n\u001b[31mFAILED\u001b[0m tests/test_stats.py::\u001b[1mtest_median[values3-1.5]\u001b[0m - assert 2 == 1.5\n\u001b[31mFAILED\u001b[0m tests/test_stats.py::\u001b[1mtest_median[values4-2.5]\u001b[0m - assert 3 == 2.5\n\u001b[31mFAILED\u001b[0m tests/test_stats.py::\u001b[1mtest_median[values5-35]\u001b[0m - assert 40 == 35\n\u001b[31mFAILED\u001b[0m tests/test_stats.py::\u001b[1mtest_median[values6-3]\u001b[0m - assert 4 == 3\n\u001b[31m========================= \u001b[31m\u001b[1m4 failed\u001b[0m, \u001b[32m6 passed\u001b[0m\u001b[31m in 0.05s\u001b[0m\u001b[31m ==========================\u001b[0m\n';

test('colour is taken out: a Python 3.13 coloured traceback and a coloured pytest report parse as the plain ones', () => {
  assert.ok(COLOURED_313.includes('\u001b[35m') && COLOURED_PYTEST.includes('\u001b[31m'), 'the samples are coloured');
  assert.deepEqual(parseTraceback(COLOURED_313), {
    frames: [
      { file: '/srv/billing/job.py', line: 3, func: '<module>' },
      { file: '/srv/billing/billing/invoices.py', line: 5, func: 'close_month' },
    ],
    exceptionType: 'KeyError',
    message: "'usd'",
  });
  assert.deepEqual(parseTraceback(COLOURED_PYTEST), {
    frames: [{ file: 'tests/test_stats.py', line: 24, func: 'test_median' }],
    exceptionType: 'AssertionError',
    message: 'assert 4 == 3',
  });
});

test('a chained traceback behind prefixes: the last exception is the incident, the earlier one its cause', () => {
  const chain = [
    'Traceback (most recent call last):',
    '  File "/srv/billing/billing/rates.py", line 12, in rate_for',
    '    return RATES[code]',
    "KeyError: 'eur'",
    '',
    'During handling of the above exception, another exception occurred:',
    '',
    ...PLAIN,
  ];
  const log = stamped(chain, (i) => `Nov 22 06:00:0${i % 10} web-3 billing-close[2211]: `).join('\n');
  assert.deepEqual(parseTraceback(log), EXPECTED);
  assert.deepEqual(
    causeTracebacks(log).map((t) => t.exceptionType),
    ['KeyError'],
  );
});

test('a JSON log line whose field holds the traceback (structlog, python-json-logger, nested too)', () => {
  const flat = JSON.stringify({ level: 'error', event: 'close failed', exc_info: PLAIN.join('\n') });
  const nested = JSON.stringify({ ts: 1763791204.1, error: { kind: 'ZeroDivisionError', stack: PLAIN.join('\n') } });
  for (const line of [flat, `2026-11-22T06:00:04Z app ${nested}`]) {
    assert.deepEqual(parseTraceback(`{"level":"info","event":"start"}\n${line}\n`), EXPECTED, line.slice(0, 40));
  }
});

const PYTEST_LONG = `============================= test session starts ==============================
collected 12 items

tests/test_invoices.py ..F.........                                      [100%]

=================================== FAILURES ===================================
______________________________ test_close_empty ________________________________

    def test_close_empty():
>       close_month([])

tests/test_invoices.py:31: 
_ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _

lines = []

    def close_month(lines):
>       total = sum(line.amount for line in lines) / len(lines)
E       ZeroDivisionError: division by zero

billing/invoices.py:42: ZeroDivisionError
=========================== short test summary info ============================
FAILED tests/test_invoices.py::test_close_empty - ZeroDivisionError: division by zero
========================= 1 failed, 11 passed in 0.31s =========================
`;

const PYTEST_SHORT = `=================================== FAILURES ===================================
______________________________ test_rounding ___________________________________
tests/test_rounding.py:9: in test_rounding
    assert to_cents(Decimal("0.105"), 1) == 11
billing/rounding.py:7: in to_cents
    return int(amount * 100) // count
E   TypeError: unsupported operand type(s) for *: 'decimal.Decimal' and 'float'
=========================== short test summary info ============================`;

test("pytest's failure report (long and short --tb): the failing test's frames, type and message", () => {
  const long = parseTraceback(PYTEST_LONG);
  assert.deepEqual(long, {
    frames: [
      { file: 'tests/test_invoices.py', line: 31, func: 'test_close_empty' },
      { file: 'billing/invoices.py', line: 42, func: 'close_month' },
    ],
    exceptionType: 'ZeroDivisionError',
    message: 'division by zero',
  });
  const short = parseTraceback(PYTEST_SHORT);
  assert.deepEqual(short, {
    frames: [
      { file: 'tests/test_rounding.py', line: 9, func: 'test_rounding' },
      { file: 'billing/rounding.py', line: 7, func: 'to_cents' },
    ],
    exceptionType: 'TypeError',
    message: "unsupported operand type(s) for *: 'decimal.Decimal' and 'float'",
  });
});

test('a CI runner prefixing every line with its clock (GitHub Actions) around a pytest report', () => {
  const lines = PYTEST_SHORT.split('\n').map((l, i) => `2026-11-22T06:00:${String(10 + i)}.${4417000 + i * 9}Z ${l}`);
  assert.deepEqual(
    parseTraceback(
      ['##[group]Run python -m pytest', ...lines, '##[error]Process completed with exit code 1.'].join('\n'),
    ),
    parseTraceback(PYTEST_SHORT),
  );
  assert.equal(parseTraceback(PYTEST_SHORT)?.exceptionType, 'TypeError');
});

test('a failed assert in a test: AssertionError with the assertion as its message; the last of several failures', () => {
  const log = `${PYTEST_LONG.split('=========================== short')[0]}___________________________ test_totals_rounded ____________________________

    def test_totals_rounded():
>       assert round_total([0.1, 0.2]) == 0.3
E       assert 0.30000000000000004 == 0.3
E        +  where 0.30000000000000004 = round_total([0.1, 0.2])

tests/test_invoices.py:58: AssertionError
`;
  assert.deepEqual(parseTraceback(log), {
    frames: [{ file: 'tests/test_invoices.py', line: 58, func: 'test_totals_rounded' }],
    exceptionType: 'AssertionError',
    message: 'assert 0.30000000000000004 == 0.3',
  });
});

test('a pytest report is classified at the repository frame, as the plain traceback is', () => {
  const files = ['billing/__init__.py', 'billing/invoices.py', 'tests/test_invoices.py'];
  const traceback = parseTraceback(PYTEST_LONG);
  const frames: LocatedFrame[] = (traceback?.frames ?? []).map((f) => ({
    ...f,
    repoPath: locateInRepo(f.file, files),
  }));
  const c = classifyError({ errorLog: PYTEST_LONG, traceback, frames, repoDefinesException: false });
  assert.equal(c.kind, 'code', c.reason);
  assert.deepEqual(c.kind === 'code' && [c.location.file, c.location.func], ['billing/invoices.py', 'close_month']);
});

test('text with no traceback in any form stays as it is, and has none', () => {
  for (const text of [
    'Nov 22 06:00:04 web-3 billing[2211]: upstream returned 503 Service Unavailable',
    '{"level":"error","msg":"Traceback (most recent call last): truncated"}',
    'tests/test_x.py:3: in test_x\n    assert f()\n',
  ]) {
    assert.equal(unwrapLog(text), text);
    assert.equal(parseTraceback(text), null, text);
  }
});

test('the fingerprint reads the unwrapped traceback: one incident however the log carried it', () => {
  const journald = stamped(PLAIN, (i) => `Nov 22 06:00:0${i} web-3 billing-close[2211]: `).join('\n');
  const json = JSON.stringify({ exc_info: PLAIN.join('\n') });
  const plain = incidentFingerprint('/repos/billing', PLAIN.join('\n'));
  assert.equal(incidentFingerprint('/repos/billing', journald), plain);
  assert.equal(incidentFingerprint('/repos/billing', json), plain);
});

test("pytest's --tb=line report: the last failure line is a one-frame traceback whose function the source names", async () => {
  const fixtures = path.join(import.meta.dirname, '..', 'fixtures');
  const gcd = parseTraceback(fs.readFileSync(path.join(fixtures, 'pytest-tb-line', 'gcd.txt'), 'utf8'));
  assert.deepEqual(
    [gcd?.exceptionType, gcd?.message, gcd?.frames],
    [
      'RecursionError',
      'maximum recursion depth exceeded',
      [{ file: '/builds/algorithms/quixbugs/python_programs/gcd.py', line: 6, func: FUNCTION_UNKNOWN }],
    ],
  );
  const sort = parseTraceback(fs.readFileSync(path.join(fixtures, 'pytest-tb-line', 'bucketsort.txt'), 'utf8'));
  assert.equal(sort?.exceptionType, 'AssertionError', 'an assert pytest explained is an AssertionError');
  assert.match(sort?.message ?? '', /^assert \[0, 0, 0, 1, 1, 2, \.\.\.\] == \[2, 2, 3, 3, 4, 5\]/);
  // The activity that locates frames names the function from the repository's own source.
  const repo = path.join(fixtures, 'repos', 'algorithm-programs', 'repo');
  assert.equal(await functionAtLine(repo, 'python_programs/gcd.py', 6), 'gcd');
  assert.equal(await functionAtLine(repo, 'python_testcases/test_bucketsort.py', 15), 'test_bucketsort');
  assert.equal(await functionAtLine(repo, 'python_testcases/test_bucketsort.py', 11), '<module>');
});
