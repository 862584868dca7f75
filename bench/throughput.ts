/**
 * Throughput and memory (issue 14, item 4), figures not assertions:
 *   npx tsx bench/throughput.ts [1,5,20,50]
 * Prints a table and writes bench/results/throughput.json.
 *
 * One real worker process (`opsguard worker`, as operators run it, default options) on the test dev server and the local
 * Docker engine; the scripted model answers every request at once. For each load, that many demo
 * incidents (examples/config-loader, each its own copy) are started together and followed to
 * awaiting_approval: incidents per minute, p50/p95 latency, the worker's and the Temporal server's
 * peak RSS, and where the CPU went (worker, Temporal, dockerd + containerd, this process: the driver
 * and the scripted model, everything else: the containers) — the bottleneck. Targets: >= 60
 * incidents/min at 20, worker RSS <= 400 MB. Before the loads, this machine's speed now
 * (bench/container-floor.ts), so runs of different hours compare.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { PROJECT_ROOT, settingsFromEnv } from '../worker/settings';
import { recordedTurns } from '../test/support/remediation-harness';
import { startScriptedModel } from '../test/support/scripted-model-server';
import { startTestServer, TEST_TEMPORAL_ADDRESS } from '../test/support/temporal';
import { startWorkerProcess, workerEnv } from '../test/support/worker-process';
import { startIncidentBatch } from './incident-batch';
import { summary } from './stats';
import { cpuSeconds, machineBusySeconds, pidsOf, rssMiB, sumCpu } from './proc-stats';
import { containerFloor } from './container-floor';
import { dockerFromEnv } from '../sandbox/docker-client';

const loads = (process.argv[2] ?? '1,5,20,50').split(',').map(Number);
// Loads run again as an incident storm: every incident on one copy of the repository (one commit).
const stormLoads = (process.argv[3] ?? '20').split(',').filter(Boolean).map(Number);
if ([...loads, ...stormLoads].some((n) => !Number.isInteger(n) || n < 1)) {
  console.error('usage: npx tsx bench/throughput.ts [loads, e.g. 1,5,20,50] [storm loads, e.g. 20]');
  process.exit(2);
}
// This machine's speed now, before any load: figures of different hours differ by it.
const floor = await containerFloor(dockerFromEnv(), settingsFromEnv().sandboxImage);
const server = await startTestServer();
const temporalPid = pidsOf(`start-dev.*${TEST_TEMPORAL_ADDRESS.split(':')[1]}`)[0];
const dockerPids = [...new Set([...pidsOf('^(/usr/sbin/)?dockerd'), ...pidsOf('^containerd')])];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-bench-throughput-'));
const model = await startScriptedModel(recordedTurns('config-loader'), { byTask: true });
const taskQueue = `bench-throughput-${process.pid}`;
const worker = startWorkerProcess(workerEnv({ taskQueue, dir: tmp, modelURL: model.baseURL }));
await worker.polling;
const workerPid = worker.child.pid!;
const connection = await Connection.connect({ address: TEST_TEMPORAL_ADDRESS });
const client = new Client({ connection });

interface LoadResult {
  incidents: number;
  /** own: each incident on its own copy of the repository; one: all on one copy (a storm on one commit). */
  repository: 'own' | 'one';
  wallS: number;
  perMinute: number;
  latencyMs: ReturnType<typeof summary>;
  workerPeakRssMiB: number;
  temporalPeakRssMiB: number | null;
  /** bench: this process, the driver and the scripted model (a real deployment's model is not on its workers). */
  cpuSeconds: { worker: number; temporal: number; docker: number; bench: number; rest: number; machine: number };
  notVerified: number;
}
const results: LoadResult[] = [];
for (const [n, repository] of [
  ...loads.map((n) => [n, 'own'] as const),
  ...stormLoads.map((n) => [n, 'one'] as const),
]) {
  const cpu0 = {
    worker: cpuSeconds(workerPid),
    temporal: temporalPid ? cpuSeconds(temporalPid) : 0,
    docker: sumCpu(dockerPids),
    bench: cpuSeconds(process.pid),
    machine: machineBusySeconds(),
  };
  let workerPeak = rssMiB(workerPid);
  let temporalPeak = temporalPid ? rssMiB(temporalPid) : 0;
  const batch = await startIncidentBatch(client, {
    taskQueue,
    dir: tmp,
    count: n,
    idPrefix: `bench-throughput-${process.pid}-${n}-${repository}`,
    oneRepository: repository === 'one',
  });
  const done = await batch.settle(() => {
    workerPeak = Math.max(workerPeak, rssMiB(workerPid));
    if (temporalPid) temporalPeak = Math.max(temporalPeak, rssMiB(temporalPid));
  });
  // Until the last incident settled (its history's clock), not until the poll noticed it.
  const wallS = Math.max(...done.map((d) => d.ms)) / 1000;
  const cpu = {
    worker: cpuSeconds(workerPid) - cpu0.worker,
    temporal: temporalPid ? cpuSeconds(temporalPid) - cpu0.temporal : 0,
    docker: sumCpu(dockerPids) - cpu0.docker,
    bench: cpuSeconds(process.pid) - cpu0.bench,
    machine: machineBusySeconds() - cpu0.machine,
  };
  const round = (x: number) => Math.round(x * 10) / 10;
  results.push({
    incidents: n,
    repository,
    wallS: round(wallS),
    perMinute: round((n / wallS) * 60),
    latencyMs: summary(done.map((d) => Math.round(d.ms))),
    workerPeakRssMiB: Math.round(workerPeak),
    temporalPeakRssMiB: temporalPid ? Math.round(temporalPeak) : null,
    cpuSeconds: {
      worker: round(cpu.worker),
      temporal: round(cpu.temporal),
      docker: round(cpu.docker),
      bench: round(cpu.bench),
      rest: round(cpu.machine - cpu.worker - cpu.temporal - cpu.docker - cpu.bench),
      machine: round(cpu.machine),
    },
    notVerified: done.filter((d) => d.status !== 'awaiting_approval').length,
  });
  await batch.close();
}
await worker.kill();
await connection.close();
await model.close();
await server.stop();
fs.rmSync(tmp, { recursive: true, force: true });

