/**
 * Benchmarks (figures, not assertions): sandbox run latency and end-to-end remediation time.
 *   npx tsx bench/sandbox-and-remediation.ts [runs]
 * Prints a table and writes bench/results/sandbox-and-remediation.json.
 * - sandbox: one hardened container per run (create, attach, start, wait, inspect, remove) running
 *   `python3 -c pass`, as the reproduction gate does; compare with the design notes' published
 *   starts (docker run of a small image ~0.5 s; gVisor 81-280 ms; Firecracker <=125 ms).
 * - remediation: the config-loader example through the real workflow on a fresh dev server, from
 *   start to awaiting_approval (scripted model: the model's own latency is not measured).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dockerFromEnv } from '../sandbox/docker-client';
import { DEFAULT_LIMITS } from '../sandbox/limits';
import { runInSandbox } from '../sandbox/run-container';
import { PROJECT_ROOT, settingsFromEnv } from '../worker/settings';
import { stateQuery } from '../workflows/operator-api';
import { FIX_REPEATS, REPRODUCTION_REPEATS } from '../workflows/proof-rules';
import type { remediateIncident } from '../workflows/remediate-incident';
import { recordedTurns, scriptedActivities } from '../test/support/remediation-harness';
import { startScriptedModel } from '../test/support/scripted-model-server';
import { startTestServer, withWorker } from '../test/support/temporal';
import { summary } from './stats';

const runs = Number(process.argv[2] ?? 20);
const settings = settingsFromEnv();
const docker = dockerFromEnv();

// 1. Sandbox latency.
const sandboxMs: number[] = [];
await runInSandbox(docker, { image: settings.sandboxImage, argv: ['python3', '-c', 'pass'], limits: DEFAULT_LIMITS }); // warm-up
for (let i = 0; i < runs; i++) {
  const t = performance.now();
  const r = await runInSandbox(docker, {
    image: settings.sandboxImage,
    argv: ['python3', '-c', 'pass'],
    limits: DEFAULT_LIMITS,
  });
  if (r.exitCode !== 0) throw new Error(`sandbox run failed: ${r.stderr}`);
  sandboxMs.push(performance.now() - t);
}

// 2. End-to-end remediation to awaiting_approval.
const server = await startTestServer();
const remediationMs: number[] = [];
const e2eRuns = Math.max(1, Math.min(5, Math.floor(runs / 4)));
for (let i = 0; i < e2eRuns; i++) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-bench-'));
  const model = await startScriptedModel(recordedTurns('config-loader'));
  const activities = scriptedActivities(model.baseURL, tmp);
  await withWorker(activities, async ({ env, taskQueue }) => {
    const t = performance.now();
    const handle = await env.client.workflow.start<typeof remediateIncident>('remediateIncident', {
      taskQueue,
      workflowId: `bench-${process.pid}-${i}`,
      args: [
        {
          repoPath: path.join(PROJECT_ROOT, 'examples/config-loader/repo'),
          errorLog: fs.readFileSync(path.join(PROJECT_ROOT, 'examples/config-loader/incident.log'), 'utf8'),
          profile: { delivery: { enabled: false } }, // the example is inside this checkout's git repository
        },
      ],
    });
    while ((await handle.query(stateQuery)).status !== 'awaiting_approval') await new Promise((r) => setTimeout(r, 50));
    remediationMs.push(performance.now() - t);
    await handle.terminate('benchmark done');
  });
  await model.close();
}
await server.stop();

const result = {
  at: new Date().toISOString(),
  machine: { cpus: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
  sandboxRunMs: summary(sandboxMs),
  remediationToAwaitingApprovalMs: summary(remediationMs),
  // The recorded example has no hidden variants: gate 1's runs, the baseline tests, gate 2's runs, the tests.
  remediationContainers: REPRODUCTION_REPEATS + 1 + FIX_REPEATS + 1,
};
const out = path.join(PROJECT_ROOT, 'bench', 'results', 'sandbox-and-remediation.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
const f = (s: { p50: number; p95: number; min: number; max: number; n: number }) =>
  `p50 ${s.p50.toFixed(0)} ms, p95 ${s.p95.toFixed(0)} ms, min ${s.min.toFixed(0)}, max ${s.max.toFixed(0)} (n=${s.n})`;
console.log(`sandbox run (create+start+wait+remove, python3 -c pass): ${f(result.sandboxRunMs)}`);
console.log(
  `remediation start -> awaiting_approval (${result.remediationContainers} containers, scripted model): ${f(result.remediationToAwaitingApprovalMs)}`,
);
console.log(`written: ${path.relative(PROJECT_ROOT, out)}`);
