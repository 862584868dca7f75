/**
 * Which host holds an incident's workspace, and whether a rebuilt workspace is the same tree.
 *
 * An incident's workspace (baseline + workspace folders, the secret map, the code index) lives on
 * the disk of the worker that ran setupWorkspace. Each worker polls a queue of its own beside the
 * shared ones (`<queue>-host-<worker id>`, worker/create-worker.ts); setupWorkspace returns it, and
 * every later step of the incident goes there (workflows/host-pinning.ts). When that worker stops
 * taking work, the incident moves: another worker runs setupWorkspace again in adopt mode, which
 * rebuilds the workspace from the repository and refuses when the repository is no longer the tree
 * the incident was proven on (the digest below).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { boundedMap, FILE_CONCURRENCY } from './bounded-map';
import type { IncidentHost } from '../workflows/incident-types';

/** The worker's own queue name: the incident's queue, then the worker's id. */
export function hostTaskQueue(taskQueue: string, workerId: string): string {
  return `${taskQueue}-host-${workerId}`;
}

/** What a worker says of itself when it takes an incident (null: it takes no container work now). */
export type HostOf = () => IncidentHost | null;

/**
 * A digest of a tree's content: every file's path, size and sha256, in path order. Two workspaces
 * with the same digest hold the same bytes under the same names; a rebuilt one with another digest
 * means the repository changed since the incident started.
 */
export async function treeDigest(root: string, files: string[]): Promise<string> {
  const hashes = await boundedMap(files, FILE_CONCURRENCY, async (rel) => {
    const bytes = await fs.readFile(path.join(root, rel)).catch(() => null);
    return bytes === null
      ? `${rel}\0unreadable`
      : `${rel}\0${bytes.length}\0${createHash('sha256').update(bytes).digest('hex')}`;
  });
  const all = createHash('sha256');
  for (const line of hashes) all.update(`${line}\n`);
  return all.digest('hex');
}
