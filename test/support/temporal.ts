import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { bundleWorkflows, createWorker, installRuntimeOnce } from '../../worker/create-worker';
import { ensureDevServer } from '../../client/dev-server';
import { settingsFromEnv } from '../../worker/settings';
import path from 'node:path';

/**
 * The test suite's Temporal: the real dev server binary, started by test/run-suite.ts on its own
 * ports (or by the first test file run on its own), reached through @temporalio/testing.
 */
export const TEST_TEMPORAL_ADDRESS = process.env.OPSGUARD_TEST_TEMPORAL_ADDRESS ?? '127.0.0.1:17233';
export const TEST_TEMPORAL_UI_PORT = Number(process.env.OPSGUARD_TEST_TEMPORAL_UI_PORT ?? 18233);

export async function startTestServer() {
  const settings = settingsFromEnv();
  return await ensureDevServer({
    temporalBin: settings.temporalBin,
    address: TEST_TEMPORAL_ADDRESS,
    uiPort: TEST_TEMPORAL_UI_PORT,
    logFile: path.join(settings.stateDir, 'test-temporal.log'),
  });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** Run `fn` with a test environment and a worker for `activities` on a fresh task queue. */
export async function withWorker<T>(
  activities: object,
  fn: (ctx: { env: TestWorkflowEnvironment; taskQueue: string }) => Promise<T>,
  opts: { taskQueue?: string } = {},
): Promise<T> {
  installRuntimeOnce(); // before anything instantiates Temporal's runtime
  const server = await startTestServer();
  const env = await TestWorkflowEnvironment.createFromExistingServer({ address: TEST_TEMPORAL_ADDRESS });
  const taskQueue = opts.taskQueue ?? `test-${randomUUID()}`;
  bundle ??= bundleWorkflows();
  const { worker, connection } = await createWorker({
    connection: { address: TEST_TEMPORAL_ADDRESS },
    namespace: 'default',
    taskQueue,
    activities,
    workflowBundle: await bundle,
  });
  try {
    return await worker.runUntil(fn({ env, taskQueue }));
  } finally {
    await connection.close();
    await env.teardown();
    if (!process.env.OPSGUARD_TEST_TEMPORAL_ADDRESS) await server.stop();
  }
}
