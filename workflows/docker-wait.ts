/**
 * Waiting for the Docker engine. A sandbox step whose engine does not answer fails (after its own
 * retries) with DockerUnavailable, and one that no worker with an engine takes within
 * SANDBOX_SCHEDULE_TO_START (task-queues.ts) times out before it starts; since
 * patched('docker-wait-v1') the incident then waits, visibly
 * (`state.waitingFor`, the Web UI's details: "waiting for Docker"), and tries the step again after
 * 5, 10, 20, then every 30 seconds, for up to DOCKER_WAIT_WINDOW; nothing of the incident is lost
 * or counted as a failed attempt. After the window the step's failure stands.
 */
import { ActivityFailure, ApplicationFailure, TimeoutFailure, patched, sleep } from '@temporalio/workflow';
import { TRANSIENT_ERROR_TYPES } from './error-types';

export const DOCKER_WAIT_V1 = 'docker-wait-v1';
/** How long an incident waits for its Docker engine before the step fails. */
export const DOCKER_WAIT_WINDOW_MS = 2 * 60 * 60 * 1000;
const PAUSES_S = [5, 10, 20, 30];

export interface Waiting {
  /** Say what the incident waits for (null: nothing any more). */
  waitingFor(what: string | null): void;
}

/** Run `call`; while the engine does not answer, wait and call again (incidents since the patch). */
export async function waitingForDocker<T>(
  call: () => Promise<T>,
  waiting: Waiting,
  opts: { scheduleToStartIsDocker: boolean } = { scheduleToStartIsDocker: true },
): Promise<T> {
  let waitedMs = 0;
  for (let n = 0; ; n++) {
    try {
      const result = await call();
      if (n > 0) waiting.waitingFor(null);
      return result;
    } catch (err) {
      const why = dockerAbsence(err, opts.scheduleToStartIsDocker);
      if (why === null || waitedMs >= DOCKER_WAIT_WINDOW_MS || !patched(DOCKER_WAIT_V1)) throw err;
      const pause = PAUSES_S[Math.min(n, PAUSES_S.length - 1)] as number;
      waiting.waitingFor(`Docker: ${why} (next try in ${pause} s)`);
      await sleep(pause * 1000);
      waitedMs += pause * 1000;
    }
  }
}

/** Why a step failed for want of a Docker engine, or null when it failed for another reason. */
function dockerAbsence(err: unknown, scheduleToStartIsDocker: boolean): string | null {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  if (cause instanceof ApplicationFailure && cause.type === TRANSIENT_ERROR_TYPES.dockerUnavailable)
    return cause.message;
  // On a pinned incident's own queue, a step nobody starts means the worker is gone (host-pinning.ts).
  if (scheduleToStartIsDocker && cause instanceof TimeoutFailure && cause.timeoutType === 'SCHEDULE_TO_START')
    return 'no worker with a Docker engine has taken the step (is a worker with an engine polling the sandbox queue?)';
  return null;
}
