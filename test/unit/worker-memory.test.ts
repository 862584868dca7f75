/**
 * The worker's memory settings (worker/worker-memory.ts) take effect: the bundle really preloads
 * the shared modules (a preload webpack drops as unused would share nothing), and a thread made
 * after the settings gets the small young generation while one made before does not. What they do
 * to the worker's RSS is a figure, measured by bench/throughput.ts, not asserted here.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { bundleWorkflows } from '../../worker/create-worker';
import { PROJECT_ROOT } from '../../worker/settings';
import { SHARED_WORKFLOW_MODULES, WORKFLOW_THREAD_SEMI_SPACE_MB } from '../../worker/worker-memory';

test('the workflow bundle loads workflows/shared-modules.ts, which holds zod, before any workflow', async () => {
  assert.deepEqual(
    SHARED_WORKFLOW_MODULES.map((m) => path.relative(PROJECT_ROOT, m)),
    ['workflows/shared-modules.ts'],
  );
  const { code } = await bundleWorkflows();
  const preload = /exports\.preloadModules = function preloadModules\(\) \{([^}]*)\}/.exec(code);
  assert.ok(preload, 'the bundle has no preloadModules function');
  // webpack drops a bare require of a package marked side-effect free (zod is): then nothing is shared.
  assert.ok(preload[1]?.includes('"./workflows/shared-modules.ts"'), `the preload loads nothing shared: ${preload[1]}`);
  const shared = code.slice(code.indexOf('/***/ "./workflows/shared-modules.ts"'));
  assert.match(shared.slice(0, 2000), /__webpack_require__\(\/\*! zod \*\/ "\.\/node_modules\/zod\//);
});

test('a thread made after applyWorkerMemorySettings has the small young generation; one made before it, the default', () => {
  // A child process of its own, so the test runner's V8 flags stay as they were.
  const script = `
    import { Worker } from 'node:worker_threads';
    import { applyWorkerMemorySettings } from ${JSON.stringify(path.join(PROJECT_ROOT, 'worker', 'worker-memory.ts'))};
    const churn = \`
      const v8 = require('node:v8');
      let keep = [];
      for (let i = 0; i < 2e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 20000) keep = []; }
      const s = v8.getHeapSpaceStatistics().find((x) => x.space_name === 'new_space');
      require('node:worker_threads').parentPort.postMessage(s.space_size / 2 ** 20);
    \`;
    const youngMiB = () => new Promise((resolve, reject) => {
      const w = new Worker(churn, { eval: true, execArgv: [] });
      w.once('message', (m) => { resolve(m); void w.terminate(); });
      w.once('error', reject);
    });
    const before = await youngMiB();
    applyWorkerMemorySettings();
    const after = await youngMiB();
    console.log(JSON.stringify({ before, after }));
  `;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(run.status, 0, run.stderr);
  const { before, after } = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as {
    before: number;
    after: number;
  };
  assert.ok(before >= 8, `a thread made before the limit should have V8's default young generation, got ${before} MiB`);
  assert.ok(
    after <= 2 * WORKFLOW_THREAD_SEMI_SPACE_MB,
    `a thread made after the limit has a ${after} MiB young generation (limit: 2 x ${WORKFLOW_THREAD_SEMI_SPACE_MB} MiB)`,
  );
});
