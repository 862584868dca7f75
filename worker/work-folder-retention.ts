/**
 * Work folders of closed incidents: removed once they have been closed for the retention.
 *
 * An incident's work folder is scratch (activities/incident-paths.ts: the artifacts folder holds the
 * evidence): the workspace's link entries, the run slots, the context the model saw. It is a few
 * MiB per incident (bench/workspace-scale.ts), which at 1,000 incidents an hour is gigabytes a day
 * on each worker's disk. So each worker sweeps its own work folder (OPSGUARD_WORK_DIR) every
 * `sweepEveryMs(retention)` and removes the folders of incidents Temporal reports closed (completed,
 * failed, cancelled, terminated, timed out) for longer than OPSGUARD_WORK_RETENTION_HOURS (0: kept
 * for ever). Then the shared baselines no incident links to any more go too (shared-baseline.ts).
 *
 * Which incident a folder is of: its owner file (`owner.json`, written by setupWorkspace: the
 * workflow id and namespace; the folder's name is the incident id, which need not be the workflow
 * id). What is never removed: the folder of an incident Temporal reports running, however old (one
 * may await approval for days); one without an owner file or of another namespace; one Temporal does
 * not know (closed longer ago than the namespace keeps histories: remove those by hand); one that
 * cannot be asked about now (Temporal away). A folder is renamed away before it is removed, so a
 * half-removed folder is never taken for a whole one; the renamed leftovers of a crash go at the
 * next sweep.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { OWNER_FILE } from '../activities/incident-paths';
import type { FolderOwner } from '../activities/incident-paths';
import { BASELINES_DIR, collectBaselines } from '../activities/shared-baseline';

const TRASH_PREFIX = '.trash-';

/** What Temporal says of an incident: closed (and when), running, or nothing it can say now. */
export type IncidentState = { closedAtMs: number } | 'running' | 'unknown';

/** Sweep at a quarter of the retention, at least every 10 minutes and at most every second. */
export function sweepEveryMs(retentionHours: number): number {
  return Math.min(10 * 60_000, Math.max(1000, (retentionHours * 3_600_000) / 4));
}

/**
 * An incident folder's state from Temporal: the workflow named in its owner file (setupWorkspace
 * writes it), in this worker's namespace. A folder without one, or of another namespace, is unknown.
 */
export function temporalFolderState(
  client: () => Promise<Client>,
  namespace: string,
): (folder: string) => Promise<IncidentState> {
  return async (folder) => {
    const owner = await fs
      .readFile(path.join(folder, OWNER_FILE), 'utf8')
      .then((text) => JSON.parse(text) as Partial<FolderOwner>)
      .catch(() => null);
    if (typeof owner?.workflowId !== 'string' || owner.namespace !== namespace) return 'unknown';
    try {
      const d = await (await client()).workflow.getHandle(owner.workflowId).describe();
      if (d.status.name === 'RUNNING') return 'running';
      return d.closeTime ? { closedAtMs: d.closeTime.getTime() } : 'unknown';
    } catch {
      return 'unknown'; // not found (another namespace, or past its retention), or Temporal away
    }
  };
}

/**
 * Remove the work folders whose incident has been closed for longer than `retentionMs`. Returns the
 * incidents whose folders were removed, and how many of those asked about Temporal could not place.
 */
export async function removeClosedIncidentFolders(
  workDir: string,
  retentionMs: number,
  stateOf: (folder: string) => Promise<IncidentState>,
  now = Date.now(),
): Promise<{ removed: string[]; unknown: number }> {
  const names = await fs.readdir(workDir).catch(() => [] as string[]);
  const removed: string[] = [];
  let unknown = 0;
  for (const name of names) {
    if (name.startsWith(TRASH_PREFIX)) {
      await fs.rm(path.join(workDir, name), { recursive: true, force: true }).catch(() => undefined);
      continue;
    }
    if (name === BASELINES_DIR || name.startsWith('.')) continue;
    const st = await fs.lstat(path.join(workDir, name)).catch(() => null);
    if (!st?.isDirectory()) continue;
    // Nothing writes a folder after its incident closed: one changed within the retention cannot
    // have been closed for longer, so Temporal is asked only about the older ones.
    if (now - st.mtimeMs < retentionMs) continue;
    const state = await stateOf(path.join(workDir, name));
    if (state === 'unknown') unknown++;
    if (typeof state !== 'object' || now - state.closedAtMs < retentionMs) continue;
    const trash = path.join(workDir, `${TRASH_PREFIX}${name}-${randomBytes(4).toString('hex')}`);
    const renamed = await fs.rename(path.join(workDir, name), trash).then(
      () => true,
      () => false,
    );
    if (!renamed) continue;
    removed.push(name);
    await fs.rm(trash, { recursive: true, force: true }).catch(() => undefined); // the next sweep retries
  }
  if (removed.length) await collectBaselines(workDir).catch(() => undefined);
  return { removed, unknown };
}
