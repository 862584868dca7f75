/**
 * Where an incident's artifact is readable from this machine: the path the worker recorded, or else
 * the same file under this machine's OPSGUARD_ARTIFACTS_DIR — workers of many hosts write into one
 * shared folder (NFS, EFS...), which the command line's host may mount at another path — or else
 * the copy in the artifact store (activities/artifact-store.ts), fetched.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ArtifactStore } from '../worker/settings';

export function readableArtifact(recorded: string, incidentId: string, artifactsDir: string): string | null {
  if (fs.existsSync(recorded)) return recorded;
  const marker = `${path.sep}${incidentId}${path.sep}`;
  const at = recorded.lastIndexOf(marker);
  if (at < 0) return null;
  const here = path.join(artifactsDir, incidentId, recorded.slice(at + marker.length));
  return fs.existsSync(here) ? here : null;
}

/**
 * The incident's artifacts (name -> recorded path) as files readable here: where the worker wrote
 * them, else in this machine's view of the shared folder, else (OPSGUARD_ARTIFACTS_S3 set) fetched
 * from the artifact store into `cacheDir/<incident>/`. `from` says which; `missing` names what none
 * of them holds.
 */
export async function localArtifacts(
  settings: { artifactsDir: string; artifactStore?: ArtifactStore; stateDir: string },
  incidentId: string,
  recorded: Record<string, string>,
): Promise<{ files: Record<string, string>; from: 'worker' | 'store'; missing: string[] }> {
  const here = Object.fromEntries(
    Object.entries(recorded).map(([name, p]) => [name, readableArtifact(p, incidentId, settings.artifactsDir)]),
  );
  const unread = Object.keys(here).filter((name) => !here[name]);
  if (!unread.length || !settings.artifactStore)
    return {
      files: Object.fromEntries(Object.entries(here).map(([n, p]) => [n, p ?? recorded[n] ?? ''])),
      from: 'worker',
      missing: unread,
    };
  const { downloadArtifacts } = await import('../activities/artifact-store');
  const dir = path.join(settings.stateDir, 'artifacts-from-store', incidentId);
  const got = await downloadArtifacts(settings.artifactStore, incidentId, Object.keys(recorded), dir);
  return { files: got.files, from: 'store', missing: got.missing };
}
