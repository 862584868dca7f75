import type Docker from 'dockerode';

/**
 * Owed removals: containers this worker meant to remove but could not, because the engine did not
 * answer (stopped, restarting, its socket gone). SandboxContainer.remove() records them here instead
 * of forgetting them; the worker's janitor sweep and the next guarded run retry them. So a Docker
 * outage leaves nothing of ours behind once the engine is back, without waiting for the deadline
 * label (janitor.ts), which only a worker's death or a run's hang should need.
 *
 * A container the engine says is gone (404) or already being removed (409) is not owed. At most
 * MAX_OWED are kept; past that, the deadline label still catches them.
 */
export const MAX_OWED = 1000;

const owed = new Map<string, Docker.Container>();
let settling: Promise<number> | null = null;

/** Remove the container: true once it is gone (removed now, or the engine says gone or going). */
function removeNow(container: Docker.Container): Promise<boolean> {
  return container.remove({ force: true, v: true }).then(
    () => true,
    (err: unknown) => {
      const status = (err as { statusCode?: number } | null)?.statusCode;
      return status === 404 || status === 409;
    },
  );
}

/** Remove the container; if the engine cannot be reached, owe it. Never throws. */
export async function removeOrOwe(container: Docker.Container): Promise<void> {
  if (!(await removeNow(container)) && owed.size < MAX_OWED) owed.set(container.id, container);
}

/** How many removals are owed now. */
export function owedRemovals(): number {
  return owed.size;
}

/**
 * Try the owed removals, oldest first, until one fails (the engine still does not answer). One pass
 * at a time; a call during a pass joins it. Returns how many were settled: removed now, or found gone.
 */
export function settleOwedRemovals(): Promise<number> {
  if (owed.size === 0) return Promise.resolve(0);
  settling ??= (async () => {
    let settled = 0;
    for (const [id, container] of [...owed]) {
      if (!(await removeNow(container))) break; // the engine still does not answer: the rest wait for the next pass
      owed.delete(id);
      settled++;
    }
    return settled;
  })().finally(() => {
    settling = null;
  });
  return settling;
}
