/**
 * Temporal's time-skipping test server for the fast layer (test/unit/): timers and timeouts pass in
 * milliseconds while a client waits. The set-up step temporal-test-server puts it in .tools/ (from
 * Maven Central; @temporalio/testing's own download cannot work here). OpsGuard's search attributes
 * are registered through the operator service, as on a production cluster.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { bundleWorkflows, createWorker, installRuntimeOnce } from '../../worker/create-worker';
import { PROJECT_ROOT } from '../../worker/settings';
import { SEARCH_ATTRIBUTE_NAMES } from '../../workflows/search-attributes';

export const TEST_SERVER = path.join(PROJECT_ROOT, '.tools', 'bin', 'temporal-test-server');
export const NOT_RUN_WITHOUT_TEST_SERVER = `NOT RUN: no time-skipping test server at ${TEST_SERVER} (npm run setup fetches it with Maven; it needs Java)`;
export const hasTestServer = () => fs.existsSync(TEST_SERVER);

const KEYWORD = 2; // temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD

let env: Promise<TestWorkflowEnvironment> | undefined;
let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** One environment per test file (started on first use; stop it with stopTimeSkipping in `after`). */
export async function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  env ??= (async () => {
    installRuntimeOnce();
    const e = await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: TEST_SERVER } },
    });
    await e.connection.operatorService.addSearchAttributes({
      namespace: e.namespace ?? 'default',
      searchAttributes: Object.fromEntries(SEARCH_ATTRIBUTE_NAMES.map((n) => [n, KEYWORD])),
    });
    return e;
  })();
  return await env;
}

export async function stopTimeSkipping(): Promise<void> {
  if (env) await (await env).teardown();
  env = undefined;
}

/** Run `fn` with a worker serving OpsGuard's workflows and these activities on a fresh task queue. */
export async function withStubbedWorker<T>(
  activities: object,
  fn: (ctx: { env: TestWorkflowEnvironment; taskQueue: string }) => Promise<T>,
): Promise<T> {
  const e = await timeSkippingEnv();
  bundle ??= bundleWorkflows();
  const taskQueue = `unit-${randomUUID()}`;
  const { worker } = await createWorker({
    connection: e.nativeConnection,
    namespace: e.namespace ?? 'default',
    taskQueue,
    activities,
    workflowBundle: await bundle,
  });
  return await worker.runUntil(fn({ env: e, taskQueue }));
}
