/**
 * Where an incident's artifact is readable from this machine: the path the worker recorded, or else
 * the same file under this machine's OPSGUARD_ARTIFACTS_DIR — workers of many hosts write into one
 * shared folder (NFS, EFS...), which the command line's host may mount at another path.
 */
import fs from 'node:fs';
import path from 'node:path';

export function readableArtifact(recorded: string, incidentId: string, artifactsDir: string): string | null {
  if (fs.existsSync(recorded)) return recorded;
  const marker = `${path.sep}${incidentId}${path.sep}`;
  const at = recorded.lastIndexOf(marker);
  if (at < 0) return null;
  const here = path.join(artifactsDir, incidentId, recorded.slice(at + marker.length));
  return fs.existsSync(here) ? here : null;
}
