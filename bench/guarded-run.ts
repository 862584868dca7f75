/**
 * Benchmark (figures, not assertions): what OpsGuard's guard costs per run, side by side with the
 * same work in a plain hardened container, alternating so both see the same machine load.
 *   npx tsx bench/guarded-run.ts [runs]
 * Prints a table and writes bench/results/guarded-run.json.
 * - reproduction: the config-loader reproduction as `python3 script.py` in a raw container, against
 *   OpsGuard's runner (key on stdin, audit hook, coverage.py over the workspace, signed verdict).
 * - tests: a 500-test pytest suite as `python3 -m pytest -q` in a raw container, against the
 *   guarded launcher (per-test records, per-test deadline), and against it with a patch to measure
 *   (coverage contexts per test on the changed file).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseReproductionAnswer } from '../activities/model-answers';
import { dockerFromEnv } from '../sandbox/docker-client';
import { IN_CONTAINER, runGuarded, SANDBOX_ENV } from '../sandbox/guarded-run';
import { DEFAULT_LIMITS } from '../sandbox/limits';
import { runInSandbox } from '../sandbox/run-container';
import { PROJECT_ROOT, settingsFromEnv } from '../worker/settings';
import { recordedTurns } from '../test/support/remediation-harness';
import { summary } from './stats';

const runs = Number(process.argv[2] ?? 20);
const image = settingsFromEnv().sandboxImage;
const docker = dockerFromEnv();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-bench-guard-'));
// Removed however the run ends (a figure made void by a wrong exit code throws).
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

// The workspace: config-loader plus a 500-test suite over its loader.
const ws = path.join(tmp, 'ws');
fs.cpSync(path.join(PROJECT_ROOT, 'examples/config-loader/repo'), ws, { recursive: true });
fs.writeFileSync(
  path.join(ws, 'tests', 'test_many.py'),
  'import pytest\nfrom app.config_loader import load_config\n\n@pytest.mark.parametrize("n", range(500))\ndef test_many(n):\n    assert load_config({"port": n})["port"] == n\n',
);
const script = path.join(tmp, 'reproduction.py');
const recorded = parseReproductionAnswer(recordedTurns('config-loader')[0]?.answer ?? '');
if (!recorded.ok) throw new Error(`the recorded reproduction does not parse: ${recorded.reason}`);
fs.writeFileSync(script, recorded.value.primary);
const mounts = [{ hostPath: ws, containerPath: IN_CONTAINER.workspace, readOnly: true }];
let n = 0;
/** A plain hardened container; `expect` is the exit code the work must end with (or the figure is void). */
const raw = async (
  argv: string[],
  expect: number,
  extra: { hostPath: string; containerPath: string; readOnly: boolean }[] = [],
) => {
  const t = performance.now();
  const r = await runInSandbox(docker, {
    image,
    argv,
    env: { ...SANDBOX_ENV, PYTHONPATH: '/workspace' },
    workdir: '/workspace',
    mounts: [...mounts, ...extra],
    limits: DEFAULT_LIMITS,
  });
  if (r.exitCode !== expect)
    throw new Error(
      `raw run of ${argv.join(' ')} exited ${r.exitCode}, not ${expect}:\n${r.stdout.slice(-500)}${r.stderr.slice(-500)}`,
    );
  return performance.now() - t;
};
const guarded = async (
  entry: 'opsguard_runner.py' | 'opsguard_tests.py',
  spec: Record<string, unknown>,
  scripts: { hostPath: string; name: string }[] = [],
) => {
  const t = performance.now();
  const r = await runGuarded(docker, {
    entry,
    image,
    limits: { ...DEFAULT_LIMITS, timeoutSeconds: 300 },
    workspace: ws,
    runDir: path.join(tmp, `run-${++n}`),
    scripts,
    spec,
  });
  if (!r.records.end)
    throw new Error(`guarded run without a verdict: ${r.records.problem}\n${r.sandbox.stderr.slice(-800)}`);
  return performance.now() - t;
};

const SCRIPT = `${IN_CONTAINER.scripts}/reproduction.py`;
const reproRaw: number[] = [];
const reproGuarded: number[] = [];
await raw(['python3', '-c', 'pass'], 0); // warm-up
for (let i = 0; i < runs; i++) {
  // The bug is present, so the reproduction fails (exit 1) in both.
  reproRaw.push(await raw(['python3', SCRIPT], 1, [{ hostPath: script, containerPath: SCRIPT, readOnly: true }]));
  reproGuarded.push(
    await guarded('opsguard_runner.py', { script: SCRIPT, scripts: [SCRIPT], sys_path: ['/workspace'] }, [
      { hostPath: script, name: 'reproduction.py' },
    ]),
  );
}
const testRuns = Math.max(3, Math.floor(runs / 4));
const testsRaw: number[] = [];
const testsGuarded: number[] = [];
const testsCoverage: number[] = [];
for (let i = 0; i < testRuns; i++) {
  testsRaw.push(await raw(['python3', '-m', 'pytest', '-q', '-p', 'no:cacheprovider'], 0));
  testsGuarded.push(await guarded('opsguard_tests.py', { per_test_seconds: 30, sys_path: ['/workspace'] }));
  testsCoverage.push(
    await guarded('opsguard_tests.py', {
      per_test_seconds: 30,
      sys_path: ['/workspace'],
      changed_files: ['/workspace/app/config_loader.py'],
      changed_lines: { '/workspace/app/config_loader.py': [13, 14, 15] },
    }),
  );
}

const result = {
  at: new Date().toISOString(),
  machine: { cpus: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
  reproductionRawMs: summary(reproRaw),
  reproductionGuardedMs: summary(reproGuarded),
  tests500RawMs: summary(testsRaw),
  tests500GuardedMs: summary(testsGuarded),
  tests500GuardedWithCoverageMs: summary(testsCoverage),
};
const out = path.join(PROJECT_ROOT, 'bench', 'results', 'guarded-run.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
const row = (name: string, s: ReturnType<typeof summary>, base?: ReturnType<typeof summary>) =>
  `${name.padEnd(52)} p50 ${s.p50.toFixed(0).padStart(5)} ms  p95 ${s.p95.toFixed(0).padStart(5)} ms  (n=${s.n})${base ? `  x${(s.p50 / base.p50).toFixed(2)} of raw` : ''}`;
console.log(row('reproduction, raw container', result.reproductionRawMs));
console.log(row('reproduction, guarded runner (+ coverage)', result.reproductionGuardedMs, result.reproductionRawMs));
console.log(row('500 tests, raw pytest', result.tests500RawMs));
console.log(row('500 tests, guarded launcher', result.tests500GuardedMs, result.tests500RawMs));
console.log(
  row('500 tests, guarded + coverage contexts of a patch', result.tests500GuardedWithCoverageMs, result.tests500RawMs),
);
console.log(`written: ${path.relative(PROJECT_ROOT, out)}`);
