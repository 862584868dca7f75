import path from 'node:path';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import type { LogLevel, NativeConnectionOptions, WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { isOperatorLine } from '../workflows/log-tags';
import { PROJECT_ROOT } from './settings';

export const WORKFLOWS_PATH = path.join(PROJECT_ROOT, 'workflows', 'index.ts');

/** Bundle the workflows once (webpack, a few seconds) and reuse the bundle for many workers. */
export async function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietBundlerLogger });
}

const quietBundlerLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};

export interface WorkerOptions {
  /** Where Temporal is and how to reach it (settings.temporal.connectionOptions). */
  connection: NativeConnectionOptions;
  namespace: string;
  taskQueue: string;
  activities: object;
  workflowBundle?: WorkflowBundleWithSourceMap;
}

let runtimeInstalled = false;

/**
 * Temporal's runtime logs at `level` (settings.logLevel, default WARN): worker state chatter is noise
 * for operators, whose own lines (log-tags.ts) are printed whatever the level. First call wins.
 */
export function installRuntimeOnce(level: LogLevel = 'WARN'): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const rank = (l: LogLevel) => ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'].indexOf(l);
  const fallback = new DefaultLogger(level);
  Runtime.install({
    logger: new DefaultLogger('INFO', (entry) => {
      // The workflow's state transitions are for operators: always printed, in the seed's format.
      if (isOperatorLine(entry.message)) console.log(entry.message);
      else if (rank(entry.level) >= rank(level)) fallback.log(entry.level, entry.message, entry.meta);
    }),
  });
}

/** A worker for OpsGuard's workflows and the given activities. The caller runs and shuts it down. */
export async function createWorker(opts: WorkerOptions): Promise<{ worker: Worker; connection: NativeConnection }> {
  installRuntimeOnce();
  const connection = await NativeConnection.connect(opts.connection);
  const worker = await Worker.create({
    connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    activities: opts.activities,
    // Heartbeats reach the server at least every 2 s: a cancellation (or a lost worker's silence) is
    // noticed in seconds, not at the SDK's default of up to 60 s.
    maxHeartbeatThrottleInterval: '2 seconds',
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
  });
  return { worker, connection };
}