const report = {
  at: new Date().toISOString(),
  machine: { cpus: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
  worker: 'one worker process, default options',
  containerFloor: floor,
  results,
};
const out = path.join(PROJECT_ROOT, 'bench', 'results', 'throughput.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
console.log(
  'incidents at once | repository | wall s | incidents/min | latency p50 / p95 s | worker RSS peak MiB | Temporal RSS peak MiB | CPU s: worker / Temporal / dockerd+containerd / benchmark (driver, scripted model) / rest (containers) of machine | machine CPU s per incident | not verified',
);
for (const r of results)
  console.log(
    `${r.incidents} | ${r.repository === 'one' ? 'one for all (storm)' : 'own copy each'} | ${r.wallS} | ${r.perMinute} | ${(r.latencyMs.p50 / 1000).toFixed(1)} / ${(r.latencyMs.p95 / 1000).toFixed(1)} | ${r.workerPeakRssMiB} | ${r.temporalPeakRssMiB ?? '?'} | ${r.cpuSeconds.worker} / ${r.cpuSeconds.temporal} / ${r.cpuSeconds.docker} / ${r.cpuSeconds.bench} / ${r.cpuSeconds.rest} of ${r.cpuSeconds.machine} | ${(r.cpuSeconds.machine / r.incidents).toFixed(2)} | ${r.notVerified}`,
  );
console.log(
  `this machine now: a hardened container running \`true\` costs ${floor.cpuMs} ms of machine CPU (${floor.runs} in a row, wall p50 ${floor.wallMs.p50} ms); an incident runs 8 containers`,
);
console.log(
  `targets: >= 60 incidents/min at 20 (on ${report.machine.cpus} cores at full use: <= ${report.machine.cpus} machine CPU-s per incident); worker RSS <= 400 MB`,
);
console.log(`written: ${path.relative(PROJECT_ROOT, out)}`);
