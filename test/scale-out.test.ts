/**
 * Many workers, each with its own disk: two real worker processes on one task queue, each with its
 * own OPSGUARD_HOME (their own work folders, dependency caches and host queues), writing artifacts
 * into one shared folder. Each incident is pinned to the worker that made its workspace
 * (workflows/host-pinning.ts). Alpha, alone, takes two incidents; beta joins; alpha is killed (SIGKILL)
 * mid-reproduction, and two more incidents start on beta alone. Alpha's incidents: their next
 * step waits OPSGUARD_HOST_WAIT_SECONDS on the dead worker's queue, then each incident moves to the
 * live worker, which rebuilds the workspace from the repository and goes on. Every incident ends
 * approved with its proof in the shared folder; the history shows the move; the command line reads
 * the artifacts through another mount of the shared folder. Real Temporal, Docker and processes.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { WorkflowHandle } from '@temporalio/client';
import { INCIDENT_LABEL } from '../sandbox/labels';
import { PROJECT_ROOT } from '../worker/settings';
import { stateQuery } from '../workflows/operator-api';
import type { remediateIncident } from '../workflows/remediate-incident';
import { exampleDir, hashTree, recordedTurns } from './support/remediation-harness';
import { startScriptedModel } from './support/scripted-model-server';
import type { ScriptedTurn } from './support/scripted-model-server';
import { startTestServer, TEST_TEMPORAL_ADDRESS } from './support/temporal';
import { approveWhenVerified, startIncident, startWorkerProcess, workerEnv } from './support/worker-process';
import type { WorkerProcess } from './support/worker-process';

const [REPRO, FIX, PR] = recordedTurns('config-loader') as [ScriptedTurn, ScriptedTurn, ScriptedTurn];
/** Each reproduction run takes four seconds: the killed worker dies with incidents mid-step. */
const SLOW_REPRO: ScriptedTurn = {
  ...REPRO,
  answer: (REPRO.answer as string).replace('```python\n', '```python\nimport time\ntime.sleep(4)\n'),
};
const INCIDENTS = 4;
const WAIT_SECONDS = 5;

