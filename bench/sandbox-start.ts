/**
 * The sandbox's critical path (issue 14, item 1), figures not assertions:
 *   npx tsx bench/sandbox-start.ts [runs=30]
 * Prints a table and writes bench/results/sandbox-start.json.
 *
 * From the model's answer in hand to the answer running in its container, three ways, alternating:
 *   docker run  `docker run --rm -i` from the docker CLI with the same limits, mounts, user and
 *               command as OpsGuard's (hostConfigFor), the run key written on its stdin;
 *   fresh       runGuarded making its container when the answer arrives (create, attach, start);
 *   warm        runGuarded taking a container WarmContainers made and started beforehand (what a
 *               worker does while the model writes), its runner waiting on stdin for the key.
 * Each run's reproduction prints the clock as its first statement; containers share the host's
 * clock, so "answer to running" is that stamp minus the moment the answer was in hand. The whole run
 * (answer to result) is given too. Every mode runs the same guarded runner on the same workspace.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dockerFromEnv } from '../sandbox/docker-client';
import { IN_CONTAINER, RUNNER_ON_HOST, runGuarded, SANDBOX_ENV } from '../sandbox/guarded-run';
import type { GuardedContainerTemplate, GuardedRunSpec } from '../sandbox/guarded-run';
import { DEFAULT_LIMITS } from '../sandbox/limits';
import { hostConfigFor, SANDBOX_USER } from '../sandbox/run-container';
import { WarmContainers } from '../sandbox/warm-containers';
import { PROJECT_ROOT, settingsFromEnv } from '../worker/settings';
import { summary } from './stats';

const RUNS = Number(process.argv[2] ?? 30);
const docker = dockerFromEnv();
const image = settingsFromEnv().sandboxImage;
const incidentId = `bench-sandbox-start-${randomBytes(4).toString('hex')}`;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-bench-start-'));
const ws = path.join(tmp, 'workspace');
fs.mkdirSync(path.join(ws, 'app'), { recursive: true });
fs.writeFileSync(path.join(ws, 'app', '__init__.py'), '');
fs.writeFileSync(path.join(ws, 'app', 'config.py'), 'def database_url(cfg):\n    return cfg["user"]\n');
const script = path.join(tmp, 'reproduction.py');
// The first statement stamps the clock; then an ordinary failing reproduction.
fs.writeFileSync(
  script,
  'import time\nprint("STARTED", time.time_ns(), flush=True)\nfrom app.config import database_url\ndatabase_url({})\n',
);
const SCRIPT = `${IN_CONTAINER.scripts}/reproduction.py`;
const template: GuardedContainerTemplate = {
  entry: 'opsguard_runner.py',
  image,
  limits: DEFAULT_LIMITS,
  workspace: ws,
  incidentId,
  purpose: 'bench',
};
const runSpec = (n: number): GuardedRunSpec => ({
  ...template,
  runDir: path.join(tmp, `run-${n}`),
  scripts: [{ hostPath: script, name: 'reproduction.py' }],
  spec: { script: SCRIPT, scripts: [SCRIPT] },
});
const stampOf = (stdout: string): number => {
  const m = /STARTED (\d+)/.exec(stdout);
  if (!m) throw new Error(`the reproduction did not start: ${stdout.slice(0, 300)}`);
  return Number(BigInt(m[1] as string) / 1000n) / 1000; // ms since the epoch, µs resolution
};

/** `docker run --rm -i` with the flags hostConfigFor sets, in the slot layout runGuarded uses. */
function cliArgs(runDir: string): string[] {
  const hc = hostConfigFor({ image, argv: [], limits: DEFAULT_LIMITS, mounts: [] });
  const spec = path.join(runDir, 'spec.json');
  const records = path.join(runDir, 'records');
  const scripts = path.join(runDir, 'scripts');
  return [
    'run',
    '--rm',
    '-i',
    '--network=none',
    `--memory=${hc.Memory}b`,
    `--memory-swap=${hc.MemorySwap}b`,
    `--cpus=${DEFAULT_LIMITS.cpus}`,
    `--pids-limit=${DEFAULT_LIMITS.pids}`,
    '--read-only',
    `--tmpfs=/tmp:${hc.Tmpfs?.['/tmp']}`,
    '--cap-drop=ALL',
    '--security-opt=no-new-privileges',
    '--log-driver=none',
    `--ulimit=fsize=${DEFAULT_LIMITS.fileSizeMb * 1024 * 1024}`,
    `--user=${SANDBOX_USER}`,
    `--workdir=${IN_CONTAINER.workspace}`,
    `--label=io.opsguard.sandbox=1`,
    `--label=io.opsguard.incident=${incidentId}`,
    ...Object.entries(SANDBOX_ENV).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
    '-v',
    `${ws}:${IN_CONTAINER.workspace}:ro`,
    '-v',
    `${RUNNER_ON_HOST}:${IN_CONTAINER.runner}:ro`,
    '-v',
    `${spec}:${IN_CONTAINER.spec}:ro`,
    '-v',
    `${records}:${IN_CONTAINER.records}:rw`,
    '-v',
    `${scripts}:${IN_CONTAINER.scripts}:ro`,
    image,
    'python3',
    '-I',
    '-u',
    '-B',
    `${IN_CONTAINER.runner}/opsguard_runner.py`,
  ];
}

