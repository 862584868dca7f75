/**
 * Benchmark (figures, not assertions): how long an incident takes to get going again after each fault
 * of the durability issue, measured from outside on real processes, a real Temporal dev server, real
 * Docker engines and the scripted model.
 *   npx tsx bench/recovery.ts [fault ...]     (default: every fault; names in SCENARIOS)
 * Prints a table and writes bench/results/recovery.json; docs/durability.md quotes it.
 *
 * Set-up: a dev server of its own (127.0.0.1:27633, UI 28633, a database file so it can restart),
 * worker processes started as a deployment starts them (`opsguard worker`, configured from the
 * environment), the config-loader example, a reproduction that runs for 6 s so a fault can land while
 * its container runs. Each fault, and what "recovered" means (observed, never reported by OpsGuard):
 * - a worker killed (SIGKILL) while its container runs, a second worker already polling: from the kill
 *   to a new container of the incident on the engine;
 * - a worker killed while its model call is in flight (the model holds the answer): from the kill to
 *   the next model request arriving;
 * - the Docker engine (a `dockerd` of the benchmark's own) stopped for 10 s mid-container: from the
 *   engine answering again to a new container of the incident; also how soon the incident says it is
 *   waiting for Docker;
 * - the Temporal server stopped for 5 s mid-container and restarted on its database file: from the
 *   server answering again to the worker answering the incident's `state` query;
 * - the model answering 429 with Retry-After: 3, answering 500, and hanging past
 *   OPSGUARD_MODEL_TIMEOUT_SECONDS=5: from the failed request to the next one.
 * Every incident is then approved and must end `approved`; its total time is beside a clean run's.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { WorkflowHandle } from '@temporalio/client';
import { ensureDevServer } from '../client/dev-server';
import type { DevServerHandle } from '../client/dev-server';
import { INCIDENT_LABEL } from '../sandbox/labels';
import { PROJECT_ROOT, settingsFromEnv } from '../worker/settings';
import { stateQuery } from '../workflows/operator-api';
import type { remediateIncident } from '../workflows/remediate-incident';
import { sandboxImage } from '../test/support/docker';
import { startOwnEngine } from '../test/support/own-docker-engine';
import type { OwnEngine } from '../test/support/own-docker-engine';
import { exampleDir, recordedTurns } from '../test/support/remediation-harness';
import { startScriptedModel } from '../test/support/scripted-model-server';
import type { ScriptedModel, ScriptedTurn } from '../test/support/scripted-model-server';
import { approveWhenVerified, startIncident, startWorkerProcess, workerEnv } from '../test/support/worker-process';
import type { WorkerProcess } from '../test/support/worker-process';

const ADDRESS = '127.0.0.1:27633';
const [REPRO, FIX, PR] = recordedTurns('config-loader') as [ScriptedTurn, ScriptedTurn, ScriptedTurn];
const SLOW_REPRO: ScriptedTurn = {
  ...REPRO,
  answer: (REPRO.answer as string).replace('```python\n', '```python\nimport time\ntime.sleep(6)\n'),
};

interface Row {
  fault: string;
  /** Seconds from the fault (or its end, for an outage) to the incident moving again. */
  recoverySeconds: number;
  recoveredWhen: string;
  /** What the operator saw meanwhile (the state's waitingFor, when set). */
  operatorSaw: string | null;
  /** Seconds from the incident's start to awaiting approval. */
  totalSeconds: number;
  status: string;
  /** Containers of the incident still on its engine 45 s after it ended. */
  leftoverContainers: number;
  /** Seconds after the incident ended until none of its containers was left on the engine. */
  containersGoneSeconds: number;
}

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-bench-recovery-'));
const serverOptions = {
  temporalBin: settingsFromEnv().temporalBin,
  address: ADDRESS,
  uiPort: 28633,
  dbFile: path.join(tmpRoot, 'temporal.db'),
  logFile: path.join(tmpRoot, 'temporal.log'),
};
let server: DevServerHandle = await ensureDevServer(serverOptions);
if (server.reused) {
  console.error(`another server already answers at ${ADDRESS}; stop it first`);
  process.exit(1);
}
let connection = await Connection.connect({ address: ADDRESS });
const client = () => new Client({ connection });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seconds = (ms: number) => Math.round(ms / 100) / 10;
async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 180_000): Promise<number> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(100);
  }
  return Date.now();
}
/** `docker` against the main engine, or against `host` when given. */
const docker = (host: string | undefined, ...args: string[]) =>
  execFileSync('docker', [...(host ? ['-H', host] : []), ...args], { encoding: 'utf8' });
const containersOf = (id: string, dockerHost?: string): string[] =>
  docker(dockerHost, 'ps', '-aq', '--no-trunc', '--filter', `label=${INCIDENT_LABEL}=${id}`)
    .split('\n')
    .filter(Boolean);

interface Scenario {
  taskQueue: string;
  dir: string;
  repo: string;
  model: ScriptedModel;
  env: Record<string, string>;
  workers: WorkerProcess[];
  id: string;
  handle: WorkflowHandle<typeof remediateIncident>;
  started: number;
}

