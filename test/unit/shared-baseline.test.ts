/**
 * One pristine baseline per repository content, shared by the incidents on it
 * (activities/shared-baseline.ts). Real files on disk, the real setupWorkspace and patch engine:
 * the second incident on a tree copies nothing; writes by the patch engine reach neither the
 * baseline, the original nor the other incident; an in-place write is refused by the file mode; an
 * edit to the original after an incident started is not seen by it and gives the next incident a
 * new baseline, which takes the files that did not change from the earlier one (hard links) and
 * reads only the changed ones, with the same secret map as a full scan; a tree that just changed, or cannot be read whole, is copied for its incident alone;
 * unused baselines are collected, used ones kept.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { incidentPaths } from '../../activities/incident-paths';
import { applyProposal } from '../../activities/patch-engine';
import { DEFAULT_PATCH_POLICY } from '../../activities/patch-policy';
import { loadSecretMap, scanRepository } from '../../activities/repo-secrets';
import { BASELINES_DIR, collectBaselines, takeBaseline } from '../../activities/shared-baseline';
import { RACY_SECONDS, treeState } from '../../activities/tree-state';
import { restoreWorkspace, setupWorkspace } from '../../activities/workspace';

const BUGGY = 'def average(xs):\n    return sum(xs) / len(xs)\n';
const FIXED = 'def average(xs):\n    return sum(xs) / len(xs) if xs else 0.0\n';
const LOG = `Traceback (most recent call last):
  File "/srv/app/jobs/../app/stats.py", line 2, in average
    return sum(xs) / len(xs)
ZeroDivisionError: division by zero
`;
const isRoot = process.getuid?.() === 0;

function hashTree(dir: string): string {
  const h = createHash('sha256');
  for (const rel of (fs.readdirSync(dir, { recursive: true }) as string[]).sort()) {
    const full = path.join(dir, rel);
    const st = fs.lstatSync(full);
    h.update(
      `${rel}\0${st.isFile() ? fs.readFileSync(full, 'utf8') : st.isSymbolicLink() ? fs.readlinkSync(full) : 'dir'}\n`,
    );
  }
  return h.digest('hex');
}

/** The baselines (and any staging or trash folder) of a work folder: all but the latest-pointers. */
const baselineFolders = (workDir: string) =>
  fs.readdirSync(path.join(workDir, BASELINES_DIR)).filter((n) => !n.startsWith('.latest-'));

/** A repository old enough (past the racy window) to be shared, and the roots of a worker. */
async function world(name: string) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `opsguard-shared-${name}-`));
  const repo = path.join(tmp, 'repo');
  fs.mkdirSync(path.join(repo, 'app'), { recursive: true });
  fs.mkdirSync(path.join(repo, 'tests'), { recursive: true });
  fs.writeFileSync(path.join(repo, 'app', 'stats.py'), BUGGY);
  fs.writeFileSync(path.join(repo, 'app', 'errors.py'), 'class QuotaExceeded(Exception):\n    pass\n');
  fs.writeFileSync(path.join(repo, 'app', 'settings.py'), 'API_TOKEN = "tok_live_4f9a8b7c6d5e4f3a2b1c"\n');
  fs.writeFileSync(path.join(repo, 'tests', 'test_stats.py'), 'from app.stats import average\n');
  fs.symlinkSync('stats.py', path.join(repo, 'app', 'stats_link.py'));
  await sleep((RACY_SECONDS + 0.2) * 1000);
  const roots = {
    artifactsDir: path.join(tmp, 'artifacts'),
    workDir: path.join(tmp, 'work'),
    repositories: { roots: [fs.realpathSync(tmp)], maxBytes: 1 << 30, promptFileBytes: 100 * 1024 },
  };
  const setup = (id: string) => setupWorkspace(roots, { incidentId: id, repoPath: repo, errorLog: LOG });
  return { tmp, repo, roots, setup, paths: (id: string) => incidentPaths(roots, id) };
}

