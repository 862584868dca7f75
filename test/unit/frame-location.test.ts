/**
 * Frames of the repository installed as a package (a user's traceback of a released version, a
 * service that pip-installed itself) are the repository's code; third-party frames are not.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { definesName, locateFrame, locateInRepo, locateInstalled } from '../../activities/frame-location';
import { classifyError } from '../../workflows/classify-error';
import type { LocatedFrame } from '../../workflows/classify-error';
import { fingerprintKey, incidentFingerprint } from '../../workflows/fingerprint';
import { installedModulePath } from '../../workflows/repo-paths';
import { parseTraceback } from '../../workflows/traceback';

/** A report filed against a released reportkit: every frame is in an installed package. */
const USER_REPORT = [
  'Traceback (most recent call last):',
  '  File "/home/ci/.local/bin/reportkit", line 8, in <module>',
  '    sys.exit(main())',
  '  File "/home/ci/.local/lib/python3.11/site-packages/reportkit/cli.py", line 41, in main',
  '    print(render(rows, widths))',
  '  File "/home/ci/.local/lib/python3.11/site-packages/reportkit/../reportkit/render.py", line 17, in render',
  '    width = max(len(str(r[col])) for r in rows)',
  '  File "/home/ci/.local/lib/python3.11/site-packages/requests/models.py", line 1021, in json',
  '    return complexjson.loads(self.text, **kwargs)',
  '  File "/usr/lib/python3.11/json/__init__.py", line 346, in loads',
  '    return _default_decoder.decode(s)',
  "KeyError: 'total'",
  '',
].join('\n');

const SRC_LAYOUT = [
  'pyproject.toml',
  'src/reportkit/__init__.py',
  'src/reportkit/cli.py',
  'src/reportkit/render.py',
  'tests/test_render.py',
  'vendor/requests/models.py',
];

test('installedModulePath: the path below site-packages or dist-packages, .. folded, an .egg skipped', () => {
  const cases: [string, string | null][] = [
    ['/usr/local/lib/python3.11/site-packages/reportkit/render.py', 'reportkit/render.py'],
    ['/usr/lib/python3/dist-packages/reportkit/../reportkit/cli.py', 'reportkit/cli.py'],
    ['C:\\Python311\\Lib\\site-packages\\reportkit\\render.py', 'reportkit/render.py'],
    ['/opt/venv/lib/python3.9/site-packages/reportkit-2.1-py3.9.egg/reportkit/render.py', 'reportkit/render.py'],
    ['/usr/local/lib/python3.11/site-packages/six.py', 'six.py'],
    ['/usr/local/lib/python3.11/site-packages/../json/__init__.py', null],
    ['/usr/local/lib/python3.11/site-packages/reportkit/_speedups.so', null],
    ['/usr/lib/python3.11/json/__init__.py', null],
    ['/srv/app/reportkit/render.py', null],
  ];
  for (const [file, module] of cases) assert.equal(installedModulePath(file), module, file);
});

test("a frame of the repository's installed copy maps to its file under the import root; a library's does not", () => {
  const tb = parseTraceback(USER_REPORT);
  const located = (tb?.frames ?? []).map((f) => locateInRepo(f.file, SRC_LAYOUT));
  assert.deepEqual(located, [null, 'src/reportkit/cli.py', 'src/reportkit/render.py', null, null]);
  // The root layout, and lib/ (ansible's): the same module found there.
  assert.equal(
    locateInstalled('reportkit/render.py', ['reportkit/__init__.py', 'reportkit/render.py']),
    'reportkit/render.py',
  );
  assert.equal(locateInstalled('reportkit/render.py', ['lib/reportkit/render.py']), 'lib/reportkit/render.py');
  // Not an import root: a vendored copy, a package's subpackage, a virtual env in the checkout.
  assert.equal(
    locateInstalled('requests/models.py', SRC_LAYOUT),
    null,
    'vendor/ is not where the repository installs from',
  );
  assert.equal(locateInstalled('reportkit/render.py', ['src/__init__.py', 'src/reportkit/render.py']), null);
  assert.equal(
    locateInstalled('six.py', ['.venv/lib/python3.11/site-packages/six.py', 'app.py']),
    null,
    "the checkout's own virtual env is not the repository's code",
  );
});

test('classified as a code error at the installed frame; before this change the same report was unclassified', () => {
  const traceback = parseTraceback(USER_REPORT);
  const frames: LocatedFrame[] = (traceback?.frames ?? []).map((f) => ({
    ...f,
    repoPath: locateInRepo(f.file, SRC_LAYOUT),
  }));
  const c = classifyError({ errorLog: USER_REPORT, traceback, frames, repoDefinesException: false });
  assert.equal(c.kind, 'code', c.reason);
  assert.deepEqual(c.kind === 'code' && { file: c.location.file, func: c.location.func }, {
    file: 'src/reportkit/render.py',
    func: 'render',
  });
  const unlocated = frames.map((f) => ({ ...f, repoPath: null }));
  assert.equal(
    classifyError({ errorLog: USER_REPORT, traceback, frames: unlocated, repoDefinesException: false }).kind,
    'unclassified',
  );
});

