/**
 * The Temporal server restarted mid-incident (the dev server of this test's own, on its own ports,
 * with its database file): while the reproduction's containers run, the server stops and comes back
 * on the same file; the worker process reconnects by itself, the step's result reaches the server,
 * and the incident ends as a clean run does. Real server binary, real worker process, real Docker.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { ensureDevServer } from '../client/dev-server';
import type { DevServerHandle } from '../client/dev-server';
import { settingsFromEnv } from '../worker/settings';
import { stateQuery } from '../workflows/operator-api';
import type { remediateIncident } from '../workflows/remediate-incident';
import { exampleDir, recordedTurns } from './support/remediation-harness';
import { startScriptedModel } from './support/scripted-model-server';
import type { ScriptedTurn } from './support/scripted-model-server';
import { approveWhenVerified, startIncident, startWorkerProcess, workerEnv } from './support/worker-process';
import type { WorkerProcess } from './support/worker-process';

const ADDRESS = '127.0.0.1:17533';
const [REPRO, FIX, PR] = recordedTurns('config-loader') as [ScriptedTurn, ScriptedTurn, ScriptedTurn];
const SLOW_REPRO: ScriptedTurn = {
  ...REPRO,
  answer: (REPRO.answer as string).replace('```python\n', '```python\nimport time\ntime.sleep(6)\n'),
};

test('the Temporal server restarts mid-incident: the worker reconnects and the incident ends right', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-temporal-restart-'));
  const repo = path.join(tmp, 'repo');
  fs.cpSync(path.join(exampleDir('config-loader'), 'repo'), repo, { recursive: true });
  const serverOptions = {
    temporalBin: settingsFromEnv().temporalBin,
    address: ADDRESS,
    uiPort: 18533,
    dbFile: path.join(tmp, 'temporal.db'),
    logFile: path.join(tmp, 'temporal.log'),
  };
  let server: DevServerHandle = await ensureDevServer(serverOptions);
  assert.equal(server.reused, false, `another server already answers at ${ADDRESS}`);
  const model = await startScriptedModel([SLOW_REPRO, FIX, PR]);
  const taskQueue = `restart-${randomUUID()}`;
  const workers: WorkerProcess[] = [];
  let connection = await Connection.connect({ address: ADDRESS });
  try {
    const worker = startWorkerProcess({
      TEMPORAL_ADDRESS: ADDRESS,
      ...workerEnv({ taskQueue, dir: tmp, modelURL: model.baseURL }),
    });
    workers.push(worker);
    const workflowId = `restart-${randomUUID()}`;
    const handle = await startIncident(new Client({ connection }), { taskQueue, workflowId, repo });
    for (let i = 0; i < 300 && (await handle.query(stateQuery).catch(() => null))?.step !== 'reproduce_attempt_1'; i++)
      await new Promise((r) => setTimeout(r, 200));

    // Down while the containers run, back on the same database file.
    await connection.close();
    await server.stop();
    await new Promise((r) => setTimeout(r, 2000));
    server = await ensureDevServer(serverOptions);
    assert.equal(server.reused, false);
    connection = await Connection.connect({ address: ADDRESS });
    const again = new Client({ connection }).workflow.getHandle<typeof remediateIncident>(workflowId);

    await approveWhenVerified(again, () => worker.output());
    const result = await again.result();
    assert.equal(result.status, 'approved', result.reason);
    assert.equal(result.reproductionAttempts.length, 1);
    assert.ok(worker.child.exitCode === null, 'the same worker process carried on');
  } finally {
    for (const w of workers) await w.kill();
    await connection.close().catch(() => undefined);
    await model.close();
    await server.stop();
  }
});
