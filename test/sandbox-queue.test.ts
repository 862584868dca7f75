/**
 * A worker started with no reachable Docker engine says so at start and takes no container step; it
 * still answers the incident's queries and runs its file and model steps. The container steps wait on
 * the sandbox queue (workflows/task-queues.ts) until a worker whose engine answers polls it; then the
 * incident ends as a clean run does, every container step run by that worker, none of its containers
 * left. Real worker processes, real Temporal and Docker.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { INCIDENT_LABEL } from '../sandbox/labels';
import { stateQuery } from '../workflows/operator-api';
import { SANDBOX_ACTIVITY_NAMES, sandboxTaskQueue } from '../workflows/task-queues';
import { exampleDir, hashTree, recordedTurns } from './support/remediation-harness';
import { startScriptedModel } from './support/scripted-model-server';
import { startTestServer, TEST_TEMPORAL_ADDRESS } from './support/temporal';
import { approveWhenVerified, startIncident, startWorkerProcess, workerEnv } from './support/worker-process';
import type { WorkerProcess } from './support/worker-process';

const containers = (incidentId: string) =>
  execFileSync('docker', ['ps', '-a', '-q', '--filter', `label=${INCIDENT_LABEL}=${incidentId}`], {
    encoding: 'utf8',
  })
    .trim()
    .split('\n')
    .filter(Boolean);

test('a worker without a Docker engine serves the incident but takes no container step; a worker with one does', async () => {
  const server = await startTestServer();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-sandbox-queue-'));
  const repo = path.join(tmp, 'repo');
  fs.cpSync(path.join(exampleDir('config-loader'), 'repo'), repo, { recursive: true });
  const before = hashTree(repo);
  const model = await startScriptedModel(recordedTurns('config-loader'));
  const taskQueue = `sandbox-queue-${randomUUID()}`;
  const env = workerEnv({ taskQueue, dir: tmp, modelURL: model.baseURL });
  const workers: WorkerProcess[] = [];
  const connection = await Connection.connect({ address: TEST_TEMPORAL_ADDRESS });
  try {
    const engineless = startWorkerProcess({ ...env, DOCKER_HOST: `unix://${path.join(tmp, 'no-engine.sock')}` });
    workers.push(engineless);
    await engineless.polling;
    assert.match(engineless.output(), /the Docker engine does not answer at unix:\/\/.*no-engine\.sock/);
    assert.match(engineless.output(), new RegExp(`not polling '${sandboxTaskQueue(taskQueue)}' \\(container steps\\)`));

    const incidentId = `sandbox-queue-${randomUUID()}`;
    const handle = await startIncident(new Client({ connection }), { taskQueue, workflowId: incidentId, repo });
    // The first container step (preparing the environment) is scheduled on the sandbox queue and waits there.
    const waitingStep = async () => {
      const pending = (await handle.describe()).raw.pendingActivities ?? [];
      return pending.find((p) => SANDBOX_ACTIVITY_NAMES.includes(p.activityType?.name as never));
    };
    for (let i = 0; i < 150 && !(await waitingStep()); i++) await new Promise((r) => setTimeout(r, 200));
    await new Promise((r) => setTimeout(r, 3000));
    const waiting = await waitingStep();
    assert.equal(waiting?.activityType?.name, 'prepareEnvironment', engineless.output());
    assert.equal(String(waiting?.state), '1', 'scheduled, not started (PENDING_ACTIVITY_STATE_SCHEDULED)');
    // The engineless worker still answers the incident's queries and ran its file steps.
    const state = await handle.query(stateQuery);
    assert.equal(state.status, 'running');
    assert.equal(state.step, 'prepare_environment');
    assert.deepEqual(containers(incidentId), [], 'no container was made');

    // A worker with an engine takes the container steps; the incident ends as a clean run does.
    const withEngine = startWorkerProcess(env);
    workers.push(withEngine);
    await approveWhenVerified(handle, () => `${engineless.output()}\n---\n${withEngine.output()}`);
    const result = await handle.result();
    assert.equal(result.status, 'approved', result.reason);

    // Every container step ran on the sandbox queue, started by the worker with the engine.
    const events = (await handle.fetchHistory()).events ?? [];
    const scheduled = events.filter((e) =>
      SANDBOX_ACTIVITY_NAMES.includes(e.activityTaskScheduledEventAttributes?.activityType?.name as never),
    );
    assert.ok(scheduled.length >= 4, `container steps: ${scheduled.length}`);
    for (const e of scheduled)
      assert.equal(e.activityTaskScheduledEventAttributes?.taskQueue?.name, sandboxTaskQueue(taskQueue));
    const ids = new Set(scheduled.map((e) => String(e.eventId)));
    const starters = events
      .filter((e) => ids.has(String(e.activityTaskStartedEventAttributes?.scheduledEventId)))
      .map((e) => e.activityTaskStartedEventAttributes?.identity ?? '');
    assert.ok(starters.length >= 4);
    assert.ok(
      starters.every((id) => id.startsWith(`${withEngine.child.pid}@`)),
      `started by ${starters.join(', ')}; the engine's worker is ${withEngine.child.pid}`,
    );
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
