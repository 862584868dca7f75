/**
 * Many workers, each with its own disk: two real worker processes on one task queue, each with its
 * own OPSGUARD_HOME (their own work folders, dependency caches and host queues), writing artifacts
 * into one shared folder. Each incident is pinned to the worker that made its workspace
 * (workflows/host-pinning.ts). Alpha, alone, takes two incidents; beta joins; alpha is killed (SIGKILL)
 * mid-reproduction, and two more incidents start on beta alone. Alpha's incidents: their next
 * step waits OPSGUARD_HOST_WAIT_SECONDS on the dead worker's queue, then each incident moves to the
 * live worker, which rebuilds the workspace from the repository and goes on. Every incident ends
 * approved with its proof in the shared folder; the history shows the move; the command line reads
 * the artifacts through another mount of the shared folder. Each worker beside its own Docker
 * engine: alpha the machine's, beta a second dockerd of the test's own (test/support/own-docker-engine.ts),
 * so beta's container steps never touch alpha's engine (each engine's events show whose runs it made);
 * the exited containers the killed alpha left on its engine go once a worker runs there again.
 * Real Temporal, Docker and processes.
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
import { INCIDENT_LABEL, OWNER_LABEL } from '../sandbox/labels';
import { sandboxImage } from './support/docker';
import { startOwnEngine } from './support/own-docker-engine';
import type { OwnEngine } from './support/own-docker-engine';
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

/** An incident's containers on the machine's engine, or on the engine at `host`. */
const containers = (incidentId: string, host?: string) =>
  execFileSync(
    'docker',
    [...(host ? ['-H', host] : []), 'ps', '-aq', '--filter', `label=${INCIDENT_LABEL}=${incidentId}`],
    { encoding: 'utf8' },
  )
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
  // Beta's own engine, with the sandbox image copied in: a second host's Docker.
  const engine: OwnEngine = await startOwnEngine(path.join(tmp, 'beta-engine'), [sandboxImage()]);
  const startedAt = Math.floor(Date.now() / 1000) - 1;
  const envOf = (id: string) => ({
    ...base,
    ...(id === 'beta' ? { DOCKER_HOST: engine.host } : {}),
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
    const alphaPid = alpha.child.pid;
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

    // Each worker ran its containers on its own engine: every incident's last steps on beta's, the
    // moved incidents' reproduction first on the machine's (alpha's), read from each engine's events.
    const until = Math.ceil(Date.now() / 1000) + 1;
    const created = (incidentId: string, host?: string) =>
      execFileSync(
        'docker',
        [
          ...(host ? ['-H', host] : []),
          'events',
          '--since',
          String(startedAt),
          '--until',
          String(until),
          '--filter',
          'type=container',
          '--filter',
          'event=create',
          '--filter',
          `label=${INCIDENT_LABEL}=${incidentId}`,
          '--format',
          '{{.Action}}',
        ],
        { encoding: 'utf8' },
      )
        .split('\n')
        .filter(Boolean).length;
    for (const inc of incidents) {
      const onBeta = created(inc.id, engine.host);
      const onAlpha = created(inc.id);
      assert.ok(onBeta > 0, `${inc.id}: containers made on beta's engine (${onBeta})`);
      if (moving.includes(inc.id)) assert.ok(onAlpha > 0, `${inc.id}: reproduced on alpha's engine first (${onAlpha})`);
      else assert.equal(onAlpha, 0, `${inc.id} never touched alpha's engine`);
    }
    // None is left on beta's engine. On alpha's, a worker killed by SIGKILL leaves the containers of
    // the runs it had (exited, its owner label naming it): no worker of another engine can see them,
    // so alpha's host coming back cleans them up (the janitor at start removes dead owners').
    for (const inc of incidents) {
      for (let i = 0; i < 50 && containers(inc.id, engine.host).length; i++)
        await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(containers(inc.id, engine.host), [], `no container of ${inc.id} is left on beta's engine`);
    }
    const leftOnAlpha = incidents.flatMap((inc) => containers(inc.id));
    for (const id of leftOnAlpha) {
      const [running, owner] = execFileSync(
        'docker',
        ['inspect', '--format', `{{.State.Running}} {{index .Config.Labels "${OWNER_LABEL}"}}`, id],
        { encoding: 'utf8' },
      )
        .trim()
        .split(' ');
      assert.equal(running, 'false', `${id} on alpha's engine is not running`);
      assert.match(owner ?? '', new RegExp(`/${alphaPid}/`), `${id} was alpha's`);
    }
    console.log(`[TEST] alpha's engine held ${leftOnAlpha.length} exited containers of the killed worker`);
    const alphaAgain = startWorkerProcess(envOf('alpha'));
    workers.push(alphaAgain);
    await alphaAgain.polling;
    const leftNow = () => incidents.flatMap((inc) => containers(inc.id));
    for (let i = 0; i < 100 && leftNow().length; i++) await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(leftNow(), [], "alpha's engine is clean once a worker runs on it again");
    assert.match(beta.output(), /\[MOVE\]/, 'beta took the moved incidents');
  } finally {
    for (const w of workers) await w.kill();
    await engine.remove();
    await connection.close();
    await model.close();
    if (!process.env.OPSGUARD_TEST_TEMPORAL_ADDRESS) await server.stop();
  }
});
