/**
 * Repositories the worker may not read, with a worker that runs as an unprivileged user (uid 65534),
 * as a hardened deployment runs it (root reads everything, so a root worker cannot meet this): a
 * repository folder it may not list fails at once, RepoNotFound saying so, not retried, nothing
 * copied; a repository with a file and a folder it may not read is remediated without them, and
 * proof.json names both. The unprivileged worker has no Docker socket either, so it takes no
 * container step (the sandbox queue); a second worker of the same user, given the socket's group,
 * runs those. Real worker
 * processes, real Temporal and Docker. NOT RUN (said loudly) where the tests do not run as root.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { INCIDENT_LABEL } from '../sandbox/labels';
import { settingsFromEnv } from '../worker/settings';
import { prebuiltWorkflowBundle } from '../worker/workflow-bundle';
import { stateQuery } from '../workflows/operator-api';
import { exampleDir, hashTree, recordedTurns } from './support/remediation-harness';
import { startScriptedModel } from './support/scripted-model-server';
import { startTestServer, TEST_TEMPORAL_ADDRESS } from './support/temporal';
import { approveWhenVerified, startIncident, startWorkerProcess, workerEnv } from './support/worker-process';
import type { WorkerProcess } from './support/worker-process';

const NOBODY = { uid: 65534, gid: 65534 };
const isRoot = process.getuid?.() === 0;

/** The group that may use the Docker engine's socket (the one the worker's settings name). */
function dockerSocketGroup(): number {
  const host = settingsFromEnv().dockerHost;
  if (!host.startsWith('unix://')) throw new Error(`this test needs a unix-socket DOCKER_HOST, not ${host}`);
  return fs.statSync(host.slice('unix://'.length)).gid;
}

const containers = (incidentId: string) =>
  execFileSync('docker', ['ps', '-a', '-q', '--filter', `label=${INCIDENT_LABEL}=${incidentId}`], {
    encoding: 'utf8',
  }).trim();

test('an unprivileged worker: a repository it may not list is refused; files it may not read are left out and named', async (t) => {
  if (!isRoot) {
    console.error('NOT RUN: needs root to start a worker as another user (uid 65534)');
    t.skip('NOT RUN: needs root to start a worker as another user');
    return;
  }
  const server = await startTestServer();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-unreadable-'));
  fs.chmodSync(tmp, 0o755);
  const home = path.join(tmp, 'home');
  fs.mkdirSync(home);
  fs.chownSync(home, NOBODY.uid, NOBODY.gid);
  // A repository the worker's user may not list at all.
  const locked = path.join(tmp, 'locked-repo');
  fs.cpSync(path.join(exampleDir('config-loader'), 'repo'), locked, { recursive: true });
  fs.chmodSync(locked, 0o700);
  // A repository with a private key and a folder the worker's user may not read.
  const repo = path.join(tmp, 'repo');
  fs.cpSync(path.join(exampleDir('config-loader'), 'repo'), repo, { recursive: true });
  fs.writeFileSync(path.join(repo, 'deploy.key'), 'PRIVATE KEY MATERIAL\n', { mode: 0o600 });
  fs.mkdirSync(path.join(repo, 'ops-private'), { mode: 0o700 });
  fs.writeFileSync(path.join(repo, 'ops-private', 'notes.txt'), 'root only\n');
  fs.chmodSync(path.join(repo, 'ops-private'), 0o700);
  const before = { locked: hashTree(locked), repo: hashTree(repo) };

  const model = await startScriptedModel(recordedTurns('config-loader'));
  const taskQueue = `unreadable-${randomUUID()}`;
  const env = { ...workerEnv({ taskQueue, dir: tmp, modelURL: model.baseURL }), OPSGUARD_HOME: home };
  const workers: WorkerProcess[] = [];
  const connection = await Connection.connect({ address: TEST_TEMPORAL_ADDRESS });
  try {
    // The workflow bundle of this code version, built as the project's owner (a worker of another user only reads it).
    await prebuiltWorkflowBundle(() => undefined);
    const unprivileged = startWorkerProcess({ ...env, HOME: home }, NOBODY);
    workers.push(unprivileged);
    const exited = new Promise<void>((r) => unprivileged.child.once('exit', () => r()));
    await Promise.race([unprivileged.polling, exited]);
    assert.ok(unprivileged.child.exitCode === null, `the unprivileged worker exited:\n${unprivileged.output()}`);
    assert.match(unprivileged.output(), /the Docker engine does not answer .*no permission on its socket/);
    const client = new Client({ connection });

    // 1. The folder it may not list: refused at once, nothing copied.
    const lockedId = `unreadable-locked-${randomUUID()}`;
    const refused = await startIncident(client, { taskQueue, workflowId: lockedId, repo: locked });
    const err = await refused.result().then(
      () => assert.fail('the incident should fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkflowFailedError, String(err));
    const cause = err.cause?.cause ?? err.cause;
    assert.ok(cause instanceof ApplicationFailure, JSON.stringify(cause));
    assert.equal(cause.type, 'RepoNotFound');
    assert.equal(cause.nonRetryable, true);
    assert.match(
      cause.message,
      /is not a directory the worker can read \(it is a directory the worker's user, uid 65534, may not read\)/,
    );
    assert.ok(!fs.existsSync(path.join(home, 'work', lockedId)), 'nothing was copied');

    // 2. The files it may not read: the unprivileged worker makes the workspace without them...
    const incidentId = `unreadable-files-${randomUUID()}`;
    const handle = await startIncident(client, { taskQueue, workflowId: incidentId, repo });
    const preparing = async () => (await handle.query(stateQuery).catch(() => null))?.step === 'prepare_environment';
    for (let i = 0; i < 300 && !(await preparing()); i++) await new Promise((r) => setTimeout(r, 200));
    assert.ok(await preparing(), unprivileged.output());
    const workspace = path.join(home, 'work', incidentId, 'workspace');
    assert.ok(fs.existsSync(path.join(workspace, 'app')), 'the workspace is made');
    assert.ok(!fs.existsSync(path.join(workspace, 'deploy.key')), 'the unreadable file is not in it');
    assert.deepEqual(fs.readdirSync(path.join(workspace, 'ops-private')), [], "nor the unreadable folder's files");

    // ...and a worker with the engine runs the container steps; the incident ends right. The same
    // user, given the socket's group: both workers share the home and take any step, and a root
    // worker there made folders the unprivileged one could not write in (EACCES on patch.diff).
    const withEngine = startWorkerProcess({ ...env, HOME: home }, { uid: NOBODY.uid, gid: dockerSocketGroup() });
    workers.push(withEngine);
    await approveWhenVerified(handle, () => `${unprivileged.output()}\n---\n${withEngine.output()}`);
    const result = await handle.result();
    assert.equal(result.status, 'approved', result.reason);
    const proof = JSON.parse(fs.readFileSync(result.artifacts['proof.json'] ?? '', 'utf8')) as {
      repositoryRedactions: { skipped: { file: string; why: string }[] };
    };
    assert.deepEqual(proof.repositoryRedactions.skipped.map((s) => `${s.file}: ${s.why}`).sort(), [
      'deploy.key: the worker cannot read it',
      'ops-private/: the worker cannot read it',
    ]);
    assert.equal(containers(incidentId), '', 'no container of this incident is left');
    assert.deepEqual({ locked: hashTree(locked), repo: hashTree(repo) }, before, 'the originals are untouched');
  } finally {
    for (const w of workers) await w.kill();
    await connection.close();
    await model.close();
    if (!process.env.OPSGUARD_TEST_TEMPORAL_ADDRESS) await server.stop();
  }
});
