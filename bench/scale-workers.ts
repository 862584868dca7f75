/**
 * Beyond one machine (issue 14, item 6), figures not assertions:
 *   npx tsx bench/scale-workers.ts [workers=1,2,4] [incidents=20]
 * Prints a table and writes bench/results/scale-workers.json.
 *
 * The same incidents (the demo incident, each on its own copy, the scripted model answering at once)
 * on 1, 2 and 4 real worker processes, each with its own OPSGUARD_HOME (its own workspaces: incidents
 * are pinned to the worker that made theirs, workflows/host-pinning.ts) and one shared artifacts
 * folder, all on this machine's cores and Docker engine: incidents a minute, latency, the workers'
 * summed RSS. Then, from one incident's own history, what it costs Temporal (events, bytes, and the
 * billable actions Temporal Cloud rate-limits: starts, activities, timers, markers, updates, search
 * attribute upserts), and what 1,000 incidents an hour asks of a namespace and of worker hosts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { PROJECT_ROOT } from '../worker/settings';
import { recordedTurns } from '../test/support/remediation-harness';
import { startScriptedModel } from '../test/support/scripted-model-server';
import { startTestServer, TEST_TEMPORAL_ADDRESS } from '../test/support/temporal';
import { startWorkerProcess, workerEnv } from '../test/support/worker-process';
import { startIncidentBatch } from './incident-batch';
import type { WorkerProcess } from '../test/support/worker-process';
import { machineBusySeconds, rssMiB } from './proc-stats';
import { summary } from './stats';

const workerCounts = (process.argv[2] ?? '1,2,4').split(',').map(Number);
const INCIDENTS = Number(process.argv[3] ?? 20);
/** Temporal Cloud's default per-namespace rate limit (docs.temporal.io/cloud/limits, 2026). */
const CLOUD_DEFAULT_APS = 500;
const EventType = proto.temporal.api.enums.v1.EventType;

const server = await startTestServer();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-bench-scale-'));
const model = await startScriptedModel(recordedTurns('config-loader'), { byTask: true });
const connection = await Connection.connect({ address: TEST_TEMPORAL_ADDRESS });
const client = new Client({ connection });

interface Row {
  workers: number;
  incidents: number;
  wallS: number;
  perMinute: number;
  latencyMs: ReturnType<typeof summary>;
  workersPeakRssMiB: number;
  machineBusyShare: number;
  perWorker: Record<string, number>;
  notVerified: number;
}
const rows: Row[] = [];
let sampleHistory: proto.temporal.api.history.v1.IHistory | undefined;
for (const count of workerCounts) {
  const taskQueue = `bench-scale-${process.pid}-${count}`;
  const workers: WorkerProcess[] = [];
  for (let w = 0; w < count; w++) {
    workers.push(
      startWorkerProcess({
        ...workerEnv({ taskQueue, dir: tmp, modelURL: model.baseURL }),
        OPSGUARD_HOME: path.join(tmp, `home-${count}-${w}`),
        OPSGUARD_ARTIFACTS_DIR: path.join(tmp, 'shared-artifacts'),
        OPSGUARD_WORKER_ID: `w${w}`,
      }),
    );
  }
  await Promise.all(workers.map((w) => w.polling));
  const busy0 = machineBusySeconds();
  let peak = 0;
  const batch = await startIncidentBatch(client, {
    taskQueue,
    dir: tmp,
    count: INCIDENTS,
    idPrefix: `bench-scale-${process.pid}-${count}`,
  });
  const done = await batch.settle(() => {
    peak = Math.max(
      peak,
      workers.reduce((a, w) => a + rssMiB(w.child.pid ?? 0), 0),
    );
  });
  // Until the last incident settled (its history's clock), not until the poll noticed it.
  const wallS = Math.max(...done.map((d) => d.ms)) / 1000;
  const busy = machineBusySeconds() - busy0;
  const perWorker: Record<string, number> = {};
  for (const d of done) perWorker[d.host ?? '?'] = (perWorker[d.host ?? '?'] ?? 0) + 1;
  sampleHistory ??= await batch.handles[0]!.fetchHistory();
  rows.push({
    workers: count,
    incidents: INCIDENTS,
    wallS: Math.round(wallS * 10) / 10,
    perMinute: Math.round((INCIDENTS / wallS) * 600) / 10,
    latencyMs: summary(done.map((d) => Math.round(d.ms))),
    workersPeakRssMiB: Math.round(peak),
    machineBusyShare: Math.round((busy / (wallS * os.cpus().length)) * 100) / 100,
    perWorker,
    notVerified: done.filter((d) => d.status !== 'awaiting_approval').length,
  });
  await batch.close();
  for (const w of workers) await w.kill();
}

