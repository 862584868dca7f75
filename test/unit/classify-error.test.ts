import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyError } from '../../workflows/classify-error';
import type { LocatedFrame } from '../../workflows/classify-error';
import { parseTraceback } from '../../workflows/traceback';

/** A traceback whose innermost frame is repository code (app/service.py) unless `library` is set. */
function tb(finalLine: string, opts: { library?: boolean } = {}): string {
  return [
    'Traceback (most recent call last):',
    '  File "/srv/app/main.py", line 3, in <module>',
    '    run()',
    '  File "/srv/app/app/service.py", line 10, in run',
    '    call()',
    ...(opts.library
      ? ['  File "/usr/local/lib/python3.11/site-packages/lib/x.py", line 5, in call', '    boom()']
      : []),
    finalLine,
    '',
  ].join('\n');
}

const REPO_FILES = ['main.py', 'app/service.py'];

function classify(log: string, repoDefinesException = false) {
  const traceback = parseTraceback(log);
  const frames: LocatedFrame[] = (traceback?.frames ?? []).map((f) => ({
    ...f,
    repoPath: REPO_FILES.find((r) => f.file.endsWith(`/${r}`)) ?? null,
  }));
  return classifyError({ errorLog: log, traceback, frames, repoDefinesException });
}

const INFRA: [string, string][] = [
  ['HTTP 401', tb('requests.exceptions.HTTPError: 401 Client Error: Unauthorized for url: https://api.x/v1')],
  ['HTTP 403', tb('requests.exceptions.HTTPError: 403 Client Error: Forbidden for url: https://api.x/v1')],
  ['rate limit', tb('Exception: Rate limit exceeded, retry after 30s')],
  ['429', tb('RuntimeError: upstream answered 429 Too Many Requests')],
  ['connection refused', tb('ConnectionRefusedError: [Errno 111] Connection refused')],
  [
    'requests ConnectionError',
    tb("requests.exceptions.ConnectionError: HTTPConnectionPool(host='db', port=80): Max retries exceeded", {
      library: true,
    }),
  ],
  ['timeout', tb('TimeoutError: timed out')],
  [
    'read timeout',
    tb("requests.exceptions.ReadTimeout: HTTPSConnectionPool(host='x', port=443): Read timed out.", { library: true }),
  ],
  [
    'missing credentials',
    tb('botocore.exceptions.NoCredentialsError: Unable to locate credentials', { library: true }),
  ],
  ['DNS', tb('socket.gaierror: [Errno -2] Name or service not known')],
  ['out of disk', tb("OSError: [Errno 28] No space left on device: '/var/data/out.csv'")],
  ['db connection', tb('psycopg2.OperationalError: could not connect to server: Connection refused')],
  ['absolute missing file', tb("FileNotFoundError: [Errno 2] No such file or directory: '/etc/secrets/api-key'")],
  ['no traceback, plain log', '2026-11-21 03:00:01 ERROR upstream returned 503 Service Unavailable'],
  ['no traceback, 401', 'POST /v1/orders -> 401 Unauthorized (token expired)'],
];

for (const [name, log] of INFRA) {
  test(`infra: ${name}`, () => {
    const c = classify(log);
    assert.equal(c.kind, 'infra', c.reason);
  });
}

const CODE: [string, string, boolean?][] = [
  ['ValueError', tb("ValueError: invalid literal for int() with base 10: 'abc'")],
  ['KeyError', tb("KeyError: 'user'")],
  ['KeyError whose message looks like infra', tb("KeyError: 'timeout'")],
  ['TypeError', tb('TypeError: can only concatenate str (not "int") to str')],
  ['AttributeError', tb("AttributeError: 'NoneType' object has no attribute 'id'")],
  ['IndexError', tb('IndexError: list index out of range')],
  ['relative FileNotFoundError', tb("FileNotFoundError: [Errno 2] No such file or directory: 'config/settings.yaml'")],
  ['AssertionError', tb('AssertionError: totals differ')],
  ['ZeroDivisionError', tb('ZeroDivisionError: division by zero')],
  ['RecursionError', tb('RecursionError: maximum recursion depth exceeded')],
  ['NameError', tb("NameError: name 'cfg' is not defined")],
  [
    'UnboundLocalError',
    tb("UnboundLocalError: cannot access local variable 'x' where it is not associated with a value"),
  ],
  ['the repo own exception', tb('app.errors.InvoiceMismatch: invoice 42 does not balance'), true],
  ['KeyError raised inside a library called from repo code', tb("KeyError: 'id'", { library: true })],
  ['RuntimeError the repository raised itself', tb('RuntimeError: dictionary changed size during iteration')],
  ['Exception the repository raised itself', tb('Exception: invoice 42 has no lines')],
  [
    "a library's TypeError subclass, raised through repo code",
    tb("numpy.core._exceptions.UFuncTypeError: Cannot cast ufunc 'add' output", { library: true }),
  ],
];