test('the second incident on the same tree copies nothing: its workspace links to the one shared baseline', async () => {
  const w = await world('reuse');
  const first = await w.setup('one');
  const second = await w.setup('two');
  assert.deepEqual({ shared: first.baseline?.shared, reused: first.baseline?.reused }, { shared: true, reused: false });
  assert.deepEqual(
    { shared: second.baseline?.shared, reused: second.baseline?.reused },
    { shared: true, reused: true },
  );
  assert.equal(second.baseline?.key, first.baseline?.key);
  assert.equal(baselineFolders(w.roots.workDir).length, 1, 'one baseline on disk');
  const [a, b] = [w.paths('one'), w.paths('two')];
  assert.equal(fs.realpathSync(a.baseline), fs.realpathSync(b.baseline));
  // Same inode in the baseline and both workspaces: no file data copied for either incident.
  const inode = (p: string) => fs.statSync(path.join(p, 'app', 'stats.py')).ino;
  assert.equal(inode(a.workspace), inode(a.baseline));
  assert.equal(inode(b.workspace), inode(a.baseline));
  assert.notEqual(inode(a.baseline), fs.statSync(path.join(w.repo, 'app', 'stats.py')).ino, 'the original is copied');
  // The baseline's files are read-only; the link inside the repository is kept as a link.
  assert.equal(fs.statSync(path.join(a.baseline, 'app', 'stats.py')).mode & 0o222, 0);
  assert.equal(fs.readlinkSync(path.join(b.workspace, 'app', 'stats_link.py')), 'stats.py');
  // What is read once per tree serves both: the secret scan, the classes, the frames.
  assert.equal(first.repoDefinesException, false);
  assert.deepEqual(await loadSecretMap(a.secrets), await loadSecretMap(b.secrets));
  assert.equal((await loadSecretMap(b.secrets)).entries[0]?.value, 'tok_live_4f9a8b7c6d5e4f3a2b1c');
  const scans = fs.readdirSync(path.dirname(fs.realpathSync(a.baseline))).filter((f) => f.startsWith('secret-scan-'));
  assert.equal(scans.length, 1);
  // Keyed by the scanner's source (read from the project, wherever the running code was bundled), so
  // a restarted worker reuses it; a per-process key would mean a full rescan after every restart.
  assert.match(scans[0] as string, /^secret-scan-[0-9a-f]{16}\.json$/);
  const scanMode = fs.statSync(path.join(path.dirname(fs.realpathSync(a.baseline)), scans[0] as string)).mode;
  assert.equal(scanMode & 0o077, 0, 'the cached scan holds secret values: owner only');
  assert.deepEqual(
    second.frames.map((f) => f.repoPath),
    ['app/stats.py'],
  );
});

test('writes by the patch engine reach neither the shared baseline, the original nor the other incident; a restore undoes them', async () => {
  const w = await world('isolation');
  await w.setup('one');
  await w.setup('two');
  const [a, b] = [w.paths('one'), w.paths('two')];
  const baselineBefore = hashTree(a.baseline);
  const originalBefore = hashTree(w.repo);
  const otherBefore = hashTree(b.workspace);
  const outcome = await applyProposal(a, [{ path: 'app/stats.py', content: FIXED }], DEFAULT_PATCH_POLICY);
  assert.equal(outcome.ok, true, outcome.ok ? '' : outcome.reason);
  assert.equal(fs.readFileSync(path.join(a.workspace, 'app', 'stats.py'), 'utf8'), FIXED);
  assert.equal(hashTree(a.baseline), baselineBefore, 'the baseline is unchanged');
  assert.equal(hashTree(w.repo), originalBefore, 'the original is unchanged');
  assert.equal(hashTree(b.workspace), otherBefore, 'the other incident does not see the fix');
  // An in-place write through the workspace's hard link is refused by the mode (not for root).
  if (isRoot) {
    console.log('# running as root: the file mode does not stop an in-place write; checked the mode only');
    assert.equal(fs.statSync(path.join(b.workspace, 'app', 'stats.py')).mode & 0o222, 0);
  } else {
    assert.throws(() => fs.appendFileSync(path.join(b.workspace, 'app', 'stats.py'), 'x = 1\n'), { code: 'EACCES' });
  }
  assert.equal(hashTree(a.baseline), baselineBefore);
  await restoreWorkspace(a);
  assert.equal(hashTree(a.workspace), hashTree(a.baseline), 'the workspace is the baseline again');
  assert.equal(
    fs.statSync(path.join(a.workspace, 'app', 'stats.py')).ino,
    fs.statSync(path.join(a.baseline, 'app', 'stats.py')).ino,
  );
});

test('an edit to the original after an incident started is not seen by it; the next incident gets a new baseline', async () => {
  const w = await world('edit');
  const first = await w.setup('before-edit');
  fs.writeFileSync(path.join(w.repo, 'app', 'stats.py'), BUGGY.replace('xs', 'values')); // another size
  const justAfter = await w.setup('just-after');
  // Changed a moment ago: its own private copy (a write in the same clock tick could be missed).
  assert.equal(justAfter.baseline?.shared, false);
  assert.match(justAfter.baseline?.why ?? '', /changed in the last seconds/);
  assert.ok(justAfter.baseline?.key.startsWith('private-'));
  await sleep((RACY_SECONDS + 0.2) * 1000);
  // The same size and the old modification time put back: the change time still tells it apart.
  const old = fs.statSync(path.join(w.repo, 'app', 'stats.py'));
  fs.writeFileSync(path.join(w.repo, 'app', 'stats.py'), BUGGY.replace('xs', 'vs'));
  fs.utimesSync(path.join(w.repo, 'app', 'stats.py'), old.atime, old.mtime);
  await sleep((RACY_SECONDS + 0.2) * 1000);
  const later = await w.setup('later');
  assert.equal(later.baseline?.shared, true);
  assert.notEqual(later.baseline?.key, first.baseline?.key);
  const read = (id: string, dir: 'baseline' | 'workspace') =>
    fs.readFileSync(path.join(w.paths(id)[dir], 'app', 'stats.py'), 'utf8');
  assert.equal(read('before-edit', 'baseline'), BUGGY);
  assert.equal(read('before-edit', 'workspace'), BUGGY);
  assert.equal(read('just-after', 'workspace'), BUGGY.replace('xs', 'values'));
  assert.equal(read('later', 'workspace'), BUGGY.replace('xs', 'vs'));
});

