/**
 * The guarded run (sandbox/guarded-run.ts + sandbox/runner/opsguard_guard.py) on real Docker: the
 * verdict a reproduction run signs, forgeries from a patched module (each must end without a believed
 * verdict, most by the tripwire), and ordinary Python that must not trip it (stdlib helpers that use
 * frames internally, logging, namedtuple, dataclasses, threads, third-party-like code).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { guardSpecFor } from '../activities/changed-files';
import { runGuarded } from '../sandbox/guarded-run';
import type { GuardedRunResult } from '../sandbox/guarded-run';
import { DEFAULT_LIMITS } from '../sandbox/limits';
import { dockerFromEnv } from '../sandbox/docker-client';
import { ownContainers, sandboxImage, TEST_RUN_ID } from './support/docker';

const docker = dockerFromEnv();
const SCRIPT = '/opsguard/scripts/reproduction.py';

/** The reproduction every case runs: calls pkg.mod.f and checks the result. */
const REPRODUCTION = `from pkg.mod import f\nresult = f([3, 1, 2])\nassert result == [1, 2, 3], result\nprint("sorted:", result)\n`;
const BUGGY = 'def f(x):\n    return sorted(x)[::-1]\n';
const FIXED = 'def f(x):\n    return sorted(x)\n';

/** Run the reproduction against a workspace whose pkg/mod.py is `mod` (and other files), mod.py changed. */
async function run(
  mod: string,
  extra: Record<string, string> = {},
  changed = ['pkg/mod.py'],
): Promise<GuardedRunResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-guard-'));
  const ws = path.join(dir, 'ws');
  for (const [rel, content] of Object.entries({ 'pkg/__init__.py': '', 'pkg/mod.py': mod, ...extra })) {
    fs.mkdirSync(path.dirname(path.join(ws, rel)), { recursive: true });
    fs.writeFileSync(path.join(ws, rel), content);
  }
  const script = path.join(dir, 'reproduction.py');
  fs.writeFileSync(script, REPRODUCTION);
  const lines = (rel: string) => (extra[rel] ?? mod).split('\n').map((_, i) => i + 1);
  return await runGuarded(docker, {
    entry: 'opsguard_runner.py',
    image: sandboxImage(),
    limits: DEFAULT_LIMITS,
    workspace: ws,
    runDir: path.join(dir, 'run'),
    scripts: [{ hostPath: script, name: 'reproduction.py' }],
    incidentId: TEST_RUN_ID,
    purpose: 'guard-test',
    spec: {
      script: SCRIPT,
      scripts: [SCRIPT],
      changed_files: changed.map((c) => `/workspace/${c}`),
      changed_lines: Object.fromEntries(changed.map((c) => [`/workspace/${c}`, lines(c)])),
    },
  });
}

const tripwire = (r: GuardedRunResult) =>
  r.records.data.filter((d) => d.kind === 'tripwire' && d.fields.fatal === true).map((d) => d.fields);

test('an honest failure is signed: not run to its end, the assertion, the repository function it ran', async () => {
  const r = await run(BUGGY, {}, []);
  assert.ok(r.records.end, r.records.problem);
  assert.equal(r.records.end.header.ran_to_end, false);
  assert.equal(r.records.end.header.exit_code, 1);
  const details = r.records.end.details as {
    exception: { type: string; script_check: { kind: string; trivial: boolean } };
    coverage: { functions: string[] };
  };
  assert.equal(details.exception.type, 'AssertionError');
  assert.deepEqual(details.exception.script_check, { kind: 'assert', trivial: false, line: 3, uses_repository: true });
  assert.deepEqual(details.coverage.functions, ['/workspace/pkg/mod.py:f']);
  assert.match(r.sandbox.stderr, /AssertionError: \[3, 2, 1\]/);
});

test('an honest pass is signed: ran to its end, exit 0, the changed statement executed', async () => {
  const r = await run(FIXED);
  assert.ok(r.records.end, r.records.problem);
  assert.deepEqual([r.records.end.header.ran_to_end, r.records.end.header.exit_code], [true, 0]);
  const cov = (
    r.records.end.details as { coverage: { changed: Record<string, { statements: number[]; executed: number[] }> } }
  ).coverage.changed['/workspace/pkg/mod.py'];
  assert.deepEqual(cov, { statements: [1, 2], executed: [1, 2] });
  assert.match(r.sandbox.stdout, /sorted: \[1, 2, 3\]/);
});

interface Forgery {
  name: string;
  mod: string;
  extra?: Record<string, string>;
  /** The tripwire event that must stop it (undefined: stopped because no valid end record exists). */
  event?: string;
  /** Who the tripwire blamed: the changed file itself (default), or a thread with no application code. */
  blamed?: 'orphan';
}

/** Every forgery also tries to make the reproduction pass: a fake end record, then os._exit(0). */
const FAKE_END = `os.write(3, b'E\\toutcome\\t' + b'0' * 64 + b'\\t{"ran_to_end":true,"exit_code":0}\\t{}\\n'); os._exit(0)`;

