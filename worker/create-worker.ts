import path from 'node:path';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import type {
  LogLevel,
  NativeConnectionOptions,
  WorkflowBundlePath,
  WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { isOperatorLine } from '../workflows/log-tags';
import { isSandboxActivity, sandboxTaskQueue } from '../workflows/task-queues';
import { WorkerGroup } from './worker-group';
import { PROJECT_ROOT } from './settings';
import { SHARED_WORKFLOW_MODULES, applyWorkerMemorySettings } from './worker-memory';

export const WORKFLOWS_PATH = path.join(PROJECT_ROOT, 'workflows', 'index.ts');

/** Bundle the workflows once (webpack, a few seconds) and reuse the bundle for many workers. */
export async function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    preloadModules: SHARED_WORKFLOW_MODULES,
    logger: quietBundlerLogger,
  });
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
  /** Where Temporal is and how to reach it (settings.temporal.connectionOptions), or a connection to share. */
  connection: NativeConnectionOptions | NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: object;
  /** A bundle built already (tests share one; a worker process loads worker/workflow-bundle.ts's file). */
  workflowBundle?: WorkflowBundleWithSourceMap | WorkflowBundlePath;
  /**
   * The container steps (workflows/task-queues.ts) on `<taskQueue>-sandbox`: 'now' (default) polls
   * that queue from the start; 'later' (the engine does not answer yet) takes no container step,
   * not even an older incident's on the main queue, until `startSandbox()`.
   */
  sandbox?: 'now' | 'later';
  /**
   * This worker's own queue (activities/incident-host.ts): every activity, for the incidents whose
   * workspace this worker holds (workflows/host-pinning.ts). Absent: incidents are not pinned here.
   */
  hostQueue?: string;
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

/**
 * A worker for OpsGuard's workflows and the given activities: the incident's task queue, beside it
 * the sandbox queue its container steps go to, and (hostQueue) its own queue for the incidents pinned
 * to it (worker-group.ts). The caller runs and shuts it down.
 */
export async function createWorker(
  opts: WorkerOptions,
): Promise<{ worker: WorkerGroup; connection: NativeConnection }> {
  installRuntimeOnce();
  const connection =
    opts.connection instanceof NativeConnection ? opts.connection : await NativeConnection.connect(opts.connection);
  const all = opts.activities as Record<string, unknown>;
  const sandboxOnes = Object.fromEntries(Object.entries(all).filter(([name]) => isSandboxActivity(name)));
  const others = Object.fromEntries(Object.entries(all).filter(([name]) => !isSandboxActivity(name)));
  const common = {
    connection,
    namespace: opts.namespace,
    // Heartbeats reach the server at least every 2 s: a cancellation (or a lost worker's silence) is
    // noticed in seconds, not at the SDK's default of up to 60 s.
    maxHeartbeatThrottleInterval: '2 seconds',
  } as const;
  const later = opts.sandbox === 'later';
  applyWorkerMemorySettings(); // before the SDK creates its workflow thread
  const main = await Worker.create({
    ...common,
    taskQueue: opts.taskQueue,
    // Incidents started before sandbox-queue-v1 still send container steps here: only with an engine.
    activities: later ? others : all,
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
  });
  const makeSandbox = Object.keys(sandboxOnes).length
    ? () => Worker.create({ ...common, taskQueue: sandboxTaskQueue(opts.taskQueue), activities: sandboxOnes })
    : null;
  const host = opts.hostQueue ? [await Worker.create({ ...common, taskQueue: opts.hostQueue, activities: all })] : [];
  const worker = new WorkerGroup(main, makeSandbox, host);
  if (!later) await worker.startSandbox();
  return { worker, connection };
}