test('a new commit of a folder seen before: unchanged files are links to the earlier baseline, changed ones copied (even same size and mtime); secrets and classes as a full scan finds them', async () => {
  const w = await world('commit');
  const first = await w.setup('c1');
  const settings = path.join(w.repo, 'app', 'settings.py');
  const before = fs.statSync(settings);
  // The same size, the old modification time put back: only the change time says it was written.
  fs.writeFileSync(settings, 'API_TOKEN = "tok_live_9z8y7x6w5v4u3t2s1r0q"\n');
  fs.utimesSync(settings, before.atime, before.mtime);
  assert.equal(fs.statSync(settings).size, before.size);
  fs.writeFileSync(
    path.join(w.repo, 'app', 'limits.py'),
    'class RateLimited(Exception):\n    pass\n\nSECRET_KEY = "k3y-Zq8-rT4v-Lp2x"\n',
  );
  await sleep((RACY_SECONDS + 0.2) * 1000);
  const quotaLog = `Traceback (most recent call last):
  File "/srv/app/app/errors.py", line 2, in check
app.errors.QuotaExceeded: over quota
`;
  const second = await setupWorkspace(w.roots, { incidentId: 'c2', repoPath: w.repo, errorLog: quotaLog });
  assert.notEqual(second.baseline?.key, first.baseline?.key);
  assert.deepEqual(
    { shared: second.baseline?.shared, reused: second.baseline?.reused },
    { shared: true, reused: false },
  );
  const [a, b] = [w.paths('c1'), w.paths('c2')];
  const ino = (p: string, rel: string) => fs.statSync(path.join(p, rel)).ino;
  for (const rel of ['app/stats.py', 'app/errors.py', 'tests/test_stats.py'])
    assert.equal(ino(b.baseline, rel), ino(a.baseline, rel), `${rel} unchanged: taken from the earlier baseline`);
  assert.notEqual(
    ino(b.baseline, 'app/settings.py'),
    ino(a.baseline, 'app/settings.py'),
    'the rewritten file is copied',
  );
  assert.equal(fs.readFileSync(path.join(b.baseline, 'app', 'settings.py'), 'utf8'), fs.readFileSync(settings, 'utf8'));
  assert.match(
    fs.readFileSync(path.join(a.baseline, 'app', 'settings.py'), 'utf8'),
    /4f9a8b7c/,
    'the earlier baseline kept',
  );
  const meta = JSON.parse(
    fs.readFileSync(path.join(path.dirname(fs.realpathSync(b.baseline)), 'meta.json'), 'utf8'),
  ) as { parent?: string; inherited?: number };
  assert.deepEqual({ parent: meta.parent, inherited: meta.inherited }, { parent: first.baseline?.key, inherited: 3 });
  // What is read per file: the same secret map as a full scan of the new tree, classes of the
  // inherited file (errors.py: QuotaExceeded) and of the new one found.
  const files = (fs.readdirSync(b.baseline, { recursive: true }) as string[]).filter(
    (f) => fs.lstatSync(path.join(b.baseline, f)).isFile() || fs.lstatSync(path.join(b.baseline, f)).isSymbolicLink(),
  );
  const full = await scanRepository(b.baseline, files);
  assert.deepEqual(await loadSecretMap(b.secrets), full);
  assert.deepEqual(full.entries.map((e) => e.value).sort(), ['k3y-Zq8-rT4v-Lp2x', 'tok_live_9z8y7x6w5v4u3t2s1r0q']);
  assert.equal(second.repoDefinesException, true, 'QuotaExceeded is defined in the inherited errors.py');
  // The earlier incident still sees its own tree, and a fix in the new one reaches neither.
  const outcome = await applyProposal(b, [{ path: 'app/stats.py', content: FIXED }], DEFAULT_PATCH_POLICY);
  assert.equal(outcome.ok, true, outcome.ok ? '' : outcome.reason);
  assert.equal(fs.readFileSync(path.join(a.baseline, 'app', 'stats.py'), 'utf8'), BUGGY);
  assert.equal(fs.readFileSync(path.join(b.baseline, 'app', 'stats.py'), 'utf8'), BUGGY);
  assert.equal(fs.readFileSync(path.join(a.workspace, 'app', 'stats.py'), 'utf8'), BUGGY);
});