const FORGERIES: Forgery[] = [
  {
    name: 'walking sys._getframe() up to the runner (spelled so no static rule sees it)',
    mod: `import sys, os\nfr = getattr(sys, "_get" + "frame")()\nwhile fr.f_back: fr = fr.f_back\n${FAKE_END}\n`,
    event: 'sys._getframe',
  },
  {
    name: "through an exception's traceback (tb_frame)",
    mod: `import os\ntry:\n    1/0\nexcept Exception as e:\n    fr = e.__traceback__.tb_frame\n${FAKE_END}\n`,
    event: 'object.__getattr__',
  },
  { name: 'gc.get_objects()', mod: `import gc, os\nobjs = gc.get_objects()\n${FAKE_END}\n`, event: 'gc.get_objects' },
  {
    name: 'reading /proc/self/cmdline and /proc/self/environ',
    mod: `import os\nopen('/proc/self/cmdline', 'rb').read()\n${FAKE_END}\n`,
    event: 'open',
  },
  {
    name: 'reading memory with ctypes',
    mod: `import os, ctypes\nctypes.string_at(id(os), 16)\n${FAKE_END}\n`,
    event: 'ctypes.string_at',
  },
  {
    name: 'inspect.stack() (a stdlib helper that hands frames back)',
    mod: `import inspect, os\nframes = inspect.stack()\n${FAKE_END}\n`,
    event: 'sys._getframe',
  },
  {
    name: 'gc through an unchanged repository helper (a trampoline)',
    mod: `import gc, os\nfrom pkg.helpers import call\ncall(gc.get_objects)\n${FAKE_END}\n`,
    extra: { 'pkg/helpers.py': 'def call(fn, *args):\n    return fn(*args)\n' },
    event: 'gc.get_objects',
  },
  {
    name: 'gc from a thread-pool worker (no application frame on its stack)',
    mod: `import gc, os\nfrom concurrent.futures import ThreadPoolExecutor\nThreadPoolExecutor(1).submit(gc.get_objects).result()\n${FAKE_END}\n`,
    event: 'gc.get_objects',
    blamed: 'orphan',
  },
  {
    name: 'a signal handler that receives the runner frame and drives the signer itself',
    mod: [
      'import signal, os',
      'def steal(signum, frame):',
      '    while frame.f_back: frame = frame.f_back',
      '    g = frame.f_locals.get("signer")',
      '    if g is not None:',
      '        g.send((b"outcome", True, 0, b"{}"))',
      'signal.signal(signal.SIGALRM, steal)',
      'signal.setitimer(signal.ITIMER_REAL, 0.001)',
      'import time; time.sleep(0.05)',
      'def f(x):\n    return sorted(x)[::-1]',
      '',
    ].join('\n'),
  },
  {
    name: 'a forged end record written straight to the records descriptor, then os._exit(0)',
    mod: `import os\n${FAKE_END}\n`,
  },
  {
    name: 'an atexit hook that writes a forged end record after a failure',
    mod: `import atexit, os\natexit.register(lambda: os.write(3, b'E\\toutcome\\tab\\t{"ran_to_end":true,"exit_code":0}\\t{}\\n'))\n${BUGGY}`,
  },
  {
    name: 'compiling code that claims to be the runner',
    mod: `import os\nexec(compile("x = 1", "/opsguard/runner/opsguard_runner.py", "exec"))\n${FAKE_END}\n`,
    event: 'compile',
  },
  {
    name: 'starting a process',
    mod: `import os, subprocess\nsubprocess.run(["true"])\n${FAKE_END}\n`,
    event: 'subprocess.Popen',
  },
];

for (const f of FORGERIES) {
  test(`forgery refused: ${f.name}`, async () => {
    const r = await run(f.mod, f.extra);
    const believed = r.records.end && r.records.end.header.ran_to_end === true && r.records.end.header.exit_code === 0;
    assert.ok(!believed, `a forged pass was believed: ${JSON.stringify(r.records.end)}`);
    if (f.event) {
      const trips = tripwire(r);
      assert.equal(r.sandbox.exitCode, 86, `the tripwire ends the process (stderr: ${r.sandbox.stderr.slice(-400)})`);
      assert.equal(trips[0]?.event, f.event, JSON.stringify(trips));
      if (f.blamed === 'orphan') assert.equal(trips[0]?.kind, 'orphan');
      else assert.deepEqual([trips[0]?.kind, trips[0]?.file], ['suspect', '/workspace/pkg/mod.py']);
    }
  });
}

const ORDINARY: { name: string; mod: string }[] = [
  {
    name: 'namedtuple, dataclass, enum and typing at import',
    mod: `import collections, dataclasses, enum, typing\nP = collections.namedtuple("P", "a b")\n@dataclasses.dataclass\nclass D:\n    a: int = 1\nclass E(enum.Enum):\n    A = 1\nT = typing.TypeVar("T")\n${FIXED}`,
  },
  {
    name: 'logging (findCaller uses frames) and warnings',
    mod: `import logging, warnings\nlog = logging.getLogger(__name__)\ndef f(x):\n    log.warning("sorting %s", x)\n    warnings.warn("deprecated", DeprecationWarning)\n    return sorted(x)\n`,
  },
  {
    name: 'traceback.print_exc() and logging.exception() after catching a specific error',
    mod: `import logging, traceback\ndef f(x):\n    try:\n        int("x")\n    except ValueError:\n        traceback.print_exc()\n        logging.exception("ignored")\n    return sorted(x)\n`,
  },
  {
    name: 'threads and functools',
    mod: `import threading, functools\n@functools.lru_cache\ndef g(n):\n    return n\ndef f(x):\n    t = threading.Thread(target=g, args=(1,)); t.start(); t.join()\n    return sorted(x)\n`,
  },
  {
    name: 'inspect.signature',
    mod: `import inspect\ndef f(x):\n    inspect.signature(sorted)\n    return sorted(x)\n`,
  },
];

