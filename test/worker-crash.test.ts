/**
 * A worker killed (SIGKILL) while a model call is in flight: the call is made again by the next worker
 * once the dead one's heartbeat stops, and the incident ends as a clean run does.
 * A worker killed (SIGKILL) while its sandbox container runs, with a second, live worker of another
 * queue on the same Docker engine: the live neighbour's janitor leaves the running container alone;
 * the replacement worker's janitor removes the dead worker's container at start; the step is retried
 * once its heartbeat stops (10 s); the incident ends as a clean run does; no container of its own is
 * left; proof.json is whole; the original repository is untouched.
 * A worker killed between writing two artifacts: the next worker writes the whole set again, proof.json
 * last, and no temporary file is left. Real worker processes, real Temporal and Docker.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { INCIDENT_LABEL, OWNER_LABEL } from '../sandbox/labels';
import { stateQuery } from '../workflows/operator-api';
import { exampleDir, hashTree, recordedTurns } from './support/remediation-harness';
import { startScriptedModel } from './support/scripted-model-server';
import type { ScriptedTurn } from './support/scripted-model-server';
import { startTestServer, TEST_TEMPORAL_ADDRESS } from './support/temporal';
import { approveWhenVerified, startIncident, startWorkerProcess, workerEnv } from './support/worker-process';
import type { WorkerProcess } from './support/worker-process';

const [REPRO, FIX, PR] = recordedTurns('config-loader') as [ScriptedTurn, ScriptedTurn, ScriptedTurn];
/** The recorded reproduction, six seconds slower: long enough to kill its worker while it runs. */
const SLOW_REPRO: ScriptedTurn = {
  ...REPRO,
  answer: (REPRO.answer as string).replace('```python\n', '```python\nimport time\ntime.sleep(6)\n'),
};

const containers = (incidentId: string) =>
  execFileSync(
    'docker',
    [
      'ps',
      '-a',
      '--filter',
      `label=${INCIDENT_LABEL}=${incidentId}`,
      '--format',
      `{{.ID}} {{.Label "${OWNER_LABEL}"}}`,
    ],
    { encoding: 'utf8' },
  )
    .trim()
    .split('\n')
    .filter(Boolean);

test('a worker killed mid-container: its container is removed by the next worker, not by a live neighbour; the incident ends right', async () => {
  const server = await startTestServer();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-worker-crash-'));
  const repo = path.join(tmp, 'repo');
  fs.cpSync(path.join(exampleDir('config-loader'), 'repo'), repo, { recursive: true });
  const before = hashTree(repo);
  const model = await startScriptedModel([SLOW_REPRO, FIX, PR]);
  const taskQueue = `worker-crash-${randomUUID()}`;
  const env = workerEnv({ taskQueue, dir: tmp, modelURL: model.baseURL });
  const workers: WorkerProcess[] = [];
  const connection = await Connection.connect({ address: TEST_TEMPORAL_ADDRESS });
  try {
    const first = startWorkerProcess(env);
    workers.push(first);
    const client = new Client({ connection });
    const incidentId = `worker-crash-${randomUUID()}`;
    const handle = await startIncident(client, { taskQueue, workflowId: incidentId, repo });
    // The reproduction's containers run under the first worker.
    const reproducing = async () =>
      (await handle.query(stateQuery).catch(() => null))?.step === 'reproduce_attempt_1' &&
      containers(incidentId).length > 0;
    for (let i = 0; i < 300 && !(await reproducing()); i++) await new Promise((r) => setTimeout(r, 200));
    assert.ok(await reproducing(), first.output());
    const orphans = containers(incidentId);
    assert.ok(
      orphans.every((c) => c.includes(`/${first.child.pid}/`)),
      `owned by the first worker: ${orphans.join(', ')}`,
    );

    // A live neighbour on the same engine (another queue, another home) starts: it must not touch them.
    const neighbour = startWorkerProcess({
      ...env,
      OPSGUARD_TASK_QUEUE: `neighbour-${randomUUID()}`,
      OPSGUARD_HOME: path.join(tmp, 'neighbour'),
    });
    workers.push(neighbour);
    await neighbour.polling;
    assert.deepEqual(containers(incidentId), orphans, "a live worker's containers survive a neighbour's janitor");
    assert.doesNotMatch(neighbour.output(), /\[JANITOR\]/);

    // The first worker dies with its containers running; the replacement removes them at start.
    await first.kill();
    assert.deepEqual(containers(incidentId), orphans, 'the engine keeps running them after their worker died');
    const replacement = startWorkerProcess(env);
    workers.push(replacement);
    await replacement.polling;
    assert.match(
      replacement.output(),
      /\[JANITOR\] removed \d+ leftover sandbox container\(s\): \d+ of a worker that has ended/,
    );
    for (const c of orphans) assert.ok(!containers(incidentId).includes(c), `${c} was removed`);

    // The step is retried on the replacement once the dead worker's heartbeat stops; the incident goes on.
    await approveWhenVerified(handle, () => replacement.output());
    const result = await handle.result();
    assert.equal(result.status, 'approved', result.reason);
    assert.equal(result.reproductionAttempts.length, 1, 'the retried step is the same attempt, not a new one');
    const proof = JSON.parse(fs.readFileSync(result.artifacts['proof.json'] ?? '', 'utf8')) as { status: string };
    assert.equal(proof.status, 'approved');
    for (let i = 0; i < 50 && containers(incidentId).length; i++) await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(containers(incidentId), [], 'no container of this incident is left');
    assert.equal(hashTree(repo), before, 'the original repository is untouched');
  } finally {
    for (const w of workers) await w.kill();
    await connection.close();
    await model.close();
    if (!process.env.OPSGUARD_TEST_TEMPORAL_ADDRESS) await server.stop();
  }
});

