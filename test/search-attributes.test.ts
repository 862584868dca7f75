/**
 * A worker on a namespace without OpsGuard's search attributes (a production cluster where nobody
 * created them) refuses to start, with the exact commands that create them, instead of letting every
 * incident hang at its first status update; allowed to, it creates them itself and starts. Real
 * Temporal server (a fresh namespace of this test's own), the real worker process.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { test } from 'node:test';
import { Connection } from '@temporalio/client';
import { PROJECT_ROOT, settingsFromEnv } from '../worker/settings';
import { SEARCH_ATTRIBUTE_NAMES } from '../workflows/search-attributes';
import { startTestServer, TEST_TEMPORAL_ADDRESS } from './support/temporal';

/** Run the worker until it exits or prints that it polls; then stop it. */
function worker(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'client', 'bin.mjs'), 'worker'], {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: TEST_TEMPORAL_ADDRESS,
        OPSGUARD_TASK_QUEUE: `sa-${randomUUID()}`,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const take = (d: Buffer) => {
      output += d.toString();
      if (output.includes('[WORKER] polling task queue')) child.kill('SIGTERM');
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

test('a namespace without the search attributes: the worker refuses with the commands, or creates them when allowed', async () => {
  const server = await startTestServer();
  const namespace = `bare-${randomUUID().slice(0, 8)}`;
  const connection = await Connection.connect({ address: TEST_TEMPORAL_ADDRESS });
  try {
    execFileSync(settingsFromEnv().temporalBin, [
      'operator',
      'namespace',
      'create',
      '--namespace',
      namespace,
      '--address',
      TEST_TEMPORAL_ADDRESS,
    ]);
    // A new namespace takes a moment to be served everywhere.
    for (let i = 0; i < 50; i++) {
      const ok = await connection.operatorService
        .listSearchAttributes({ namespace })
        .then(() => true)
        .catch(() => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const refused = await worker({ TEMPORAL_NAMESPACE: namespace });
    assert.equal(refused.code, 2, refused.output);
    assert.match(refused.output, new RegExp(`namespace '${namespace}' lacks OpsGuard's search attributes`));
    for (const name of SEARCH_ATTRIBUTE_NAMES)
      assert.match(
        refused.output,
        new RegExp(`temporal operator search-attribute create --namespace ${namespace} --name ${name} --type Keyword`),
      );
    assert.doesNotMatch(refused.output, /\n\s+at /, 'one clear message, no stack trace');

    const created = await worker({ TEMPORAL_NAMESPACE: namespace, OPSGUARD_CREATE_SEARCH_ATTRIBUTES: 'true' });
    assert.match(created.output, /\[WORKER\] created the search attributes OpsGuardStatus, .*OpsGuardPullRequest/);
    assert.match(created.output, /\[WORKER\] polling task queue/);
    const known = (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
    for (const name of SEARCH_ATTRIBUTE_NAMES) assert.ok(name in known, name);

    const again = await worker({ TEMPORAL_NAMESPACE: namespace });
    assert.match(
      again.output,
      /\[WORKER\] polling task queue/,
      'with them in place it starts without being allowed to create',
    );
  } finally {
    await connection.close();
    if (!process.env.OPSGUARD_TEST_TEMPORAL_ADDRESS) await server.stop();
  }
});
