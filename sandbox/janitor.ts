import type Docker from 'dockerode';
import { DEADLINE_LABEL, SANDBOX_LABEL } from './labels';

/**
 * Remove OpsGuard containers left behind by a crashed worker. Every sandbox container carries its
 * deadline (plus grace) as a label; once that has passed, no live run can own it — its own timer
 * would have killed it — so removing it is safe even with several workers on one engine.
 */
export async function removeLeftoverContainers(docker: Docker, nowMs = Date.now()): Promise<string[]> {
  const listed = await docker.listContainers({ all: true, filters: { label: [`${SANDBOX_LABEL}=1`] } });
  const removed: string[] = [];
  for (const c of listed) {
    const deadline = Number(c.Labels[DEADLINE_LABEL] ?? c.Created + 2 * 3600);
    if (deadline * 1000 > nowMs) continue;
    await docker
      .getContainer(c.Id)
      .remove({ force: true, v: true })
      .then(() => removed.push(c.Id))
      .catch(() => undefined); // removed concurrently: nothing to do
  }
  return removed;
}