for (const o of ORDINARY) {
  test(`ordinary code is not a forgery: ${o.name}`, async () => {
    const r = await run(o.mod);
    assert.deepEqual(tripwire(r), [], r.sandbox.stderr.slice(-600));
    assert.ok(r.records.end, `${r.records.problem}\n${r.sandbox.stderr.slice(-600)}`);
    assert.equal(r.records.end.header.ran_to_end, true, r.sandbox.stderr.slice(-600));
  });
}

test('introspection by unchanged repository code is noted, not fatal', async () => {
  const r = await run(FIXED, { 'pkg/legacy.py': 'import sys\nCALLER = sys._getframe().f_code.co_name\n' }, [
    'pkg/mod.py',
  ]);
  // legacy.py is not imported by the reproduction: import it through mod (changed) at call time.
  assert.ok(r.records.end);
  const r2 = await run(`import pkg.legacy\n${FIXED}`, { 'pkg/legacy.py': 'import sys\nCALLER = sys._getframe(0)\n' });
  assert.equal(r2.records.end?.header.ran_to_end, true, r2.sandbox.stderr);
  const notes = r2.records.data.filter((d) => d.kind === 'tripwire');
  assert.deepEqual(
    notes.map((n) => [n.fields.event, n.fields.file, n.fields.fatal]),
    [['sys._getframe', '/workspace/pkg/legacy.py', false]],
  );
});

test("a changed file loaded through a symlink in the repository is still the patch's code", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-guard-'));
  const ws = path.join(dir, 'ws');
  fs.mkdirSync(path.join(ws, 'pkg'), { recursive: true });
  fs.writeFileSync(path.join(ws, 'pkg', '__init__.py'), '');
  fs.writeFileSync(path.join(ws, 'pkg', 'core.py'), `import sys\nsys._getframe()\n${FIXED}`);
  fs.symlinkSync('core.py', path.join(ws, 'pkg', 'mod.py')); // the reproduction imports pkg.mod
  const script = path.join(dir, 'reproduction.py');
  fs.writeFileSync(script, REPRODUCTION);
  const r = await runGuarded(docker, {
    entry: 'opsguard_runner.py',
    image: sandboxImage(),
    limits: DEFAULT_LIMITS,
    workspace: ws,
    runDir: path.join(dir, 'run'),
    scripts: [{ hostPath: script, name: 'reproduction.py' }],
    incidentId: TEST_RUN_ID,
    purpose: 'guard-test',
    spec: { script: SCRIPT, scripts: [SCRIPT], ...(await guardSpecFor(ws, [{ path: 'pkg/core.py', lines: [1, 2] }])) },
  });
  assert.equal(r.sandbox.exitCode, 86);
  assert.deepEqual(
    tripwire(r).map((t) => [t.event, t.kind, t.file]),
    [['sys._getframe', 'suspect', '/workspace/pkg/mod.py']],
  );
});

test('two processes signing (a fork) are not believed', async () => {
  // The parent waits for the child, so both reach the signer before the container's main process ends.
  const r = await run(`import os\n_pid = os.fork()\nif _pid:\n    os.waitpid(_pid, 0)\n${FIXED}`, {}, []);
  assert.equal(r.records.end, null);
  assert.match(r.records.problem ?? '', /2 validly signed end records/);
});

test('the key is in no argv, environment or file the run can read', async () => {
  const probe = [
    'import os, sys',
    'seen = [open("/proc/self/cmdline","rb").read(), open("/proc/self/environ","rb").read(), os.readlink("/proc/self/fd/0")]',
    'for root, _, files in os.walk("/opsguard"):',
    '    for name in files:',
    '        if name != "records":',
    '            seen.append(open(os.path.join(root, name), "rb").read())',
    'print("PROBE", repr(seen)[:20000])',
    FIXED,
  ].join('\n');
  // Unchanged code may look (it is only noted); the key must not be there to find.
  const r = await run(probe, {}, []);
  assert.ok(r.records.end, r.records.problem);
  assert.match(r.sandbox.stdout, /PROBE/);
  assert.match(r.sandbox.stdout, /\/dev\/null/, 'stdin was replaced by /dev/null once the key was read');
  assert.doesNotMatch(r.sandbox.stdout, /[0-9a-f]{64}/, 'no 64-hex-digit key anywhere the run could read');
});

test('every container of these runs was removed', async () => {
  assert.deepEqual(await ownContainers(docker), []);
});
