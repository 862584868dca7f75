/**
 * Sandbox work inside an activity: cancellation that stops its containers (heartbeats: heartbeats.ts),
 * the one sandbox error that retrying cannot fix (the image is missing) made non-retryable, and an
 * engine that does not answer said as DockerUnavailable (the workflow waits for it).
 */
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { ERROR_TYPES, TRANSIENT_ERROR_TYPES } from '../workflows/error-types';

/** The activity's context, or null outside a worker (a script, a bench, a test of the activity itself). */
function activityContext(): Context | null {
  try {
    return Context.current();
  } catch {
    return null;
  }
}

/** The engine is gone (stopped, restarting, socket removed), as opposed to a run's own failure. */
export function engineUnreachable(err: unknown): boolean {
  const e = err as NodeJS.ErrnoException;
  return (
    (['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'EACCES'].includes(e?.code ?? '') &&
      /connect|socket|read|write/i.test(`${e.syscall ?? ''} ${e.message}`)) ||
    /socket hang up|Cannot connect to the Docker daemon|connect (ECONNREFUSED|ENOENT|EACCES)/i.test(e?.message ?? '')
  );
}

const cancelled = () => new CancelledFailure('the incident was cancelled; its sandbox containers were stopped');

export async function inSandboxActivity<T>(
  image: string,
  fn: (signal: AbortSignal | undefined) => Promise<T>,
): Promise<T> {
  const ctx = activityContext();
  try {
    const result = await fn(ctx?.cancellationSignal);
    // Cancelled while the containers ran: they were stopped; report the cancellation, not a result.
    if (ctx?.cancellationSignal.aborted) throw cancelled();
    return result;
  } catch (err) {
    // Already decided by an inner call (nested sandbox work): passed on as it is, not wrapped again.
    if (err instanceof CancelledFailure || err instanceof ApplicationFailure) throw err;
    // Cancelled while waiting (for a run slot, sandbox/run-slots.ts) or while the containers ran.
    if (ctx?.cancellationSignal.aborted) throw cancelled();
    if (/no such image/i.test((err as Error).message)) {
      throw ApplicationFailure.nonRetryable(
        `The sandbox image ${image} does not exist on the Docker engine; run 'npm run setup' or set OPSGUARD_SANDBOX_IMAGE`,
        ERROR_TYPES.sandboxImageMissing,
      );
    }
    if (engineUnreachable(err)) {
      throw ApplicationFailure.retryable(
        `The Docker engine does not answer (${(err as Error).message.slice(0, 200)}); the step is retried when it is back`,
        TRANSIENT_ERROR_TYPES.dockerUnavailable,
      );
    }
    throw err; // a daemon hiccup: Temporal retries the activity
  }
}
