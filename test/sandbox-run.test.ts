import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import Docker from 'dockerode';
import { dockerFromEnv } from '../sandbox/docker-client';
import { owedRemovals, settleOwedRemovals } from '../sandbox/owed-removals';
import { runInSandbox, SandboxContainer } from '../sandbox/run-container';
import { settingsFromEnv } from '../worker/settings';
import { DEFAULT_LIMITS } from '../sandbox/limits';
import { ownContainers, sandboxImage, TEST_RUN_ID } from './support/docker';

const docker = dockerFromEnv();
const limits = { ...DEFAULT_LIMITS, timeoutSeconds: 20 };

/** This file's containers still on the engine (they carry TEST_RUN_ID as their incident label). */
async function leftovers(): Promise<number> {
  return (await ownContainers(docker)).length;
}

test('exit code, stdout and stderr come back separately and exactly', async () => {
  const r = await runInSandbox(docker, {
    image: sandboxImage(),
    incidentId: TEST_RUN_ID,
    argv: ['python3', '-c', 'import sys; print("to-out"); print("to-err", file=sys.stderr); sys.exit(7)'],
    limits,
  });
  assert.equal(r.exitCode, 7);
  assert.equal(r.stdout, 'to-out\n');
  assert.equal(r.stderr, 'to-err\n');
  assert.equal(r.timedOut, false);
  assert.match(r.imageId, /^sha256:[0-9a-f]{64}$/);
  assert.equal(await leftovers(), 0, 'the container was removed');
});

test('the container has no network: only a loopback interface exists', async () => {
  const r = await runInSandbox(docker, {
    image: sandboxImage(),
    incidentId: TEST_RUN_ID,
    argv: ['python3', '-c', 'import socket; print(sorted(n for _, n in socket.if_nameindex()))'],
    limits,
  });
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.stdout.trim(), "['lo']");
});

test('a run past its deadline is killed and reported as timed out', async () => {
  const r = await runInSandbox(docker, {
    image: sandboxImage(),
    incidentId: TEST_RUN_ID,
    argv: ['python3', '-c', 'while True: pass'],
    limits: { ...limits, timeoutSeconds: 2 },
  });
  assert.equal(r.timedOut, true);
  assert.equal(r.exitCode, 137);
  assert.equal(await leftovers(), 0);
});

test('output past the cap is counted, dropped and flagged', async () => {
  const r = await runInSandbox(docker, {
    image: sandboxImage(),
    incidentId: TEST_RUN_ID,
    argv: ['python3', '-c', 'import sys; sys.stdout.write("x" * 100000)'],
    limits: { ...limits, outputBytes: 1000 },
  });
  assert.equal(r.exitCode, 0);
  assert.ok(r.stdout.startsWith('x'.repeat(1000) + '\n…['), 'head kept, then the drop marker');
  assert.match(r.stdout, /bytes dropped by OpsGuard.s output cap/);
  assert.equal(r.stdoutBytes, 100000);
  assert.equal(r.stdoutTruncated, true);
  assert.equal(r.stderrTruncated, false);
});

/** Docker (cgroup v1) honours BlkioWeight only where blkio.weight exists; elsewhere it drops it with a warning. */
const kernelDropsIoWeight =
  fs.existsSync('/sys/fs/cgroup/blkio') && !fs.existsSync('/sys/fs/cgroup/blkio/blkio.weight');

test("a limit the daemon drops comes back in the run's warnings, not silently", async (t) => {
  if (!kernelDropsIoWeight) {
    t.skip('NOT RUN: this kernel enforces block I/O weight, so no dropped-limit warning can be provoked here');
    return;
  }
  const r = await runInSandbox(docker, {
    image: sandboxImage(),
    incidentId: TEST_RUN_ID,
    argv: ['python3', '-c', 'pass'],
    limits: { ...limits, ioWeight: 300 },
  });
  assert.equal(r.exitCode, 0);
  assert.ok(
    r.warnings.some((w) => /Block I\/O weight/.test(w)),
    `expected the daemon's warning, got ${JSON.stringify(r.warnings)}`,
  );
});

test('a container the engine could not remove is owed, and removed once the engine answers again', async (t) => {
  const host = settingsFromEnv().dockerHost;
  if (!host.startsWith('unix://')) {
    t.skip(`NOT RUN: the engine is reached at ${host}, not through a socket this test can take away`);
    return;
  }
  // A client whose socket is a link: pointing it nowhere is, to the client, an engine that stopped.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-owed-'));
  const link = path.join(dir, 'docker.sock');
  const engineUp = () => {
    fs.rmSync(link, { force: true });
    fs.symlinkSync(host.slice('unix://'.length), link);
  };
  const engineDown = () => {
    fs.rmSync(link, { force: true });
    fs.symlinkSync(path.join(dir, 'no-engine.sock'), link);
  };
  engineUp();
  try {
    const viaLink = new Docker({ socketPath: link });
    const container = await SandboxContainer.create(viaLink, {
      image: sandboxImage(),
      incidentId: TEST_RUN_ID,
      argv: ['python3', '-c', 'pass'],
      limits,
    });
    const before = owedRemovals();
    engineDown();
    await container.remove();
    assert.equal(owedRemovals(), before + 1, 'the removal the engine did not take is owed');
    assert.equal(await leftovers(), 1, 'the container is still on the engine');
    assert.equal(await settleOwedRemovals(), 0, 'nothing settles while the engine does not answer');
    assert.equal(owedRemovals(), before + 1);

    engineUp();
    assert.equal(await settleOwedRemovals(), 1);
    assert.equal(owedRemovals(), before, 'nothing is owed once it is removed');
    assert.equal(await leftovers(), 0, 'the container was removed');
  } finally {
    engineUp();
    for (const c of await ownContainers(docker)) await docker.getContainer(c.Id).remove({ force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a container already gone is not owed', async () => {
  const container = await SandboxContainer.create(docker, {
    image: sandboxImage(),
    incidentId: TEST_RUN_ID,
    argv: ['python3', '-c', 'pass'],
    limits,
  });
  await docker.getContainer(container.id).remove({ force: true });
  const before = owedRemovals();
  await container.remove();
  assert.equal(owedRemovals(), before, 'a 404 from the engine means gone, not owed');
});