/** A repository copy, the scripted model, one worker polling, the incident started. */
async function begin(name: string, turns: ScriptedTurn[], extraEnv: Record<string, string> = {}): Promise<Scenario> {
  const dir = fs.mkdtempSync(path.join(tmpRoot, `${name}-`));
  const repo = path.join(dir, 'repo');
  fs.cpSync(path.join(exampleDir('config-loader'), 'repo'), repo, { recursive: true });
  const model = await startScriptedModel(turns);
  const taskQueue = `bench-recovery-${name}-${randomUUID()}`;
  const env = { TEMPORAL_ADDRESS: ADDRESS, ...workerEnv({ taskQueue, dir, modelURL: model.baseURL }), ...extraEnv };
  const first = startWorkerProcess(env);
  await first.polling;
  const id = `bench-recovery-${name}-${randomUUID()}`;
  const started = Date.now();
  const handle = await startIncident(client(), { taskQueue, workflowId: id, repo });
  return { taskQueue, dir, repo, model, env, workers: [first], id, handle, started };
}

/** Approve once verified; the ending, the total time, what is left of the incident on its engine. */
async function finish(
  s: Scenario,
  dockerHost?: string,
): Promise<Pick<Row, 'totalSeconds' | 'status' | 'leftoverContainers' | 'containersGoneSeconds'>> {
  const handle = client().workflow.getHandle<typeof remediateIncident>(s.id);
  await approveWhenVerified(handle, () => s.workers.map((w) => w.output()).join('\n---\n'));
  const verified = Date.now();
  const result = await handle.result();
  // A dead worker's containers stay until a live worker's janitor sweeps (JANITOR_SWEEP_SECONDS).
  const ended = Date.now();
  let leftovers = containersOf(s.id, dockerHost);
  while (leftovers.length && Date.now() - ended < 45_000) {
    await sleep(250);
    leftovers = containersOf(s.id, dockerHost);
  }
  const goneAfter = seconds(Date.now() - ended);
  for (const w of s.workers) await w.kill();
  await s.model.close();
  // What no janitor removed, the benchmark does, so runs stay clean (and the row says so).
  if (leftovers.length) docker(dockerHost, 'rm', '-f', ...leftovers);
  return {
    totalSeconds: seconds(verified - s.started),
    status: result.status,
    leftoverContainers: leftovers.length,
    containersGoneSeconds: goneAfter,
  };
}

const step = async (s: Scenario) => (await s.handle.query(stateQuery).catch(() => null))?.step;
const waitingFor = async (s: Scenario) => (await s.handle.query(stateQuery).catch(() => null))?.waitingFor ?? null;

async function clean(): Promise<Row> {
  const s = await begin('clean', [SLOW_REPRO, FIX, PR]);
  return {
    fault: 'none (a clean run)',
    recoverySeconds: 0,
    recoveredWhen: '-',
    operatorSaw: null,
    ...(await finish(s)),
  };
}

async function workerKilledInContainer(): Promise<Row> {
  const s = await begin('kill-container', [SLOW_REPRO, FIX, PR]);
  await waitFor(
    'the reproduction container',
    async () => (await step(s)) === 'reproduce_attempt_1' && containersOf(s.id).length > 0,
  );
  const before = new Set(containersOf(s.id));
  const standby = startWorkerProcess(s.env);
  s.workers.push(standby);
  await standby.polling;
  const killed = Date.now();
  await s.workers[0]?.kill();
  const back = await waitFor('a new container', () => containersOf(s.id).some((c) => !before.has(c)));
  return {
    fault: 'worker SIGKILLed while its container runs',
    recoverySeconds: seconds(back - killed),
    recoveredWhen: 'a new container of the incident starts (on the standby worker)',
    operatorSaw: null,
    ...(await finish(s)),
  };
}

async function workerKilledInModelCall(): Promise<Row> {
  const s = await begin('kill-model', [REPRO, { ...FIX, delayMs: 120_000 }, FIX, PR]);
  const fixRequests = () => s.model.requests.filter((r) => r.task === 'write_fix');
  await waitFor('the fix request', () => fixRequests().length === 1);
  const standby = startWorkerProcess(s.env);
  s.workers.push(standby);
  await standby.polling;
  const killed = Date.now();
  await s.workers[0]?.kill();
  await waitFor('the fix request again', () => fixRequests().length === 2);
  return {
    fault: 'worker SIGKILLed while its model call is in flight',
    recoverySeconds: seconds((fixRequests()[1]?.at ?? NaN) - killed),
    recoveredWhen: 'the model is asked again (by the standby worker)',
    operatorSaw: null,
    ...(await finish(s)),
  };
}

