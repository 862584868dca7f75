/**
 * An incident stays on the worker that holds its workspace, and moves when that worker is gone.
 *
 * The workspace (baseline, workspace, secret map, code index) is on the disk of the worker that ran
 * setupWorkspace, which returns that worker's own task queue (activities/incident-host.ts). From then
 * on every step of the incident is scheduled there, as Temporal recommends for host-local state (a
 * worker-specific task queue), with a schedule-to-start timeout of the worker's choosing. A step that
 * no worker starts within it (the worker died, or was stopped and not restarted) means the incident
 * moves: setupWorkspace runs again on the shared queue in adopt mode (another worker rebuilds the
 * workspace from the repository, refusing a repository that changed while the proof was open), the
 * prepared environment and an applied fix are restored on the new worker, and the step runs there.
 * The history shows the move: the step's SCHEDULE_TO_START timeout, then the adopting setupWorkspace
 * with its summary, and the result keeps `moves`.
 *
 * Incidents whose setupWorkspace returned no host (started before this, or on a worker without a
 * Docker engine) are not pinned: their steps go to the shared queues as before.
 */
import { ActivityFailure, ApplicationFailure, TimeoutFailure, log, proxyActivities } from '@temporalio/workflow';
import type { ActivityOptions } from '@temporalio/workflow';
import type { IncidentRun } from './incident-run';
import type { IncidentHost, OpsGuardActivities } from './incident-types';
import { FILES_ACTIVITY, PREPARE_ACTIVITY } from './retry-rules';
import { TAG } from './log-tags';

/** Steps any worker can do: they read no incident's workspace. */
const UNPINNED = new Set(['setupWorkspace', 'verifyDecision', 'ping']);

/** A move that keeps failing to find a worker ends the incident rather than moving forever. */
export const MAX_MOVES = 5;

export function isPinned(activity: string): boolean {
  return !UNPINNED.has(activity);
}

/** The options of a step sent to the incident's own worker. */
export function onHost(options: ActivityOptions, host: IncidentHost): ActivityOptions {
  return { ...options, taskQueue: host.queue, scheduleToStartTimeout: `${host.waitSeconds} seconds` };
}

/** A step on the host's queue that no worker started in time: the host is gone. */
export function hostLost(err: unknown): boolean {
  return (
    err instanceof ActivityFailure &&
    err.cause instanceof TimeoutFailure &&
    err.cause.timeoutType === 'SCHEDULE_TO_START'
  );
}

/**
 * Move the incident off a worker that took no `activity` within its wait: rebuild the workspace on
 * whichever worker takes setupWorkspace, then restore what the incident had on the old one.
 */
export async function moveIncident(run: IncidentRun, activity: string): Promise<void> {
  const from = run.host;
  if (!from) return;
  const { incidentId, result } = run;
  const moves = (result.moves ??= []);
  const reason = `worker ${from.worker} started no ${activity} within ${from.waitSeconds} s`;
  if (moves.length >= MAX_MOVES) {
    throw ApplicationFailure.nonRetryable(
      `The incident moved ${moves.length} times and its worker stopped again (${reason}); is any worker with a Docker engine running?`,
      'IncidentHostLost',
    );
  }
  log.warn(`${TAG.move} ${reason}; moving the incident to another worker`, { incidentId });
  run.tracker.waitingFor(`another worker (${reason})`);
  // Proof artifacts written: the repository may have moved on since (delivery handles a newer head).
  const sameTree = Object.keys(result.artifacts).length === 0;
  const adopted = await proxyActivities<OpsGuardActivities>({
    ...FILES_ACTIVITY,
    summary: `move: rebuild the workspace on another worker (${reason})`,
  }).setupWorkspace({
    incidentId,
    repoPath: run.input.repoPath,
    errorLog: run.input.errorLog,
    adopt: { treeDigest: run.treeDigest ?? '', sameTree: sameTree && !!run.treeDigest, from: from.worker },
  });
  run.pin(adopted);
  const restored: string[] = ['workspace rebuilt from the repository (same content)'];
  if (run.environmentArgs) {
    const prepared = await run
      .act(PREPARE_ACTIVITY, 'move: prepare the Python and the dependencies again')
      .prepareEnvironment(run.environmentArgs);
    if (!prepared.ok) throw ApplicationFailure.nonRetryable(`After the move: ${prepared.reason}`, 'IncidentHostLost');
    run.useEnvironment(prepared);
    restored.push('environment prepared again');
  }
  if (run.appliedFix) {
    const applied = await run
      .act(FILES_ACTIVITY, `move: apply fix ${run.appliedFix.attempt} again`)
      .applyFix(run.appliedFix);
    if (!applied.ok) throw ApplicationFailure.nonRetryable(`After the move: ${applied.reason}`, 'IncidentHostLost');
    restored.push(`fix ${run.appliedFix.attempt} applied again`);
  }
  const to = adopted.host?.worker ?? null;
  moves.push({ step: run.tracker.step, activity, from: from.worker, to, reason });
  run.tracker.waitingFor(null);
  log.warn(`${TAG.move} now on worker ${to ?? '(any: not pinned)'}: ${restored.join(', ')}`, { incidentId });
}