const containers = (incidentId: string) =>
  execFileSync('docker', ['ps', '-aq', '--filter', `label=${INCIDENT_LABEL}=${incidentId}`], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .filter(Boolean);

test('two workers with their own disks: one is killed mid-incident, its incidents move to the other and every incident ends right', async () => {
  const server = await startTestServer();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-scale-out-'));
  const shared = path.join(tmp, 'shared-artifacts');
  const model = await startScriptedModel([SLOW_REPRO, FIX, PR], { byTask: true });
  const taskQueue = `scale-out-${randomUUID()}`;
  const base = workerEnv({ taskQueue, dir: tmp, modelURL: model.baseURL });
  const envOf = (id: string) => ({
    ...base,
    OPSGUARD_HOME: path.join(tmp, `home-${id}`),
    OPSGUARD_ARTIFACTS_DIR: shared,
    OPSGUARD_WORKER_ID: id,
    OPSGUARD_HOST_WAIT_SECONDS: String(WAIT_SECONDS),
  });
  const workers: WorkerProcess[] = [];
  const connection = await Connection.connect({ address: TEST_TEMPORAL_ADDRESS });
  const client = new Client({ connection });
  try {
    // Alpha starts alone and takes the first two incidents: it is certain to hold incidents when it
    // is killed (with both workers polling from the start, the shared queue may hand all to one).
    const alpha = startWorkerProcess(envOf('alpha'));
    workers.push(alpha);
    await alpha.polling;
    assert.match(alpha.output(), new RegExp(`and its own '${taskQueue}-host-alpha' \\(worker alpha\\)`));
    const joined: { beta?: WorkerProcess } = {};
    const output = () => `--- alpha\n${alpha.output()}\n--- beta\n${joined.beta?.output() ?? '(not started)'}`;

    const incidents: { id: string; repo: string; before: string; handle: WorkflowHandle<typeof remediateIncident> }[] =
      [];
    const start = async (i: number) => {
      const repo = path.join(tmp, `repo-${i}`);
      fs.cpSync(path.join(exampleDir('config-loader'), 'repo'), repo, { recursive: true });
      const id = `scale-out-${i}-${randomUUID().slice(0, 8)}`;
      incidents.push({
        id,
        repo,
        before: hashTree(repo),
        handle: await startIncident(client, { taskQueue, workflowId: id, repo }),
      });
    };
    const stateOf = (h: WorkflowHandle<typeof remediateIncident>) => h.query(stateQuery).catch(() => null);
    const hostsNow = async () => Promise.all(incidents.map(async (inc) => (await stateOf(inc.handle))?.result.host));
    const untilEveryIncidentHasAHost = async () => {
      for (let i = 0; i < 600; i++) {
        if ((await hostsNow()).every(Boolean)) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.fail(`not every incident got a workspace: ${JSON.stringify(await hostsNow())}\n${output()}`);
    };
    for (let i = 0; i < INCIDENTS / 2; i++) await start(i);
    await untilEveryIncidentHasAHost();

    // Beta joins; alpha is killed while it holds both (no decision is sent before, so each has pinned
    // steps left); the other incidents start after the kill and are beta's alone. Both paths run.
    const beta = startWorkerProcess(envOf('beta'));
    joined.beta = beta;
    workers.push(beta);
    await beta.polling;
    const steps = await Promise.all(incidents.map(async (inc) => (await stateOf(inc.handle))?.step));
    const hosts = await hostsNow();
    assert.deepEqual(hosts, ['alpha', 'alpha'], 'alpha, alone, made both workspaces');
    const moving = incidents.map((inc) => inc.id);
    const pinned = new Map<string, string | undefined>(incidents.map((inc, i) => [inc.id, hosts[i]]));
    await alpha.kill();
    console.log(`[TEST] alpha killed holding ${moving.length} incidents; their steps then: ${steps.join(', ')}`);
    for (let i = INCIDENTS / 2; i < INCIDENTS; i++) await start(i);
    await untilEveryIncidentHasAHost();
    for (const inc of incidents.slice(INCIDENTS / 2)) pinned.set(inc.id, (await stateOf(inc.handle))?.result.host);

    for (const inc of incidents) await approveWhenVerified(inc.handle, output);
    for (const inc of incidents) {
      const result = await inc.handle.result();
      assert.equal(result.status, 'approved', `${inc.id}: ${result.reason}\n${output()}`);
      assert.equal(result.host, 'beta', `${inc.id} ends on the live worker`);
      const wasOnAlpha = pinned.get(inc.id) === 'alpha';
      if (wasOnAlpha) {
        assert.ok(result.moves?.length, `${inc.id} was on alpha and moved`);
        assert.deepEqual(
          { from: result.moves?.[0]?.from, to: result.moves?.[0]?.to },
          { from: 'alpha', to: 'beta' },
          JSON.stringify(result.moves),
        );
        // The history shows it: a step nobody started on alpha's queue, then the workspace made again.
        const history = await inc.handle.fetchHistory();
        const events = history.events ?? [];
        const timedOut = events.filter(
          (e) =>
            e.activityTaskTimedOutEventAttributes?.failure?.timeoutFailureInfo?.timeoutType ===
            proto.temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START,
        );
        assert.ok(timedOut.length >= 1, 'a SCHEDULE_TO_START timeout on the dead worker’s queue');
        const setups = events.filter(
          (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'setupWorkspace',
        );
        assert.equal(setups.length, 1 + (result.moves?.length ?? 0), 'setupWorkspace once more per move');
        assert.ok(
          fs.existsSync(path.join(tmp, 'home-beta', 'work', inc.id, 'workspace')),
          'beta rebuilt the workspace on its own disk',
        );
      } else {
        assert.equal(result.moves, undefined, `${inc.id} never left beta`);
        assert.ok(!fs.existsSync(path.join(tmp, 'home-alpha', 'work', inc.id)), 'alpha never held it');
      }
      assert.equal(result.reproductionAttempts.length, 1, 'a move is not a new attempt');
      for (const name of ['proof.json', 'patch.diff', 'PR_DESCRIPTION.md', 'reproduction.py']) {
        assert.ok(result.artifacts[name]?.startsWith(shared), `${name} is in the shared folder`);
        assert.ok(fs.existsSync(result.artifacts[name] ?? ''), `${name} exists`);
      }
      assert.equal(hashTree(inc.repo), inc.before, 'the original repository is untouched');
    }
    assert.match(beta.output(), /\[MOVE\] worker alpha started no \w+ within 5 s; moving the incident/);

    // The command line on a machine that mounts the shared folder elsewhere reads the artifacts there.
    const elsewhere = path.join(tmp, 'mounted-elsewhere');
    fs.symlinkSync(shared, elsewhere);
    const movedId = moving[0] as string;
    fs.renameSync(shared, `${shared}.moved`); // the workers' path no longer exists on "this machine"
    fs.rmSync(elsewhere);
    fs.symlinkSync(`${shared}.moved`, elsewhere);
    const listed = JSON.parse(
      execFileSync(process.execPath, [path.join(PROJECT_ROOT, 'client', 'bin.mjs'), 'artifacts', movedId, '--json'], {
        encoding: 'utf8',
        env: { ...process.env, TEMPORAL_ADDRESS: TEST_TEMPORAL_ADDRESS, OPSGUARD_ARTIFACTS_DIR: elsewhere },
      }),
    ) as Record<string, string>;
    assert.ok(listed['proof.json']?.startsWith(elsewhere), JSON.stringify(listed));
    assert.equal(
      (JSON.parse(fs.readFileSync(listed['proof.json'] ?? '', 'utf8')) as { status: string }).status,
      'approved',
    );

    for (const inc of incidents) {
      for (let i = 0; i < 50 && containers(inc.id).length; i++) await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(containers(inc.id), [], `no container of ${inc.id} is left`);
    }
  } finally {
    for (const w of workers) await w.kill();
    await connection.close();
    await model.close();
    if (!process.env.OPSGUARD_TEST_TEMPORAL_ADDRESS) await server.stop();
  }
});