/** The CLI way: from the answer, write the run's files, then `docker run` and hand it the key. */
async function viaCli(n: number): Promise<{ toRunning: number; whole: number }> {
  const runDir = path.join(tmp, `cli-${n}`);
  const t0 = Date.now(); // wall clock: compared with the stamp the container prints
  const start = performance.now();
  fs.mkdirSync(path.join(runDir, 'scripts'), { recursive: true });
  fs.writeFileSync(
    path.join(runDir, 'spec.json'),
    JSON.stringify({
      script: SCRIPT,
      scripts: [SCRIPT],
      workspace: IN_CONTAINER.workspace,
      records: IN_CONTAINER.records,
      sys_path: [IN_CONTAINER.workspace],
    }),
  );
  fs.writeFileSync(path.join(runDir, 'records'), '');
  fs.chmodSync(path.join(runDir, 'records'), 0o666);
  fs.copyFileSync(script, path.join(runDir, 'scripts', 'reproduction.py'));
  const child = spawn('docker', cliArgs(runDir), { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end(`${randomBytes(32).toString('hex')}\n`);
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  await new Promise((resolve) => child.on('close', resolve));
  return { toRunning: stampOf(stdout) - t0, whole: performance.now() - start };
}

async function viaOpsGuard(n: number, warm?: WarmContainers): Promise<{ toRunning: number; whole: number }> {
  const t0 = Date.now();
  const start = performance.now();
  const r = await runGuarded(docker, runSpec(n), warm);
  return { toRunning: stampOf(r.sandbox.stdout) - t0, whole: performance.now() - start };
}

const warm = new WarmContainers(docker, { max: 2, holdSeconds: 120 });
const slots = path.join(tmp, 'slots');
/** The model's writing time, simulated: the container is made and waiting before the answer. */
async function warmAhead(): Promise<void> {
  warm.prepare(template, 1, slots);
  for (let i = 0; i < 200; i++) {
    const held = await docker.listContainers({
      filters: { label: [`io.opsguard.incident=${incidentId}`], status: ['running'] },
    });
    if (held.length >= 1) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('the warm container never started');
}

const samples = {
  cli: { toRunning: [] as number[], whole: [] as number[] },
  fresh: { toRunning: [] as number[], whole: [] as number[] },
  warm: { toRunning: [] as number[], whole: [] as number[] },
};
const add = (into: { toRunning: number[]; whole: number[] }, r: { toRunning: number; whole: number }) => {
  into.toRunning.push(r.toRunning);
  into.whole.push(r.whole);
};
try {
  // Warm-up (image and page cache), not counted.
  await viaCli(-1);
  await viaOpsGuard(-1);
  for (let i = 0; i < RUNS; i++) {
    add(samples.cli, await viaCli(i));
    add(samples.fresh, await viaOpsGuard(i));
    await warmAhead();
    add(samples.warm, await viaOpsGuard(RUNS + i, warm));
    if ((i + 1) % 10 === 0) console.log(`  ${i + 1}/${RUNS} rounds`);
  }
  if (warm.counts.used !== RUNS) throw new Error(`only ${warm.counts.used} of ${RUNS} warm runs took a warm container`);
} finally {
  await warm.close();
  fs.rmSync(tmp, { recursive: true, force: true });
}

const round = (x: number) => Math.round(x * 10) / 10;
type Figures = { n: number; p50: number; p95: number; min: number; max: number };
const figures = (xs: number[]): Figures => {
  const f = summary(xs);
  return { ...f, p50: round(f.p50), p95: round(f.p95) };
};
const s = {
  cli: { toRunning: figures(samples.cli.toRunning), whole: figures(samples.cli.whole) },
  fresh: { toRunning: figures(samples.fresh.toRunning), whole: figures(samples.fresh.whole) },
  warm: { toRunning: figures(samples.warm.toRunning), whole: figures(samples.warm.whole) },
};
const report = {
  at: new Date().toISOString(),
  machine: { cpus: os.cpus().length, node: process.version, docker: (await docker.version()).Version },
  runs: RUNS,
  ms: s,
  ratioToCli: {
    warm: Math.round((s.warm.toRunning.p50 / s.cli.toRunning.p50) * 100) / 100,
    fresh: Math.round((s.fresh.toRunning.p50 / s.cli.toRunning.p50) * 100) / 100,
  },
};
const out = path.join(PROJECT_ROOT, 'bench', 'results', 'sandbox-start.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
console.log(`answer -> reproduction running, and the whole run, ${RUNS} alternating rounds:`);
console.log('way | to running p50 ms | p95 ms | whole run p50 ms | p95 ms | to running vs docker run');
for (const [k, label] of [
  ['cli', 'docker run --rm (CLI)'],
  ['fresh', 'OpsGuard, container made at the answer'],
  ['warm', 'OpsGuard, container made while the model writes'],
] as const) {
  const v = s[k];
  const ratio = Math.round((v.toRunning.p50 / s.cli.toRunning.p50) * 100) / 100;
  console.log(`${label} | ${v.toRunning.p50} | ${v.toRunning.p95} | ${v.whole.p50} | ${v.whole.p95} | ${ratio}`);
}
console.log('target: warm p50 <= 0.5x docker run');
console.log(`written: ${path.relative(PROJECT_ROOT, out)}`);