test('the tree state: no file read, the same for an untouched tree, changed by any write, rename or new file', async () => {
  const w = await world('state');
  const s1 = await treeState(w.repo);
  const s2 = await treeState(w.repo);
  assert.ok(s1.signature && !s1.racy, JSON.stringify(s1));
  assert.equal(s2.signature, s1.signature);
  assert.equal(
    s1.bytes,
    [
      BUGGY,
      'class QuotaExceeded(Exception):\n    pass\n',
      'API_TOKEN = "tok_live_4f9a8b7c6d5e4f3a2b1c"\n',
      'from app.stats import average\n',
    ].reduce((n, t) => n + t.length, 0),
  );
  // Folders never copied (caches, .git) are not part of the state either.
  fs.mkdirSync(path.join(w.repo, 'app', '__pycache__'));
  fs.writeFileSync(path.join(w.repo, 'app', '__pycache__', 'stats.cpython-311.pyc'), 'x');
  assert.equal((await treeState(w.repo)).signature, s1.signature);
  fs.renameSync(path.join(w.repo, 'tests', 'test_stats.py'), path.join(w.repo, 'tests', 'test_average.py'));
  const renamed = await treeState(w.repo);
  assert.notEqual(renamed.signature, s1.signature);
  assert.equal(renamed.racy, true, 'a rename just now is racy');
  // Over the size limit: stopped, not signed.
  const limited = await treeState(w.repo, 10);
  assert.deepEqual([limited.overLimit, limited.signature], [true, null]);
});

test('a tree that cannot be told whole (here: no find(1) on PATH) is copied for its incident alone, and said why; no cp(1) either: linked from Node', async () => {
  const w = await world('unkeyable');
  const saved = process.env.PATH;
  process.env.PATH = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-empty-path-'));
  try {
    const info = await w.setup('no-find');
    assert.equal(info.baseline?.shared, false);
    assert.match(info.baseline?.why ?? '', /find\(1\) could not run/);
    const p = w.paths('no-find');
    assert.equal(fs.readFileSync(path.join(p.workspace, 'app', 'stats.py'), 'utf8'), BUGGY);
    assert.equal(
      fs.statSync(path.join(p.workspace, 'app', 'stats.py')).ino,
      fs.statSync(path.join(p.baseline, 'app', 'stats.py')).ino,
    );
    assert.equal(fs.readlinkSync(path.join(p.workspace, 'app', 'stats_link.py')), 'stats.py');
  } finally {
    process.env.PATH = saved;
  }
});

test('incidents starting together on a new tree make one baseline between them, and leave no staging folder', async () => {
  const w = await world('race');
  const infos = await Promise.all(['r1', 'r2', 'r3', 'r4'].map((id) => w.setup(id)));
  assert.equal(new Set(infos.map((i) => i.baseline?.key)).size, 1);
  assert.deepEqual(baselineFolders(w.roots.workDir), [infos[0]?.baseline?.key]);
  for (const id of ['r1', 'r2', 'r3', 'r4'])
    assert.equal(fs.readFileSync(path.join(w.paths(id).workspace, 'app', 'stats.py'), 'utf8'), BUGGY);
});

test('garbage: a baseline no incident links to is removed once unused long enough; a linked or recent one is kept', async () => {
  const w = await world('gc');
  const kept = await w.setup('kept');
  const gone = await w.setup('gone');
  assert.equal(kept.baseline?.key, gone.baseline?.key);
  // A second tree, linked by nobody once its incident folder is removed.
  fs.writeFileSync(path.join(w.repo, 'app', 'new.py'), 'x = 2\n');
  await sleep((RACY_SECONDS + 0.2) * 1000);
  const other = await w.setup('other');
  assert.notEqual(other.baseline?.key, kept.baseline?.key);
  fs.rmSync(w.paths('other').workDir, { recursive: true });
  assert.deepEqual(await collectBaselines(w.roots.workDir), [], 'recently used: kept');
  const removed = await collectBaselines(w.roots.workDir, 60_000, Date.now() + 3_600_000);
  assert.deepEqual(removed, [other.baseline?.key]);
  assert.deepEqual(
    baselineFolders(w.roots.workDir),
    [kept.baseline?.key],
    'the linked one is kept, nothing half-removed is left',
  );
  // The kept one still serves a new incident on that tree? The tree changed (new.py): not the same.
  const state = await treeState(w.repo);
  const again = await takeBaseline(w.roots.workDir, fs.realpathSync(w.repo), state);
  assert.equal(again.reused, false, 'the collected tree is made again when needed');
});
