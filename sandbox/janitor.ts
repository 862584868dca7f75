import type Docker from 'dockerode';
import { SANDBOX_LABEL } from './labels';

/**
 * Remove OpsGuard containers left behind by a crashed worker. Every sandbox container is labelled;
 * those older than `olderThanMs` cannot belong to a run still in progress on a sane deadline.
 */
export async function removeLeftoverContainers(docker: Docker, olderThanMs: number): Promise<string[]> {
  const listed = await docker.listContainers({ all: true, filters: { label: [`${SANDBOX_LABEL}=1`] } });
  const cutoffSeconds = (Date.now() - olderThanMs) / 1000;
  const removed: string[] = [];
  for (const c of listed) {
    if (c.Created > cutoffSeconds) continue;
    await docker
      .getContainer(c.Id)
      .remove({ force: true, v: true })
      .then(() => removed.push(c.Id))
      .catch(() => undefined); // removed concurrently: nothing to do
  }
  return removed;
}
