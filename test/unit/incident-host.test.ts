/**
 * The pieces of host pinning that need no server: which steps are pinned, what counts as the host
 * being gone, the worker's identity from its settings, and the content digest a move is checked by.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/common';
import { hostTaskQueue, treeDigest } from '../../activities/incident-host';
import { listFiles } from '../../activities/copy-tree';
import { setupWorkspace } from '../../activities/workspace';
import { hostLost, isPinned, onHost } from '../../workflows/host-pinning';
import { SettingsError, settingsFromEnv } from '../../worker/settings';

test('every step that reads the workspace is pinned; setup and decision checks are not', () => {
  for (const name of [
    'runReproductions',
    'runRepoTests',
    'writeFix',
    'applyFix',
    'writeArtifacts',
    'prepareEnvironment',
  ])
    assert.ok(isPinned(name), name);
  for (const name of ['setupWorkspace', 'verifyDecision']) assert.ok(!isPinned(name), name);
  const options = onHost({ startToCloseTimeout: '1 minute' }, { queue: 'q-host-a', worker: 'a', waitSeconds: 7 });
  assert.deepEqual(options, {
    startToCloseTimeout: '1 minute',
    taskQueue: 'q-host-a',
    scheduleToStartTimeout: '7 seconds',
  });
});

test('only a step nobody started in time means the host is gone', () => {
  const failure = (cause: Error) => new ActivityFailure('x', 'runRepoTests', '1', 0 as never, 'id', cause);
  assert.ok(hostLost(failure(new TimeoutFailure('no worker', undefined, 'SCHEDULE_TO_START'))));
  assert.ok(!hostLost(failure(new TimeoutFailure('beat', undefined, 'HEARTBEAT'))));
  assert.ok(!hostLost(failure(ApplicationFailure.create({ message: 'boom' }))));
  assert.ok(!hostLost(new Error('plain')));
});

test("a worker's id: stable for its work folder, different for another, validated when given; its warm containers", () => {
  const a = settingsFromEnv({ OPSGUARD_HOME: '/srv/a' }).host;
  assert.equal(settingsFromEnv({ OPSGUARD_HOME: '/srv/a' }).host.workerId, a.workerId);
  assert.notEqual(settingsFromEnv({ OPSGUARD_HOME: '/srv/b' }).host.workerId, a.workerId);
  assert.equal(a.waitSeconds, 60);
  assert.equal(hostTaskQueue('opsguard', 'w1'), 'opsguard-host-w1');
  assert.equal(settingsFromEnv({ OPSGUARD_WORKER_ID: 'box-7' }).host.workerId, 'box-7');
  assert.throws(() => settingsFromEnv({ OPSGUARD_WORKER_ID: 'a b/c' }), SettingsError);
  assert.throws(() => settingsFromEnv({ OPSGUARD_HOST_WAIT_SECONDS: '0' }), /OPSGUARD_HOST_WAIT_SECONDS/);
  // Warm containers: 8 by default, 0 turns them off, anything else is refused by name.
  assert.equal(a.warmContainers, 8);
  assert.equal(settingsFromEnv({ OPSGUARD_WARM_CONTAINERS: '0' }).host.warmContainers, 0);
  assert.throws(() => settingsFromEnv({ OPSGUARD_WARM_CONTAINERS: 'lots' }), /OPSGUARD_WARM_CONTAINERS must be/);
});

test('the content digest: equal for a copy, different after an edit of the same size, a new file or a rename', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-digest-'));
  const a = path.join(dir, 'a');
  fs.mkdirSync(path.join(a, 'pkg'), { recursive: true });
  fs.writeFileSync(path.join(a, 'pkg', 'mod.py'), 'def f():\n    return 1\n');
  fs.writeFileSync(path.join(a, 'README.md'), 'hello\n');
  const b = path.join(dir, 'b');
  fs.cpSync(a, b, { recursive: true });
  const digest = async (root: string) => await treeDigest(root, await listFiles(root));
  const original = await digest(a);
  assert.equal(await digest(b), original, 'a copy has the same digest');
  fs.writeFileSync(path.join(b, 'pkg', 'mod.py'), 'def f():\n    return 2\n'); // same size
  assert.notEqual(await digest(b), original);
  fs.cpSync(path.join(a, 'pkg', 'mod.py'), path.join(b, 'pkg', 'mod.py'));
  assert.equal(await digest(b), original);
  fs.writeFileSync(path.join(b, 'new.py'), '');
  assert.notEqual(await digest(b), original);
  fs.rmSync(path.join(b, 'new.py'));
  fs.renameSync(path.join(b, 'README.md'), path.join(b, 'README.txt'));
  assert.notEqual(await digest(b), original);
});

test('setupWorkspace adopting a moved incident: same tree rebuilt with its recorded origin; a changed repository or an unseen artifact folder refused', async () => {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-adopt-')));
  const repo = path.join(dir, 'repo');
  fs.mkdirSync(repo);
  fs.writeFileSync(path.join(repo, 'app.py'), 'def f():\n    return 1\n');
  const shared = path.join(dir, 'shared');
  const roots = (home: string) => ({
    artifactsDir: shared,
    workDir: path.join(dir, home, 'work'),
    repositories: { roots: [dir], maxBytes: 1e9, promptFileBytes: 100_000 },
  });
  const args = { incidentId: 'inc-1', repoPath: repo, errorLog: 'ValueError: x' };
  const here = { queue: 'q-host-a', worker: 'a', waitSeconds: 60 };
  const first = await setupWorkspace(roots('a'), args, () => here);
  assert.deepEqual(first.host, here);
  assert.ok(first.treeDigest);
  // An incident not pinned anywhere (no host) never needs the digest: it is not read.
  assert.equal((await setupWorkspace(roots('c'), { ...args, incidentId: 'inc-0' })).treeDigest, undefined);
  const adopt = { treeDigest: first.treeDigest ?? '', sameTree: true, from: 'a' };

  const moved = await setupWorkspace(roots('b'), { ...args, adopt }, () => ({ ...here, worker: 'b' }));
  assert.equal(moved.treeDigest, first.treeDigest);
  assert.equal(moved.host?.worker, 'b');
  assert.ok(fs.existsSync(path.join(dir, 'b', 'work', 'inc-1', 'workspace', 'app.py')));

  fs.writeFileSync(path.join(repo, 'app.py'), 'def f():\n    return 2\n');
  await assert.rejects(
    setupWorkspace(roots('c'), { ...args, adopt }),
    (err: ApplicationFailure) =>
      err.type === 'RepositoryChanged' && /no longer the tree it started on/.test(err.message),
  );
  assert.ok(!fs.existsSync(path.join(dir, 'c', 'work', 'inc-1')), 'no half-made workspace is left');
  // After the proof (sameTree false) a newer repository is fine: delivery deals with a newer head.
  await setupWorkspace(roots('c'), { ...args, adopt: { ...adopt, sameTree: false } });

  const elsewhere = { ...roots('d'), artifactsDir: path.join(dir, 'not-shared') };
  await assert.rejects(
    setupWorkspace(elsewhere, { ...args, adopt: { ...adopt, sameTree: false } }),
    (err: ApplicationFailure) => err.type === 'IncidentFilesLost' && /OPSGUARD_ARTIFACTS_DIR/.test(err.message),
  );
});
