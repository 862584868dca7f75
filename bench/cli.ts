/**
 * Benchmark (figures, not assertions): how fast the `opsguard` command line answers, side by side with
 * the Temporal CLI on the same server, in one run.
 *   npx tsx bench/cli.ts [runs]          (default 20 runs per command)
 * Prints a table and writes bench/results/cli.json.
 *
 * Set-up: its own dev server (ports 27233/28233, HTTP API 27243, in memory), a worker in this process
 * with the scripted model, and two incidents of the config-loader example: one awaiting approval (a
 * running workflow: `status` asks it through the `state` query) and one approved (completed: `status`
 * reads its result). Commands run as child processes, one after the other, in an order that rotates
 * every round so no command always runs warm or cold.
 *
 * Rows: `node -e 0` (Node's own start on this machine, the floor for any Node command line),
 * `temporal workflow describe` / `list` (Go, the reference), `opsguard --help`, `status` over the HTTP
 * API (the default for a local server) and over gRPC (OPSGUARD_TEMPORAL_HTTP_URL=off, what secure
 * clusters use), `list`, `npx opsguard status` (what npx itself adds), and `status` from source
 * through tsx (without the bundle). Peak memory (max RSS) comes
 * from a separate pass under /usr/bin/time, so it does not slow the timed runs.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { ensureDevServer } from '../client/dev-server';
import { bundleWorkflows, createWorker, installRuntimeOnce } from '../worker/create-worker';
import { PROJECT_ROOT, settingsFromEnv } from '../worker/settings';
import { approveUpdate, stateQuery } from '../workflows/operator-api';
import type { remediateIncident } from '../workflows/remediate-incident';
import { recordedTurns, scriptedActivities } from '../test/support/remediation-harness';
import { startScriptedModel } from '../test/support/scripted-model-server';
import { pct } from './stats';

const runs = Number(process.argv[2] ?? 20);
const NPX_RUNS = Math.max(3, Math.floor(runs / 4));
const ADDRESS = '127.0.0.1:27233';
const settings = settingsFromEnv({ TEMPORAL_ADDRESS: ADDRESS });
const TEMPORAL = settings.temporalBin;
const BIN = path.join(PROJECT_ROOT, 'client', 'bin.mjs');
const TIME = '/usr/bin/time';

interface Run {
  ms: number;
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a command as a child process without blocking this process (its worker answers queries). */
function run(argv: string[], env: Record<string, string | undefined>): Promise<Run> {
  const t = performance.now();
  return new Promise((resolve) =>
    execFile(
      argv[0]!,
      argv.slice(1),
      // The child gets this environment plus the row's variables; nothing is read from it here.
      // eslint-disable-next-line no-restricted-properties
      { env: { ...process.env, ...env }, cwd: PROJECT_ROOT, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ ms: performance.now() - t, code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

const server = await ensureDevServer({
  temporalBin: TEMPORAL,
  address: ADDRESS,
  uiPort: 28233,
  logFile: path.join(settings.stateDir, 'bench-cli-temporal.log'),
});
// The HTTP rows must really go over HTTP (the command line would quietly fall back to gRPC).
const httpApi = settings.temporal.httpApi ?? '';
const probe = await fetch(`${httpApi}/api/v1/namespaces/default`).catch((err: Error) => err);
if (probe instanceof Error || !probe.ok) {
  await server.stop();
  throw new Error(
    `Temporal's HTTP API does not answer at ${httpApi} (a server already on ${ADDRESS} started without it?)`,
  );
}
installRuntimeOnce();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-bench-cli-'));
const model = await startScriptedModel([...recordedTurns('config-loader'), ...recordedTurns('config-loader')]);
const taskQueue = `bench-cli-${process.pid}`;
const { worker, connection: workerConnection } = await createWorker({
  connection: { address: ADDRESS },
  namespace: 'default',
  taskQueue,
  activities: scriptedActivities(model.baseURL, tmp),
  workflowBundle: await bundleWorkflows(),
});
const connection = await Connection.connect({ address: ADDRESS });
const client = new Client({ connection });

const table: { command: string; n: number; p50: number; p95: number; min: number; maxRssMB: number | null }[] = [];
let ratio = NaN;
try {
  await worker.runUntil(async () => {
    const start = async (name: string) => {
      const handle = await client.workflow.start<typeof remediateIncident>('remediateIncident', {
        taskQueue,
        workflowId: `bench-cli-${process.pid}-${name}`,
        args: [
          {
            repoPath: path.join(PROJECT_ROOT, 'examples/config-loader/repo'),
            errorLog: fs.readFileSync(path.join(PROJECT_ROOT, 'examples/config-loader/incident.log'), 'utf8'),
            profile: { delivery: { enabled: false } }, // the example is inside this checkout's git repository
          },
        ],
      });
      while ((await handle.query(stateQuery)).status !== 'awaiting_approval')
        await new Promise((r) => setTimeout(r, 50));
      return handle;
    };
    const waiting = await start('waiting');
    const approved = await start('approved');
    await approved.executeUpdate(approveUpdate, { args: [{ by: 'bench', comment: 'benchmark' }] });
    await approved.result();
    const W = waiting.workflowId;
    const C = approved.workflowId;
    const env = { TEMPORAL_ADDRESS: ADDRESS, OPSGUARD_TEMPORAL_HTTP_URL: undefined };
    const listQuery = "WorkflowType = 'remediateIncident'";

    const commands: { name: string; argv: string[]; env?: Record<string, string>; runs?: number; expect?: RegExp }[] = [
      { name: 'node -e 0 (Node start, the floor)', argv: [process.execPath, '-e', '0'] },
      {
        name: 'temporal workflow describe',
        argv: [TEMPORAL, 'workflow', 'describe', '-w', W, '--address', ADDRESS],
        expect: /WorkflowId\s+bench-cli/,
      },
      { name: 'opsguard --help', argv: [process.execPath, BIN, '--help'], expect: /Usage: opsguard/ },
      {
        name: 'opsguard status (waiting, HTTP API)',
        argv: [process.execPath, BIN, 'status', W],
        expect: /awaiting_approval/,
      },
      { name: 'opsguard status (done, HTTP API)', argv: [process.execPath, BIN, 'status', C], expect: /approved/ },
      {
        // Without the bundle: transpiling the tree through tsx on every run.
        name: 'status from source via tsx (no bundle)',
        argv: [process.execPath, '--import', 'tsx', path.join(PROJECT_ROOT, 'client', 'cli.ts'), 'status', W],
        runs: NPX_RUNS,
        expect: /awaiting_approval/,
      },
      {
        name: 'opsguard status (waiting, gRPC)',
        argv: [process.execPath, BIN, 'status', W],
        env: { OPSGUARD_TEMPORAL_HTTP_URL: 'off' },
        expect: /awaiting_approval/,
      },
      {
        name: 'temporal workflow list',
        argv: [TEMPORAL, 'workflow', 'list', '-q', listQuery, '--address', ADDRESS],
        expect: /bench-cli/,
      },
      { name: 'opsguard list (HTTP API)', argv: [process.execPath, BIN, 'list'], expect: /bench-cli/ },
      {
        name: 'npx opsguard status (waiting)',
        argv: ['npx', '--no-install', 'opsguard', 'status', W],
        runs: NPX_RUNS,
        expect: /awaiting_approval/,
      },
    ];

    // Warm-up (and the bundle built if stale), checking each command does what it says.
    for (const c of commands) {
      const r = await run(c.argv, { ...env, ...c.env });
      if (r.code !== 0 || (c.expect && !c.expect.test(r.stdout)))
        throw new Error(`${c.name}: exit ${r.code}\n${r.stdout.slice(0, 400)}\n${r.stderr.slice(0, 400)}`);
    }
    const samples = new Map<string, number[]>(commands.map((c) => [c.name, []]));
    for (let round = 0; round < runs; round++) {
      const order = commands.map((_, i) => commands[(i + round) % commands.length]!);
      for (const c of order) {
        if (samples.get(c.name)!.length >= (c.runs ?? runs)) continue;
        const r = await run(c.argv, { ...env, ...c.env });
        if (r.code !== 0) throw new Error(`${c.name}: exit ${r.code}: ${r.stderr.slice(0, 300)}`);
        samples.get(c.name)!.push(r.ms);
      }
    }
    const haveTime = fs.existsSync(TIME);
    for (const c of commands) {
      let maxRssMB: number | null = null;
      if (haveTime) {
        const r = await run([TIME, '-f', '%M', ...c.argv], { ...env, ...c.env });
        const kb = Number(r.stderr.trim().split('\n').pop());
        maxRssMB = Number.isFinite(kb) ? Math.round(kb / 1024) : null;
      }
      const xs = samples.get(c.name)!;
      table.push({ command: c.name, n: xs.length, p50: pct(xs, 50), p95: pct(xs, 95), min: Math.min(...xs), maxRssMB });
    }
    const p50 = (name: string) => table.find((r) => r.command === name)!.p50;
    ratio = p50('opsguard status (waiting, HTTP API)') / p50('temporal workflow describe');
    await waiting.terminate('benchmark done');
  });
} finally {
  await connection.close();
  await workerConnection.close();
  await model.close();
  await server.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
}

const result = {
  at: new Date().toISOString(),
  machine: { cpus: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
  runsPerCommand: runs,
  commands: table,
  statusOverDescribeP50: Number(ratio.toFixed(2)),
  targets: {
    helpUnder300ms: table.find((r) => r.command === 'opsguard --help')!.p50 < 300,
    statusWithin2xOfDescribe: ratio <= 2,
  },
};
const out = path.join(PROJECT_ROOT, 'bench', 'results', 'cli.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);

const w = Math.max(...table.map((r) => r.command.length));
console.log(
  `${'command'.padEnd(w)}  ${'p50 ms'.padStart(7)} ${'p95 ms'.padStart(7)} ${'min ms'.padStart(7)} ${'max RSS'.padStart(8)}   n`,
);
for (const r of table)
  console.log(
    `${r.command.padEnd(w)}  ${r.p50.toFixed(0).padStart(7)} ${r.p95.toFixed(0).padStart(7)} ${r.min.toFixed(0).padStart(7)} ${(r.maxRssMB === null ? '-' : `${r.maxRssMB} MB`).padStart(8)}  ${r.n}`,
  );
console.log(
  `status / describe (p50): ${result.statusOverDescribeP50}x (target <= 2x: ${result.targets.statusWithin2xOfDescribe ? 'met' : 'NOT met'}); ` +
    `--help under 300 ms: ${result.targets.helpUnder300ms ? 'met' : 'NOT met'}`,
);
console.log(`written: ${path.relative(PROJECT_ROOT, out)}`);
