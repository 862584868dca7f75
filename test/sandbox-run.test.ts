import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { dockerFromEnv } from '../sandbox/docker-client';
import { runInSandbox } from '../sandbox/run-container';
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
