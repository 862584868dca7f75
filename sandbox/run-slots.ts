/**
 * How many guarded runs this worker has in its containers at once (OPSGUARD_SANDBOX_RUNS, default
 * twice the CPUs). Every run is CPU work, so on a machine already busy more of them at once only
 * share the same cores, while each adds a container's start-up to the engine and its streams and
 * buffers to the worker's memory. A run waits here for a slot (its activity keeps heartbeating),
 * and the runs of every incident take slots in the order they asked.
 */
export class RunSlots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly size: number) {
    this.free = size;
  }

  /** Wait for a slot; call the returned function once the run is over. */
  async take(signal?: AbortSignal): Promise<() => void> {
    if (this.free > 0) {
      this.free--;
    } else {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          const i = this.waiting.indexOf(grant);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(new Error('cancelled while waiting for a sandbox run slot'));
        };
        const grant = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        if (signal?.aborted) return onAbort();
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiting.push(grant);
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next)
        next(); // the slot passes straight to the next run
      else this.free++;
    };
  }

  /** Runs waiting for a slot now. */
  get queued(): number {
    return this.waiting.length;
  }
}

let slots: RunSlots | null = null;

/** This process's limit (the worker sets it at start from OPSGUARD_SANDBOX_RUNS); 0: none. */
export function limitSandboxRuns(size: number): void {
  slots = size > 0 ? new RunSlots(size) : null;
}

/** The process's run slots, or null when runs are not limited (no worker set a limit). */
export function sandboxRunSlots(): RunSlots | null {
  return slots;
}
