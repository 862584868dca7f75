/**
 * The one table `npm run bench` ends with: issue 14's figures next to their targets, read from the
 * JSON the benchmarks wrote under bench/results/ (a benchmark that did not run says so).
 *   npx tsx bench/summary.ts
 */
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../worker/settings';

interface Pct {
  p50: number;
  p95: number;
}
interface History {
  overheadMs: { rest: Pct };
  history: { demoThroughApproval: { events: number; bytes: number } };
}
interface Throughput {
  results: { incidents: number; repository?: 'own' | 'one'; perMinute: number; workerPeakRssMiB: number }[];
}
interface WorkspaceScale {
  files: number;
  repoMiB: number;
  incidentDiskMiB: number;
  ratioToCp: { setup: number; restore: number; firstOnTree?: number; newCommit?: number };
}
interface ScaleWorkers {
  rows: { workers: number; perMinute: number }[];
  thousandAnHour: { actionsPerSecond: number };
}

interface SandboxStart {
  ms: Record<'cli' | 'warm', { toRunning: Pct }>;
  ratioToCli: { warm: number };
}

function read<T>(name: string): T | null {
  const file = path.join(PROJECT_ROOT, 'bench', 'results', `${name}.json`);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as T) : null;
}
const rows: [string, string, string, string][] = [];
/** met: the target's verdict; null: the benchmark did not run; 'report': a figure with no target. */
const add = (what: string, figure: string, target: string, met: boolean | null | 'report') =>
  rows.push([what, figure, target, met === 'report' ? '' : met === null ? 'NOT RUN' : met ? 'met' : 'MISSED']);

const hist = read<History>('history-and-overhead');
if (hist) {
  const rest = hist.overheadMs.rest;
  add('orchestration overhead (the rest)', `p50 ${rest.p50} ms, p95 ${rest.p95} ms`, '<= 1 s', rest.p50 <= 1000);
  const demo = hist.history.demoThroughApproval;
  add(
    'history, demo incident',
    `${demo.events} events, ${(demo.bytes / 1024).toFixed(1)} KiB`,
    '<= 100 events, <= 64 KiB',
    demo.events <= 100 && demo.bytes <= 65536,
  );
} else add('history and overhead', '-', '-', null);

const tp = read<Throughput>('throughput');
const at20 = tp?.results.find((r) => r.incidents === 20 && r.repository !== 'one');
const storm20 = tp?.results.find((r) => r.incidents === 20 && r.repository === 'one');
if (tp && at20) {
  add('throughput at 20, one worker', `${at20.perMinute} incidents/min`, '>= 60 / min', at20.perMinute >= 60);
  if (storm20)
    add('  the same, all 20 on one commit (a storm)', `${storm20.perMinute} incidents/min`, '>= 60 / min', 'report');
  const peak = Math.max(...tp.results.map((r) => r.workerPeakRssMiB));
  add('worker RSS peak (1-50 incidents)', `${peak} MiB`, '<= 400 MB', peak * 1.048576 <= 400);
} else add('throughput', '-', '-', null);

const ws = read<WorkspaceScale>('workspace-scale');
if (ws) {
  add(
    `workspace, ${ws.files} files / ${ws.repoMiB} MiB`,
    `${ws.ratioToCp.setup}x cp -r`,
    '<= 0.1x cp -r',
    ws.ratioToCp.setup <= 0.1,
  );
  add('restore after a failed attempt', `${ws.ratioToCp.restore}x cp -r`, '<= 0.1x cp -r', ws.ratioToCp.restore <= 0.1);
  // No target of their own: the first incident on a tree copies and scans it once for all the rest.
  if (ws.ratioToCp.firstOnTree !== undefined)
    add('first incident on a never-seen tree', `${ws.ratioToCp.firstOnTree}x cp -r`, 'report', 'report');
  if (ws.ratioToCp.newCommit !== undefined)
    add('first incident on a new commit (1 file)', `${ws.ratioToCp.newCommit}x cp -r`, 'report', 'report');
  add(
    'disk per incident',
    `${ws.incidentDiskMiB} MiB of ${ws.repoMiB}`,
    'O(files changed)',
    ws.incidentDiskMiB < ws.repoMiB / 10,
  );
} else add('workspace at scale', '-', '-', null);

const sc = read<ScaleWorkers>('scale-workers');
if (sc) {
  const by = sc.rows.map((r) => `${r.workers}: ${r.perMinute}`).join(', ');
  add('incidents/min by worker processes (one machine)', by, 'report', 'report');
  add(
    '1,000 incidents/h on Temporal',
    `${sc.thousandAnHour.actionsPerSecond} actions/s`,
    `< 500 APS (a Cloud namespace)`,
    sc.thousandAnHour.actionsPerSecond < 500,
  );
} else add('scale by workers', '-', '-', null);

const start = read<SandboxStart>('sandbox-start');
if (start) {
  const { warm, cli } = start.ms;
  add(
    'answer to reproduction running (warm container)',
    `p50 ${warm.toRunning.p50} ms vs docker run ${cli.toRunning.p50} ms = ${start.ratioToCli.warm}x`,
    'p50 <= 0.5x docker run',
    start.ratioToCli.warm <= 0.5,
  );
} else add('container ready before the model answers', '-', 'p50 <= 0.5x docker run', null);

const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]?.length ?? 0), 6));
const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ');
console.log(line(['figure', 'measured', 'target', '']));
for (const r of rows) console.log(line(r));