for (const [name, log, ownClass] of CODE) {
  test(`code: ${name}`, () => {
    const c = classify(log, ownClass ?? false);
    assert.equal(c.kind, 'code', c.reason);
    if (c.kind === 'code') assert.equal(c.location.file, 'app/service.py');
  });
}

test('unclassified: an unknown exception type the repo does not define', () => {
  const c = classify(tb('somelib.WeirdThing: something odd'));
  assert.equal(c.kind, 'unclassified');
  assert.match(c.reason, /neither a known code error nor an exception class the repository defines/);
});

test('unclassified: RuntimeError raised inside a library: whose fault it is, the type does not say', () => {
  const c = classify(tb('RuntimeError: Event loop is closed', { library: true }));
  assert.equal(c.kind, 'unclassified', c.reason);
});

test('infra, not code: a generic exception the repository raised that names an infra failure', () => {
  const c = classify(tb('RuntimeError: payment gateway answered 503 Service Unavailable'));
  assert.equal(c.kind, 'infra', c.reason);
});

test('unclassified: a code error raised from no file of the repository', () => {
  const log = [
    'Traceback (most recent call last):',
    '  File "/usr/lib/python3.11/json/decoder.py", line 3, in decode',
    "KeyError: 'x'",
  ].join('\n');
  const c = classify(log);
  assert.equal(c.kind, 'unclassified');
  assert.match(c.reason, /not raised through any file of the repository/);
});

test('unclassified: a log with neither a traceback nor an infra signal', () => {
  const c = classify('the nightly job printed nothing and exited');
  assert.equal(c.kind, 'unclassified');
  assert.match(c.reason, /no Python traceback/);
});

test('traceback parsing takes the last exception of a chain and keeps qualified names', () => {
  const log = `${tb("KeyError: 'a'")}\nDuring handling of the above exception, another exception occurred:\n\n${tb('requests.exceptions.ConnectionError: refused')}`;
  const parsed = parseTraceback(log);
  assert.equal(parsed?.exceptionType, 'requests.exceptions.ConnectionError');
  assert.equal(parsed?.message, 'refused');
  assert.equal(parsed?.frames.length, 2);
  assert.deepEqual(parsed?.frames[1], { file: '/srv/app/app/service.py', line: 10, func: 'run' });
});

test('a callback through re.sub, a decorator-gen frame and a venv: the innermost repository frame counts', async () => {
  const { locateInRepo } = await import('../../activities/frame-location');
  const log = [
    'Traceback (most recent call last):',
    '  File "/srv/app/.venv/bin/render", line 8, in <module>',
    '    sys.exit(main())',
    '  File "<decorator-gen-2>", line 2, in main',
    '  File "/srv/app/.venv/lib/python3.11/site-packages/decorator.py", line 232, in fun',
    '    return caller(func, *(extras + args), **kw)',
    '  File "/srv/app/templating/render.py", line 14, in main',
    '    return PLACEHOLDER.sub(_substitute, text)',
    '  File "/usr/lib/python3.11/re/__init__.py", line 185, in sub',
    '    return _compile(pattern, flags).sub(repl, string, count)',
    '  File "/srv/app/templating/../templating/render.py", line 9, in _substitute',
    '    return VALUES[match.group(1)]',
    "KeyError: 'user'",
  ].join('\n');
  const traceback = parseTraceback(log);
  const files = ['templating/render.py', 'templating/__init__.py', 'setup.py'];
  const frames: LocatedFrame[] = (traceback?.frames ?? []).map((f) => ({
    ...f,
    repoPath: locateInRepo(f.file, files),
  }));
  assert.deepEqual(
    frames.map((f) => f.repoPath),
    [null, null, null, 'templating/render.py', null, 'templating/render.py'],
    'venv scripts, <decorator-gen-N>, site-packages and the standard library are not repository files',
  );
  const c = classifyError({ errorLog: log, traceback, frames, repoDefinesException: false });
  assert.equal(c.kind, 'code', c.reason);
  assert.match(c.reason, /templating\/render\.py:_substitute/);
});
