/**
 * One OpsGuard worker is up to three Temporal workers on one connection: the main one (workflows,
 * files, model, delivery) on the incident's task queue, the sandbox one (container steps) on the queue
 * beside it (workflows/task-queues.ts), which may start later, once the Docker engine answers, and
 * the host one on this worker's own queue, where incidents pinned here send every step
 * (workflows/host-pinning.ts). They run and stop together: SIGINT/SIGTERM, the end of `runUntil`'s
 * promise, or any one failing.
 */
import type { Worker } from '@temporalio/worker';

export class WorkerGroup {
  private readonly workers: Worker[] = [];
  private readonly runs: Promise<void>[] = [];
  private running = false;
  private stopped = false;
  private sandboxStarted = false;

  constructor(
    readonly main: Worker,
    private readonly makeSandbox: (() => Promise<Worker>) | null,
    others: Worker[] = [],
  ) {
    this.workers.push(main, ...others);
  }

  /** Whether container steps are being taken (false until the engine answered, for a 'later' worker). */
  get takesSandboxWork(): boolean {
    return this.sandboxStarted;
  }

  /** Start polling the sandbox queue (once; nothing when there are no sandbox activities). */
  async startSandbox(): Promise<void> {
    if (this.sandboxStarted || this.stopped || !this.makeSandbox) return;
    this.sandboxStarted = true;
    const worker = await this.makeSandbox();
    this.workers.push(worker);
    if (this.running) this.track(worker);
  }

  /** Run until SIGINT/SIGTERM (the SDK shuts every worker down) or one worker fails (rethrown). */
  async run(): Promise<void> {
    this.running = true;
    for (const w of this.workers) this.track(w);
    // The main worker's end ends the group; a sandbox worker failing stops the main one too (track).
    await this.runs[0]?.catch(() => undefined);
    await this.stop();
    const failed = (await Promise.allSettled(this.runs)).find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Run until `until` settles, then stop; its value (or its error) is the result. */
  async runUntil<T>(until: Promise<T> | (() => Promise<T>)): Promise<T> {
    const running = this.run();
    try {
      return await (typeof until === 'function' ? until() : until);
    } finally {
      await this.stop();
      await running;
    }
  }

  /** Ask every worker to stop (their in-flight work is cancelled) and wait for them. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.workers) if (w.getState() === 'RUNNING') w.shutdown();
    await Promise.allSettled(this.runs);
  }

  private track(worker: Worker): void {
    const run = worker.run();
    this.runs.push(run);
    // A failed worker stops the others; run() rethrows it through runs[i].
    run.catch(() => void this.stop());
  }
}
