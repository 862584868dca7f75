/**
 * Every activity heartbeats every second while it works (the SDK sends them to Temporal at most every
 * 2 s, worker/create-worker.ts), so every step can have a short heartbeat timeout: a worker that dies
 * mid-step, in a container run, a model call, a copy or an artifact write, is noticed within that
 * timeout and the step is retried elsewhere, and a cancellation reaches the step in seconds.
 */
import { Context } from '@temporalio/activity';

const BEAT_MS = 1000;

/** The activity's context, or null when called outside a worker (a script, a test of the function). */
function activityContext(): Context | null {
  try {
    return Context.current();
  } catch {
    return null;
  }
}

/** The same activities, each heartbeating while it runs. */
export function withHeartbeats<T extends object>(activities: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    if (typeof fn !== 'function') {
      wrapped[name] = fn;
      continue;
    }
    wrapped[name] = async (...args: unknown[]) => {
      const ctx = activityContext();
      const timer = ctx ? setInterval(() => ctx.heartbeat(), BEAT_MS) : undefined;
      try {
        return await (fn as (...a: unknown[]) => Promise<unknown>)(...args);
      } finally {
        if (timer) clearInterval(timer);
      }
    };
  }
  return wrapped as T;
}