async function dockerRestarted(engine: OwnEngine): Promise<Row> {
  const s = await begin('docker', [SLOW_REPRO, FIX, PR], { DOCKER_HOST: engine.host });
  const ours = () => containersOf(s.id, engine.host);
  await waitFor(
    'the reproduction container',
    async () => (await step(s)) === 'reproduce_attempt_1' && ours().length > 0,
  );
  const before = new Set(ours());
  const stopped = Date.now();
  await engine.stop();
  let saw: string | null = null;
  const told = await waitFor('"waiting for Docker"', async () => (saw = await waitingFor(s)) !== null);
  await sleep(Math.max(0, 10_000 - (Date.now() - stopped)));
  await engine.start();
  const up = Date.now();
  const back = await waitFor('a new container on the engine', () => ours().some((c) => !before.has(c)));
  return {
    fault: `Docker engine stopped for 10 s mid-container (said "waiting for Docker" ${seconds(told - stopped)} s after the stop)`,
    recoverySeconds: seconds(back - up),
    recoveredWhen: 'a new container of the incident starts after the engine answers',
    operatorSaw: saw,
    ...(await finish(s, engine.host)),
  };
}

async function temporalRestarted(): Promise<Row> {
  const s = await begin('temporal', [SLOW_REPRO, FIX, PR]);
  await waitFor(
    'the reproduction container',
    async () => (await step(s)) === 'reproduce_attempt_1' && containersOf(s.id).length > 0,
  );
  await connection.close();
  await server.stop();
  await sleep(5000);
  server = await ensureDevServer(serverOptions);
  const up = Date.now();
  connection = await Connection.connect({ address: ADDRESS });
  s.handle = client().workflow.getHandle<typeof remediateIncident>(s.id);
  // A query is answered only by a worker polling the incident's task queue: the worker is back.
  const back = await waitFor('an answer to a state query', async () => (await step(s)) !== undefined);
  return {
    fault: 'Temporal dev server stopped for 5 s mid-container, restarted on its database',
    recoverySeconds: seconds(back - up),
    recoveredWhen: 'the worker answers a state query again (it reconnected by itself)',
    operatorSaw: null,
    ...(await finish(s)),
  };
}

async function modelFault(
  name: string,
  fault: ScriptedTurn['fault'],
  label: string,
  env: Record<string, string> = {},
): Promise<Row> {
  const s = await begin(name, [REPRO, { ...FIX, fault }, FIX, PR], env);
  const fixRequests = () => s.model.requests.filter((r) => r.task === 'write_fix');
  await waitFor('the retried fix request', () => fixRequests().length === 2);
  const [failed, retried] = fixRequests();
  return {
    fault: label,
    recoverySeconds: seconds((retried?.at ?? NaN) - (failed?.at ?? NaN)),
    recoveredWhen: 'the model is asked again',
    operatorSaw: null,
    ...(await finish(s)),
  };
}

/** The faults, by name (`npx tsx bench/recovery.ts docker model-hang` runs those only). */
const SCENARIOS: [string, () => Promise<Row>][] = [
  ['clean', clean],
  ['worker-kill-container', workerKilledInContainer],
  ['worker-kill-model', workerKilledInModelCall],
  [
    'docker',
    async () => {
      engine = await startOwnEngine(path.join(tmpRoot, 'engine'), [sandboxImage()]);
      const row = await dockerRestarted(engine);
      await engine.remove();
      engine = undefined;
      return row;
    },
  ],
  ['model-429', () => modelFault('429', { status: 429, retryAfter: '3' }, 'model answers 429 with Retry-After: 3')],
  ['model-500', () => modelFault('500', { status: 500 }, 'model answers 500')],
  [
    'model-hang',
    () =>
      modelFault('hang', { kind: 'hang' }, 'model hangs (OPSGUARD_MODEL_TIMEOUT_SECONDS=5)', {
        OPSGUARD_MODEL_TIMEOUT_SECONDS: '5',
      }),
  ],
  ['temporal', temporalRestarted],
];
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !SCENARIOS.some(([name]) => name === w));
if (unknown.length) {
  console.error(`unknown fault ${unknown.join(', ')}; the faults are ${SCENARIOS.map(([n]) => n).join(', ')}`);
  await connection.close();
  await server.stop();
  process.exit(2);
}
const rows: Row[] = [];
let engine: OwnEngine | undefined;
try {
  for (const [name, run] of SCENARIOS) if (!wanted.length || wanted.includes(name)) rows.push(await run());
} finally {
  await engine?.remove().catch(() => undefined);
  await connection.close().catch(() => undefined);
  await server.stop();
}

console.log(
  '\nfault | recovered in | recovered when | to awaiting approval | status | containers gone after the end (left)',
);
for (const r of rows)
  console.log(
    `${r.fault} | ${r.recoverySeconds} s | ${r.recoveredWhen} | ${r.totalSeconds} s | ${r.status} | ${r.containersGoneSeconds} s (${r.leftoverContainers})`,
  );
for (const r of rows) if (r.operatorSaw) console.log(`\n${r.fault}: the operator saw "${r.operatorSaw}"`);
const out = path.join(PROJECT_ROOT, 'bench', 'results', 'recovery.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(
  out,
  JSON.stringify(
    {
      measuredAt: new Date().toISOString(),
      machine: { cpus: os.cpus().length, platform: process.platform, node: process.version },
      rows,
    },
    null,
    2,
  ),
);
console.log(`\nwrote ${path.relative(PROJECT_ROOT, out)}`);
fs.rmSync(tmpRoot, { recursive: true, force: true });