test('an installed module that only shares a name with a repository file is not its code (the function must be defined there)', async () => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'opsguard-frames-'));
  try {
    await fs.mkdir(path.join(root, 'config'), { recursive: true });
    await fs.writeFile(path.join(root, 'config/__init__.py'), '');
    await fs.writeFile(path.join(root, 'config/settings.py'), 'DEBUG = False\n\ndef load(path):\n    return {}\n');
    const files = ['config/__init__.py', 'config/settings.py'];
    const site = '/usr/local/lib/python3.11/site-packages/config/settings.py';
    assert.equal(await locateFrame(root, { file: site, line: 3, func: 'load' }, files), 'config/settings.py');
    assert.equal(await locateFrame(root, { file: site, line: 90, func: 'resolve_env' }, files), null);
    assert.equal(await locateFrame(root, { file: site, line: 1, func: '<module>' }, files), 'config/settings.py');
    // A deployment path is matched by suffix, with no definition check (production ran this file).
    assert.equal(
      await locateFrame(root, { file: '/srv/app/config/settings.py', line: 90, func: 'gone' }, files),
      'config/settings.py',
    );
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
});

test('definesName: def, async def and class bodies, at any indent; not a call or a longer name', () => {
  const src = 'class Report:\n    async def render(self):\n        pass\n\ndef render_all():\n    load()\n';
  assert.ok(definesName(src, 'Report'));
  assert.ok(definesName(src, 'render'));
  assert.ok(definesName(src, 'render_all'));
  assert.ok(!definesName(src, 'load'));
  assert.ok(!definesName(src, 'rend'));
  assert.ok(definesName(src, '<listcomp>'));
  assert.ok(!definesName(src, 'a.b'));
});

test('two bugs in an installed release are two incidents: the fingerprint adds the innermost installed module below the last application frame', () => {
  const repo = '/repos/reportkit';
  const other = USER_REPORT.replace('line 17, in render', 'line 30, in pad');
  assert.equal(fingerprintKey(repo, USER_REPORT), `${repo}|KeyError|bin/reportkit:<module>>requests/models.py:json`);
  const ours = (log: string) => log.replace(/ {2}File "[^"]*requests\/models[^]*?(?=KeyError)/, '');
  assert.equal(
    fingerprintKey(repo, ours(USER_REPORT)),
    `${repo}|KeyError|bin/reportkit:<module>>reportkit/render.py:render`,
  );
  assert.notEqual(incidentFingerprint(repo, ours(USER_REPORT)), incidentFingerprint(repo, ours(other)));
  // A service's own traceback keeps its key: nothing installed below its innermost frame.
  const service =
    'Traceback (most recent call last):\n  File "/srv/app/app/service.py", line 10, in run\n    x = d["k"]\nKeyError: \'k\'\n';
  assert.equal(fingerprintKey('/repos/svc', service), '/repos/svc|KeyError|app/service.py:run');
});

test("a deployment that moved the tree (Dockerfile `COPY src/ /app/`): the one file sharing the most trailing segments, if it defines the frame's function", async () => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'opsguard-frames-'));
  try {
    const files = {
      'src/refunds/__init__.py': '',
      'src/refunds/handlers.py': 'def handle_refund(event):\n    return event["amount"]\n',
      'src/refunds/utils.py': 'def cents(x):\n    return int(x * 100)\n',
      'scripts/utils.py': 'def cents(x):\n    return x\n',
      'tests/test_handlers.py': 'def test_x():\n    pass\n',
    };
    for (const [rel, text] of Object.entries(files)) {
      await fs.mkdir(path.dirname(path.join(root, rel)), { recursive: true });
      await fs.writeFile(path.join(root, rel), text);
    }
    const list = Object.keys(files);
    const at = (file: string, func: string) => locateFrame(root, { file, line: 2, func }, list);
    assert.equal(await at('/app/refunds/handlers.py', 'handle_refund'), 'src/refunds/handlers.py');
    assert.equal(await at('/app/refunds/handlers.py', '<module>'), 'src/refunds/handlers.py', 'two segments shared');
    assert.equal(await at('/app/refunds/handlers.py', 'issue_credit'), null, 'not defined there: not this file');
    // By file name alone: only for a function the file defines.
    assert.equal(await at('/opt/handlers.py', 'handle_refund'), 'src/refunds/handlers.py');
    assert.equal(await at('/opt/handlers.py', '<module>'), null);
    // Two files share as much: neither.
    assert.equal(await at('/opt/utils.py', 'cents'), null);
    assert.equal(locateInRepo('/opt/utils.py', list), null);
    // A full suffix still wins over any relocation.
    assert.equal(await at('/srv/x/src/refunds/utils.py', 'gone'), 'src/refunds/utils.py');
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
});