test('a worker killed while a model call is in flight: the next worker asks again and the incident ends right', async () => {
  const server = await startTestServer();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-model-crash-'));
  const repo = path.join(tmp, 'repo');
  fs.cpSync(path.join(exampleDir('config-loader'), 'repo'), repo, { recursive: true });
  // The first answer comes only after the worker that asked is gone.
  const model = await startScriptedModel([{ ...REPRO, delayMs: 60_000 }, REPRO, FIX, PR]);
  const taskQueue = `model-crash-${randomUUID()}`;
  const env = workerEnv({ taskQueue, dir: tmp, modelURL: model.baseURL });
  const workers: WorkerProcess[] = [];
  const connection = await Connection.connect({ address: TEST_TEMPORAL_ADDRESS });
  try {
    const first = startWorkerProcess(env);
    workers.push(first);
    const handle = await startIncident(new Client({ connection }), {
      taskQueue,
      workflowId: `model-crash-${randomUUID()}`,
      repo,
    });
    for (let i = 0; i < 300 && model.requests.length === 0; i++) await new Promise((r) => setTimeout(r, 200));
    assert.equal(model.requests.length, 1, 'the model was asked');
    await first.kill();
    const replacement = startWorkerProcess(env);
    workers.push(replacement);
    await approveWhenVerified(handle, () => replacement.output());
    const result = await handle.result();
    assert.equal(result.status, 'approved', result.reason);
    assert.equal(result.reproductionAttempts.length, 1, 'the same attempt, asked again');
    assert.deepEqual(
      model.requests.map((r) => r.task),
      ['write_reproduction', 'write_reproduction', 'write_fix', 'write_pr_description'],
    );
  } finally {
    for (const w of workers) await w.kill();
    await connection.close();
    await model.close();
    if (!process.env.OPSGUARD_TEST_TEMPORAL_ADDRESS) await server.stop();
  }
});

test('a worker killed between writing two artifacts: the next worker writes them all again; the folder is whole', async () => {
  const server = await startTestServer();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-artifact-crash-'));
  const repo = path.join(tmp, 'repo');
  fs.cpSync(path.join(exampleDir('config-loader'), 'repo'), repo, { recursive: true });
  const before = hashTree(repo);
  const model = await startScriptedModel([REPRO, FIX, PR]);
  const taskQueue = `artifact-crash-${randomUUID()}`;
  const env = workerEnv({ taskQueue, dir: tmp, modelURL: model.baseURL });
  const workers: WorkerProcess[] = [];
  const connection = await Connection.connect({ address: TEST_TEMPORAL_ADDRESS });
  try {
    // The first worker stops after the first artifact file (activities/fault-points.ts) and is killed there.
    const first = startWorkerProcess({ ...env, OPSGUARD_TEST_PAUSE_AT: 'between-artifacts' });
    workers.push(first);
    const incidentId = `artifact-crash-${randomUUID()}`;
    const handle = await startIncident(new Client({ connection }), { taskQueue, workflowId: incidentId, repo });
    const paused = () => first.output().includes('[FAULT] paused at between-artifacts');
    for (let i = 0; i < 900 && !paused(); i++) await new Promise((r) => setTimeout(r, 200));
    assert.ok(paused(), first.output());
    const artifactDir = path.join(tmp, 'home', 'artifacts', incidentId);
    assert.ok(fs.existsSync(path.join(artifactDir, 'patch.diff')), 'the first file is written');
    assert.ok(!fs.existsSync(path.join(artifactDir, 'proof.json')), 'proof.json (written last) is not');
    // A temporary file as a writer killed mid-write would leave it.
    fs.writeFileSync(path.join(artifactDir, 'reproduction.py.tmp-0badc0de'), 'half a scr');
    await first.kill();

    const replacement = startWorkerProcess(env);
    workers.push(replacement);
    await approveWhenVerified(handle, () => replacement.output());
    const result = await handle.result();
    assert.equal(result.status, 'approved', result.reason);
    const proof = JSON.parse(fs.readFileSync(path.join(artifactDir, 'proof.json'), 'utf8')) as {
      status: string;
      artifacts: Record<string, string>;
    };
    assert.equal(proof.status, 'approved');
    for (const [name, file] of Object.entries(proof.artifacts))
      if (name !== 'incident.log') assert.ok(fs.statSync(file).size > 0, `${name} is whole`);
    assert.equal(
      createHash('sha256')
        .update(fs.readFileSync(path.join(artifactDir, 'patch.diff')))
        .digest('hex'),
      result.patchSha256,
      'patch.diff is the verified fix the person approved',
    );
    assert.deepEqual(
      (fs.readdirSync(artifactDir, { recursive: true }) as string[]).filter((f) => f.includes('.tmp-')),
      [],
      'no temporary file is left',
    );
    assert.deepEqual(containers(incidentId), [], 'no container of this incident is left');
    assert.equal(hashTree(repo), before, 'the original repository is untouched');
  } finally {
    for (const w of workers) await w.kill();
    await connection.close();
    await model.close();
    if (!process.env.OPSGUARD_TEST_TEMPORAL_ADDRESS) await server.stop();
  }
});
