/**
 * Symlinks inside a repository (`compat.py -> core.py`, `legacy -> pkg`): a traceback, a sandbox
 * frame and the guard's list of changed files all name the file the link points at. Real files on
 * disk; the guard's own view is checked on real Docker in test/guarded-run.test.ts.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { changedFileAliases } from '../../activities/changed-files';
import { resolveFrames } from '../../activities/run-summary';
import { setupWorkspace } from '../../activities/workspace';

function repo(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-links-'));
  fs.mkdirSync(path.join(dir, 'pkg'));
  fs.writeFileSync(path.join(dir, 'pkg', '__init__.py'), '');
  fs.writeFileSync(path.join(dir, 'pkg', 'core.py'), 'def load(config):\n    return config["user"]\n');
  fs.symlinkSync('core.py', path.join(dir, 'pkg', 'compat.py'));
  fs.symlinkSync('pkg', path.join(dir, 'legacy'));
  return dir;
}

test('sandbox frames through a symlink resolve to the file it points at', async () => {
  const ws = repo();
  const frames = await resolveFrames(ws, [
    { file: '/workspace/pkg/compat.py', func: 'load' },
    { file: '/workspace/tests/../legacy/core.py', func: 'load' },
    { file: '/usr/lib/python3.11/json/__init__.py', func: 'loads' },
  ]);
  assert.deepEqual(
    frames.map((f) => f.file),
    ['/workspace/pkg/core.py', '/workspace/pkg/core.py', '/usr/lib/python3.11/json/__init__.py'],
  );
});

test("the incident's frame through a symlink is located on the real file", async () => {
  const original = repo();
  const roots = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-links-roots-'));
  const info = await setupWorkspace(
    {
      artifactsDir: path.join(roots, 'artifacts'),
      workDir: path.join(roots, 'work'),
      repositories: { roots: [fs.realpathSync(os.tmpdir())], maxBytes: 1 << 30, promptFileBytes: 100 * 1024 },
    },
    {
      incidentId: 'links',
      repoPath: original,
      errorLog: [
        'Traceback (most recent call last):',
        '  File "/srv/app/main.py", line 3, in <module>',
        '  File "/srv/app/jobs/../pkg/compat.py", line 2, in load',
        '    return config["user"]',
        "KeyError: 'user'",
      ].join('\n'),
    },
  );
  const frame = info.frames.at(-1);
  assert.equal(frame?.repoPath, 'pkg/core.py');
  assert.equal(frame?.source, 'return config["user"]');
});

test('a changed file is known to the guard under every name it can be loaded by', async () => {
  assert.deepEqual(await changedFileAliases(repo(), ['pkg/core.py']), [
    'legacy/core.py',
    'pkg/compat.py',
    'pkg/core.py',
  ]);
});
