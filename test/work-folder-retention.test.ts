/**
 * Work folders of closed incidents go once they have been closed for OPSGUARD_WORK_RETENTION_HOURS;
 * a running incident's folder, another namespace's, one without an owner file and one closed within
 * the retention stay. Real Temporal (the incidents' states are real workflows: one terminated, one
 * running on a queue nobody polls), a real worker process sweeping its own work folder.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { OWNER_FILE } from '../activities/incident-paths';
import { removeClosedIncidentFolders, temporalFolderState } from '../worker/work-folder-retention';
import { startScriptedModel } from './support/scripted-model-server';
import { startTestServer, TEST_TEMPORAL_ADDRESS } from './support/temporal';
import { startWorkerProcess, workerEnv } from './support/worker-process';

test("a closed incident's work folder goes after the retention; running, foreign and unowned ones stay", async () => {
  const server = await startTestServer();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-retention-'));
  const workDir = path.join(tmp, 'home', 'work');
  const connection = await Connection.connect({ address: TEST_TEMPORAL_ADDRESS });
  const client = new Client({ connection });
  const model = await startScriptedModel([]);
  let worker: ReturnType<typeof startWorkerProcess> | undefined;
  const runningId = `retention-running-${randomUUID()}`;
  try {
    // Two real incidents that never run (nobody polls their queue): one closed, one running.
    const idle = `retention-nobody-${randomUUID()}`;
    const start = (id: string) =>
      client.workflow.start('remediateIncident', { taskQueue: idle, workflowId: id, args: [{}] });
    const closedId = `retention-closed-${randomUUID()}`;
    await (await start(closedId)).terminate('the test closes it');
    await start(runningId);

    const folder = (name: string, owner?: { workflowId: string; namespace: string }) => {
      const dir = path.join(workDir, name);
      fs.mkdirSync(path.join(dir, 'workspace', 'app'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'workspace', 'app', 'config.py'), 'X = 1\n');
      if (owner) fs.writeFileSync(path.join(dir, OWNER_FILE), JSON.stringify(owner));
      return dir;
    };
    // The folder's name is the incident id, which need not be the workflow id: the owner file says.
    const closed = folder('incident-closed', { workflowId: closedId, namespace: 'default' });
    const running = folder('incident-running', { workflowId: runningId, namespace: 'default' });
    const foreign = folder('incident-foreign', { workflowId: closedId, namespace: 'another-namespace' });
    const unowned = folder('incident-unowned');
    const unknownWorkflow = folder('incident-forgotten', { workflowId: `never-${randomUUID()}`, namespace: 'default' });
    const trash = path.join(workDir, '.trash-incident-old-0a1b2c3d');
    fs.mkdirSync(trash);

    // Within an hour's retention nothing goes: a folder changed within it is not even asked about,
    // and one unchanged for two hours is kept while its incident closed only just now.
    const state = temporalFolderState(async () => client, 'default');
    const fresh = await removeClosedIncidentFolders(workDir, 3_600_000, state);
    assert.deepEqual(fresh, { removed: [], unknown: 0 }, 'folders changed within the retention: not asked about');
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    for (const dir of [closed, running, foreign, unowned, unknownWorkflow])
      fs.utimesSync(dir, twoHoursAgo, twoHoursAgo);
    const early = await removeClosedIncidentFolders(workDir, 3_600_000, state);
    assert.deepEqual(early.removed, [], 'closed within the retention: kept');
    assert.equal(early.unknown, 3, 'the foreign, the unowned and the forgotten folder cannot be told');
    assert.ok(fs.existsSync(closed));

    // A worker with a retention of about 2 s sweeps its own work folder every second.
    worker = startWorkerProcess({
      ...workerEnv({ taskQueue: `retention-${randomUUID()}`, dir: tmp, modelURL: model.baseURL }),
      OPSGUARD_WORK_RETENTION_HOURS: '0.0005',
    });
    // The folder vanishes at its rename; the worker says so only once the removal is done, so wait
    // for the line, not for the folder.
    const said = /\[WORK\] removed the work folders of 1 incident\(s\) closed more than 0\.0005 h ago/;
    for (let i = 0; i < 150 && !said.test(worker.output()); i++) await new Promise((r) => setTimeout(r, 200));
    assert.equal(
      fs.existsSync(closed),
      false,
      `the closed incident's folder is gone; the worker said:\n${worker.output()}`,
    );
    assert.match(worker.output(), said);
    assert.equal(fs.existsSync(trash), false, "a crash's half-removed folder goes too");
    // Two more sweeps: what stays, stays.
    await new Promise((r) => setTimeout(r, 2500));
    for (const kept of [running, foreign, unowned, unknownWorkflow])
      assert.ok(fs.existsSync(path.join(kept, 'workspace', 'app', 'config.py')), `${path.basename(kept)} is kept`);
    assert.deepEqual(
      fs.readdirSync(workDir).sort(),
      ['incident-foreign', 'incident-forgotten', 'incident-running', 'incident-unowned'],
      'nothing else was removed, and nothing was left half-removed',
    );
  } finally {
    await worker?.kill();
    await client.workflow
      .getHandle(runningId)
      .terminate('the test is over')
      .catch(() => undefined);
    await model.close();
    await connection.close();
    if (!process.env.OPSGUARD_TEST_TEMPORAL_ADDRESS) await server.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
