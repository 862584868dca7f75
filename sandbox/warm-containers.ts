/**
 * Warm containers: the containers a guarded run will need, made while the model is still writing.
 *
 * When the model is asked for a reproduction or a fix, the worker creates and starts the containers
 * that will run the answer (image, mounts, limits, labels set; the runner's Python up and blocked on
 * its stdin, where the run key will come). When the answer arrives, runGuarded takes one, writes the
 * spec and scripts into its slot and writes the key: create, start and the interpreter's start-up are
 * off the critical path. Each run still gets its own fresh container, used once.
 *
 * A warm container is only used for a run it was made for: the same template (entry, image, limits,
 * workspace, environment, incident, purpose) and the same workspace and dependency folders (device
 * and inode: a workspace replaced since, as a restore does, is a different folder to a started
 * container), and only while its process is still up, waiting. Anything else is removed and the run
 * makes a fresh one. Held containers are bounded (`max` per worker) and removed after `holdSeconds`,
 * when their incident ends (release), when the model's step fails or is cancelled, and when the
 * worker stops; their deadline label counts the hold, so the janitor removes them if the worker dies.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type Docker from 'dockerode';
import { createGuardedSlot } from './guarded-run';
import type { GuardedContainerTemplate, GuardedSlot, GuardedSlotSource } from './guarded-run';

/** A container waits at most this long for its run: the model step's own limit (retry-rules.ts). */
export const WARM_HOLD_SECONDS = 300;

export interface WarmOptions {
  /** Containers held at once by this worker, across incidents. */
  max: number;
  /** How long a container may wait for its run before it is removed. */
  holdSeconds: number;
  /** Whether to make any now (a worker that takes no container steps makes none). */
  enabled?: () => boolean;
  /** Where a failure to make one is said (it never fails the step: the run makes its own). */
  log?: (message: string) => void;
}

interface Held {
  key: string;
  incidentId: string;
  /** The workspace and dependency folders' identity when the container was made. */
  folders: string | null;
  ready: Promise<GuardedSlot | null>;
  timer: NodeJS.Timeout;
}

const keyOf = (t: GuardedContainerTemplate) =>
  JSON.stringify([t.entry, t.image, t.limits, t.workspace, t.environment ?? null, t.incidentId ?? '', t.purpose ?? '']);

/** Device and inode of the folders a started container has mounted (null when one is gone). */
async function foldersOf(t: GuardedContainerTemplate): Promise<string | null> {
  const ids = await Promise.all(
    [t.workspace, t.environment?.depsDir].map(async (dir) => {
      if (!dir) return '-';
      const st = await fs.stat(dir).catch(() => null);
      return st ? `${st.dev}:${st.ino}` : null;
    }),
  );
  return ids.includes(null) ? null : ids.join(' ');
}

export class WarmContainers implements GuardedSlotSource {
  private readonly held: Held[] = [];
  private closed = false;
  /** Runs that found a warm container, and runs that made their own (benchmarks, the state query). */
  readonly counts = { prepared: 0, used: 0, discarded: 0 };

  constructor(
    private readonly docker: Docker,
    private readonly options: WarmOptions,
  ) {}

  /**
   * Make up to `count` containers for runs of `template`, in the background (counting those already
   * held for it). `slotsDir`: a folder of the incident's, where their slots go.
   */
  prepare(template: GuardedContainerTemplate, count: number, slotsDir: string): void {
    if (this.closed || this.options.enabled?.() === false) return;
    const key = keyOf(template);
    const have = this.held.filter((h) => h.key === key).length;
    const room = this.options.max - this.held.length;
    for (let i = 0; i < Math.min(count - have, room); i++) {
      const dir = path.join(slotsDir, randomUUID());
      const entry: Held = {
        key,
        incidentId: template.incidentId ?? '',
        folders: null,
        ready: Promise.resolve(null),
        timer: setTimeout(() => void this.discard(entry), this.options.holdSeconds * 1000),
      };
      entry.timer.unref();
      entry.ready = (async () => {
        entry.folders = await foldersOf(template);
        return await createGuardedSlot(this.docker, template, dir, this.options.holdSeconds);
      })().catch(async (err: unknown) => {
        this.options.log?.(
          `could not make a container ahead (${(err as Error).message.slice(0, 200)}); runs make their own`,
        );
        this.drop(entry);
        await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
        return null;
      });
      this.held.push(entry);
      this.counts.prepared++;
    }
  }

  /** A container made for this template, started and waiting, or null (the run makes its own). */
  async take(template: GuardedContainerTemplate): Promise<GuardedSlot | null> {
    const key = keyOf(template);
    const entry = this.held.find((h) => h.key === key);
    if (!entry) return null;
    this.drop(entry);
    const slot = await entry.ready;
    if (!slot) return null;
    const stale = entry.folders === null || entry.folders !== (await foldersOf(template));
    if (stale || !(await slot.sandbox.running())) {
      await this.removeSlot(slot);
      this.counts.discarded++;
      return null;
    }
    this.counts.used++;
    return slot;
  }

  /** Remove every container held for this incident (it ended, or its step was cancelled). */
  async release(incidentId: string): Promise<void> {
    await Promise.all(this.held.filter((h) => h.incidentId === incidentId).map((h) => this.discard(h)));
  }

  /** Remove everything held and make nothing more (the worker is stopping). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.held].map((h) => this.discard(h)));
  }

  get size(): number {
    return this.held.length;
  }

  private drop(entry: Held): void {
    clearTimeout(entry.timer);
    const i = this.held.indexOf(entry);
    if (i >= 0) this.held.splice(i, 1);
  }

  private async discard(entry: Held): Promise<void> {
    this.drop(entry);
    const slot = await entry.ready;
    if (slot) {
      await this.removeSlot(slot);
      this.counts.discarded++;
    }
  }

  private async removeSlot(slot: GuardedSlot): Promise<void> {
    await slot.sandbox.remove();
    await fs.rm(slot.dir, { recursive: true, force: true }).catch(() => undefined);
  }
}
