/**
 * The test command's runner. Two layers (CONVENTIONS.md):
 * - everything (`npm test`): starts the real Temporal dev server for the suite on its own ports (in
 *   memory, so test runs leave nothing behind), runs every test file with Node's test runner, stops
 *   the server;
 * - `--unit` (`npm run test:unit`): only test/unit/, the fast layer that needs neither Docker nor the
 *   dev server (pure rules, replay, workflow logic on the time-skipping test server).
 * Exits with the runner's code; Node prints its summary (tests/pass/fail/skipped).
 * Every temporary folder of the run (test files, the workers and engines they start: all use
 * os.tmpdir()) goes under one folder of this run's, removed at its end; one of a runner that was
 * killed is removed by the next run.
 * Usage: tsx test/run-suite.ts [--unit] [--name=<test name pattern>] [file-or-substring ...]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../worker/settings';
import { startTestServer, TEST_TEMPORAL_ADDRESS, TEST_TEMPORAL_UI_PORT } from './support/temporal';

function testFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) return e.name === 'node_modules' || e.name.startsWith('.') ? [] : testFiles(p);
      return e.name.endsWith('.test.ts') ? [p] : [];
    })
    .sort();
}

const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
/** `--name=<pattern>`: only the tests whose name matches (node's --test-name-pattern). */
const namePatterns = args.filter((a) => a.startsWith('--name=')).map((a) => `--test-name-pattern=${a.slice(7)}`);
const filters = args.filter((a) => a !== '--unit' && !a.startsWith('--name='));
const roots = unitOnly ? ['test/unit'] : ['test', 'sandbox', 'activities', 'workflows', 'client', 'worker'];
const all = roots.flatMap((d) =>
  fs.existsSync(path.join(PROJECT_ROOT, d)) ? testFiles(path.join(PROJECT_ROOT, d)) : [],
);
const files = filters.length ? all.filter((f) => filters.some((s) => f.includes(s))) : all;
if (files.length === 0) {
  console.error(`No test files match ${filters.join(' ')}`);
  process.exit(1);
}

const TMP_PREFIX = 'opsguard-tests-';
const systemTmp = os.tmpdir();
for (const name of fs.readdirSync(systemTmp).filter((n) => n.startsWith(TMP_PREFIX))) {
  if (!runnerAlive(Number(name.slice(TMP_PREFIX.length))))
    fs.rmSync(path.join(systemTmp, name), { recursive: true, force: true });
}
const runTmp = path.join(systemTmp, `${TMP_PREFIX}${process.pid}`);
fs.mkdirSync(runTmp, { recursive: true });
fs.chmodSync(runTmp, 0o1777); // like /tmp: a test's worker may run as another user

function runnerAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const server = unitOnly ? null : await startTestServer();
if (server) {
  console.log(
    `[test] Temporal dev server ${server.reused ? 'reused' : 'started'} at ${server.address} (UI ${server.uiUrl})`,
  );
}
const code = await new Promise<number>((resolve) => {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...namePatterns, ...files],
    {
      stdio: 'inherit',
      env: {
        ...process.env,
        TMPDIR: runTmp,
        OPSGUARD_TEST_TEMPORAL_ADDRESS: TEST_TEMPORAL_ADDRESS,
        OPSGUARD_TEST_TEMPORAL_UI_PORT: String(TEST_TEMPORAL_UI_PORT),
      },
    },
  );
  child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
});
await server?.stop();
try {
  fs.rmSync(runTmp, { recursive: true, force: true });
} catch (err) {
  console.error(`[test] could not remove this run's temporary folder ${runTmp}: ${(err as Error).message}`);
}
process.exit(code);
