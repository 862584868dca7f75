/**
 * Where work runs. An incident's workflow tasks and its file, model and delivery steps go to the
 * incident's own task queue; its container steps (the sandbox activities below) go, since
 * patched('sandbox-queue-v1'), to the queue beside it, `<queue>-sandbox`, which only a worker whose
 * Docker engine answers polls. A worker without an engine still serves the incident's queries,
 * approvals, model calls and files, and never takes a container step it cannot run.
 */
export const SANDBOX_QUEUE_V1 = 'sandbox-queue-v1';

/** The activities that need a Docker engine (activities/index.ts). */
export const SANDBOX_ACTIVITY_NAMES = [
  'prepareEnvironment',
  'runReproductions',
  'runReproduction',
  'runRepoTests',
] as const;

export function isSandboxActivity(name: string): boolean {
  return (SANDBOX_ACTIVITY_NAMES as readonly string[]).includes(name);
}

/** The sandbox queue beside an incident's task queue. */
export function sandboxTaskQueue(taskQueue: string): string {
  return `${taskQueue}-sandbox`;
}

/**
 * How long a container step may wait for a worker with an engine to take it before the incident says
 * it waits for one (docker-wait.ts) and schedules it again. Generous: a busy sandbox queue is normal.
 */
export const SANDBOX_SCHEDULE_TO_START = '2 minutes';
