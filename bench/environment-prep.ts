/**
 * Benchmark (figures, not assertions): dependency preparation, cold and warm, and what the mounted
 * dependencies add to every sandbox run.
 *   npx tsx bench/environment-prep.ts [runs]
 * Prints a table and writes bench/results/environment-prep.json.
 * - cold: prepareEnvironment with an empty cache (pip from PyPI in the preparation container; the
 *   feature-flags example compiles bitarray), once per example;
 * - warm: the same call again (a cache hit), `runs` times;
 * - per run: the same guarded script (`import uptime.digest`, which imports dateutil) with the
 *   prepared folder mounted, against `print(1)` with and without the mount, alternating.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createActivities } from '../activities';
import { cacheEntry } from '../activities/dependency-cache';
import { dockerFromEnv } from '../sandbox/docker-client';
import { runGuarded } from '../sandbox/guarded-run';
import type { RunEnvironment } from '../sandbox/guarded-run';
import { DEFAULT_LIMITS } from '../sandbox/limits';
import { PROJECT_ROOT, settingsFromEnv } from '../worker/settings';
import { pct, summary } from './stats';

const runs = Number(process.argv[2] ?? 10);
const settings = settingsFromEnv();
const docker = dockerFromEnv();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-bench-env-'));
const cacheDir = path.join(tmp, 'cache');
const activities = createActivities({
  docker,
  artifactsDir: path.join(tmp, 'artifacts'),
  workDir: path.join(tmp, 'work'),
  defaultImage: settings.sandboxImage,
  environment: { ...settings.environment, cacheDir },
  repositories: settings.repositories,
});

async function prepare(example: string, incidentId: string) {
  const dir = path.join(PROJECT_ROOT, 'examples', example);
  await activities.setupWorkspace({
    incidentId,
    repoPath: path.join(dir, 'repo'),
    errorLog: fs.readFileSync(path.join(dir, 'incident.log'), 'utf8'),
  });
  const t = performance.now();
  const r = await activities.prepareEnvironment({ incidentId });
  const ms = performance.now() - t;
  if (!r.ok) throw new Error(`${example}: preparation failed: ${r.reason}`);
  return { ms, result: r };
}

const figures: Record<string, unknown> = { runs, machine: `${os.cpus().length} cores`, at: new Date().toISOString() };
let depsKey: string | null = null;
let workspace = '';
for (const example of ['uptime-digest', 'feature-flags']) {
  const cold = await prepare(example, `${example}-cold`);
  if (cold.result.summary.cacheHit) throw new Error('the first preparation must not be a cache hit');
  const warm: number[] = [];
  for (let i = 0; i < runs; i++) {
    const w = await prepare(example, `${example}-warm-${i}`);
    if (!w.result.summary.cacheHit) throw new Error('a second preparation must hit the cache');
    warm.push(w.ms);
  }
  figures[example] = {
    coldMs: Math.round(cold.ms),
    packages: cold.result.summary.installed.map((p) => `${p.name}==${p.version}`),
    warm: summary(warm.map(Math.round)),
  };
  console.log(
    `${example}: cold ${Math.round(cold.ms)} ms (${cold.result.summary.installed.length} packages); warm p50 ${Math.round(pct(warm, 50))} ms`,
  );
  if (example === 'uptime-digest') {
    depsKey = cold.result.environment.depsKey;
    workspace = path.join(tmp, 'work', `${example}-cold`, 'workspace');
  }
}

// Added time per sandbox run: the same guarded run with and without the prepared folder mounted.
const site = cacheEntry(cacheDir, depsKey ?? '').site;
const withDeps: RunEnvironment = { depsDir: site, pythonPaths: ['.'], env: {} };
const bare: RunEnvironment = { depsDir: null, pythonPaths: ['.'], env: {} };
const scripts = path.join(tmp, 'scripts');
fs.mkdirSync(scripts);
fs.writeFileSync(path.join(scripts, 'noop.py'), 'print(1)\n');
fs.writeFileSync(path.join(scripts, 'imports.py'), 'import uptime.digest\nprint(uptime.digest.parser.__name__)\n');
let n = 0;
const guarded = async (script: string, environment: RunEnvironment) => {
  const t = performance.now();
  const r = await runGuarded(docker, {
    entry: 'opsguard_runner.py',
    image: settings.sandboxImage,
    limits: DEFAULT_LIMITS,
    workspace,
    runDir: path.join(tmp, 'runs', String(++n)),
    scripts: [{ hostPath: path.join(scripts, script), name: script }],
    environment,
    spec: { script: `/opsguard/scripts/${script}`, scripts: [`/opsguard/scripts/${script}`] },
  });
  if (r.records.end?.header.exit_code !== 0)
    throw new Error(`${script} did not exit 0: ${r.sandbox.stderr.slice(-500)}`);
  return performance.now() - t;
};
const noopBare: number[] = [];
const noopDeps: number[] = [];
const importDeps: number[] = [];
await guarded('noop.py', withDeps); // warm the page cache once
for (let i = 0; i < runs; i++) {
  noopBare.push(await guarded('noop.py', bare));
  noopDeps.push(await guarded('noop.py', withDeps));
  importDeps.push(await guarded('imports.py', withDeps));
}
figures.perRun = {
  noopWithoutDeps: summary(noopBare.map(Math.round)),
  noopWithDepsMounted: summary(noopDeps.map(Math.round)),
  importDateutilWithDeps: summary(importDeps.map(Math.round)),
  addedByMountP50Ms: Math.round(pct(noopDeps, 50) - pct(noopBare, 50)),
};
console.table({
  'print(1), no deps': summary(noopBare.map(Math.round)),
  'print(1), deps mounted': summary(noopDeps.map(Math.round)),
  'import dateutil, deps mounted': summary(importDeps.map(Math.round)),
});
fs.mkdirSync(path.join(PROJECT_ROOT, 'bench', 'results'), { recursive: true });
fs.writeFileSync(
  path.join(PROJECT_ROOT, 'bench', 'results', 'environment-prep.json'),
  `${JSON.stringify(figures, null, 2)}\n`,
);
console.log(JSON.stringify(figures, null, 2));
fs.rmSync(tmp, { recursive: true, force: true });