// What one incident (through awaiting_approval) costs Temporal, from its own history.
const events = sampleHistory?.events ?? [];
const billable = new Set<number>([
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
  EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
  EventType.EVENT_TYPE_TIMER_STARTED,
  EventType.EVENT_TYPE_MARKER_RECORDED,
  EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
  EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
]);
const actions = events.filter((e) => billable.has(Number(e.eventType))).length + 1; // + the approval update
const bytes = proto.temporal.api.history.v1.History.encode({ events }).finish().length;
const perHour = 1000;
const perIncidentWorkerSeconds = (() => {
  // Worker-host seconds per incident at the best measured rate (this machine, all its cores).
  const best = rows.reduce((a, r) => (r.perMinute > a.perMinute ? r : a), rows[0]!);
  return 60 / best.perMinute;
})();
const plan = {
  incidentsPerSecond: perHour / 3600,
  historyEventsPerSecond: Math.round((perHour / 3600) * events.length * 10) / 10,
  actionsPerSecond: Math.round((perHour / 3600) * actions * 10) / 10,
  shareOfCloudDefaultAps: Math.round(((perHour / 3600) * actions * 1000) / CLOUD_DEFAULT_APS) / 1000,
  /** Machines like this one (2 cores) busy full time to verify 1,000 incidents an hour like the demo's. */
  machinesLikeThis: Math.ceil((perHour * perIncidentWorkerSeconds) / 3600),
  historyGiBPerDay: Math.round(((perHour * 24 * bytes) / 2 ** 30) * 100) / 100,
};

await connection.close();
await model.close();
await server.stop();
fs.rmSync(tmp, { recursive: true, force: true });

const report = {
  at: new Date().toISOString(),
  machine: { cpus: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
  rows,
  perIncident: { historyEvents: events.length, historyBytes: bytes, billableActions: actions },
  thousandAnHour: plan,
};
const out = path.join(PROJECT_ROOT, 'bench', 'results', 'scale-workers.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
console.log(
  'workers | incidents | wall s | incidents/min | latency p50 / p95 s | workers RSS peak MiB (sum) | machine busy | incidents per worker | not verified',
);
for (const r of rows)
  console.log(
    `${r.workers} | ${r.incidents} | ${r.wallS} | ${r.perMinute} | ${(r.latencyMs.p50 / 1000).toFixed(1)} / ${(r.latencyMs.p95 / 1000).toFixed(1)} | ${r.workersPeakRssMiB} | ${Math.round(r.machineBusyShare * 100)} % | ${Object.values(r.perWorker).join(' / ')} | ${r.notVerified}`,
  );
console.log(
  `one incident: ${events.length} history events, ${(bytes / 1024).toFixed(1)} KiB, ~${actions} billable actions; 1,000 an hour: ${plan.historyEventsPerSecond} events/s, ${plan.actionsPerSecond} actions/s (${(plan.shareOfCloudDefaultAps * 100).toFixed(1)} % of a Temporal Cloud namespace's default ${CLOUD_DEFAULT_APS} APS), ${plan.machinesLikeThis} machines like this one (${report.machine.cpus} cores) busy full time, ${plan.historyGiBPerDay} GiB of history a day`,
);
console.log(`written: ${path.relative(PROJECT_ROOT, out)}`);
