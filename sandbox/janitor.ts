import type Docker from 'dockerode';
import { ownerIsGone } from './container-owner';
import { DEADLINE_LABEL, OWNER_LABEL, SANDBOX_LABEL } from './labels';

/**
 * How often a running worker sweeps (besides at its start): a worker that died beside it leaves its
 * containers (running or exited) on the engine for at most this long.
 */
export const JANITOR_SWEEP_SECONDS = 15;

/**
 * Remove OpsGuard containers left behind by a crashed worker: those whose owner (a worker process of
 * this host, container-owner.ts) has ended, and any past its deadline (plus grace) — once that has
 * passed no live run can own it, its own timer would have killed it. A live worker's container, on
 * this host or another, is never removed before its deadline, so several workers can share an engine.
 */
export async function removeLeftoverContainers(
  docker: Docker,
  nowMs = Date.now(),
): Promise<{ id: string; why: 'owner gone' | 'past its deadline' }[]> {
  const listed = await docker.listContainers({ all: true, filters: { label: [`${SANDBOX_LABEL}=1`] } });
  const removed: { id: string; why: 'owner gone' | 'past its deadline' }[] = [];
  for (const c of listed) {
    const deadline = Number(c.Labels[DEADLINE_LABEL] ?? c.Created + 2 * 3600);
    const why = ownerIsGone(c.Labels[OWNER_LABEL])
      ? 'owner gone'
      : deadline * 1000 <= nowMs
        ? 'past its deadline'
        : null;
    if (!why) continue;
    await docker
      .getContainer(c.Id)
      .remove({ force: true, v: true })
      .then(() => removed.push({ id: c.Id, why }))
      .catch(() => undefined); // removed concurrently: nothing to do
  }
  return removed;
}
