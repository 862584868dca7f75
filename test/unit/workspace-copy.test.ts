/**
 * The workspace shares the baseline's files (hard links) to copy a big repository once, not three
 * times; the proof depends on the baseline never changing, so: a fix written into the workspace, and
 * a restored workspace, leave every baseline file as it was. Real files on disk.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { copyTree } from '../../activities/copy-tree';
import { incidentPaths } from '../../activities/incident-paths';
import { applyProposal } from '../../activities/patch-engine';
import { DEFAULT_PATCH_POLICY } from '../../activities/patch-policy';
import { restoreWorkspace, setupWorkspace } from '../../activities/workspace';

const LOADER = 'def database_url(config):\n    return config["database"]["url"]\n';
const FIXED = 'def database_url(config):\n    return config.get("database", {}).get("url", "")\n';

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rel of fs.readdirSync(dir, { recursive: true }) as string[]) {
    const full = path.join(dir, rel);
    if (fs.lstatSync(full).isFile()) out[rel] = fs.readFileSync(full, 'utf8');
  }
  return out;
}

test('a fix written into the workspace, then a restore, leave the baseline exactly as it was', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-ws-copy-'));
  const original = path.join(tmp, 'original');
  fs.mkdirSync(path.join(original, 'app'), { recursive: true });
  fs.writeFileSync(path.join(original, 'app', 'config_loader.py'), LOADER);
  fs.writeFileSync(path.join(original, 'app', 'private.py'), 'TOKEN_NAME = "x"\n', { mode: 0o600 });
  const roots = {
    artifactsDir: path.join(tmp, 'artifacts'),
    workDir: path.join(tmp, 'work'),
    repositories: { roots: [fs.realpathSync(tmp)], maxBytes: 1 << 30, promptFileBytes: 100 * 1024 },
  };
  await setupWorkspace(roots, { incidentId: 'ws', repoPath: original, errorLog: 'KeyError: database' });
  const p = incidentPaths(roots, 'ws');
  const baselineBefore = snapshot(p.baseline);
  assert.deepEqual(snapshot(p.workspace), baselineBefore, 'the workspace starts as the baseline');
  // A file the repository keeps private is readable by the sandbox's user in the workspace.
  assert.equal(fs.statSync(path.join(p.workspace, 'app', 'private.py')).mode & 0o444, 0o444);

  const outcome = await applyProposal(p, [{ path: 'app/config_loader.py', content: FIXED }], DEFAULT_PATCH_POLICY);
  assert.equal(outcome.ok, true, outcome.ok ? '' : outcome.reason);
  assert.equal(fs.readFileSync(path.join(p.workspace, 'app', 'config_loader.py'), 'utf8'), FIXED);
  assert.deepEqual(snapshot(p.baseline), baselineBefore, 'the baseline did not change with the workspace');

  await restoreWorkspace(p);
  assert.deepEqual(snapshot(p.workspace), baselineBefore, 'the workspace is the baseline again');
  assert.deepEqual(snapshot(p.baseline), baselineBefore);
  assert.equal(fs.readFileSync(path.join(original, 'app', 'config_loader.py'), 'utf8'), LOADER, 'original untouched');
});

test('copyTree lists first, then copies in parallel: every file, links kept inside, outside links and unreadable files reported', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-ws-tree-'));
  const src = path.join(tmp, 'src');
  for (let d = 0; d < 5; d++) {
    fs.mkdirSync(path.join(src, `d${d}`, 'deeper'), { recursive: true });
    for (let i = 0; i < 40; i++) fs.writeFileSync(path.join(src, `d${d}`, 'deeper', `f${i}.txt`), `${d}-${i}`);
  }
  fs.symlinkSync('d0', path.join(src, 'inside'));
  fs.symlinkSync('/etc/passwd', path.join(src, 'outside'));
  fs.mkdirSync(path.join(src, '.git'));
  fs.writeFileSync(path.join(src, '.git', 'HEAD'), 'ref: refs/heads/main\n');
  const report = await copyTree(src, path.join(tmp, 'copy'));
  assert.equal(report.files, 200);
  assert.deepEqual(report.skippedSymlinks, ['outside']);
  assert.equal(fs.readlinkSync(path.join(tmp, 'copy', 'inside')), 'd0');
  assert.equal(fs.readFileSync(path.join(tmp, 'copy', 'd4', 'deeper', 'f39.txt'), 'utf8'), '4-39');
  assert.equal(fs.existsSync(path.join(tmp, 'copy', '.git')), false, 'VCS data is not copied');

  const linked = await copyTree(path.join(tmp, 'copy'), path.join(tmp, 'linked'), { hardLinks: true });
  assert.equal(linked.files, 200);
  assert.equal(
    fs.statSync(path.join(tmp, 'linked', 'd1', 'deeper', 'f1.txt')).ino,
    fs.statSync(path.join(tmp, 'copy', 'd1', 'deeper', 'f1.txt')).ino,
    'a hard link, not a copy',
  );
});
