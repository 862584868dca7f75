/**
 * The incident fingerprint (pure): the same repository, error type and innermost application frame
 * give the same fingerprint, so the same incident reported twice maps to one workflow id
 * (`incident-<fingerprint>`). 64-bit FNV-1a, so it runs inside the workflow sandbox as well.
 */
import { installedModulePath } from './repo-paths';
import { isLibraryPath, parseTraceback, shortTypeName } from './traceback';

function fnv1a64(text: string): string {
  let hash = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash.toString(16).padStart(16, '0');
}

/** What the fingerprint is made of, readable (for the docs and the proof record). */
export function fingerprintKey(repoPath: string, errorLog: string): string {
  const tb = parseTraceback(errorLog);
  const type = tb?.exceptionType ? shortTypeName(tb.exceptionType) : 'no-traceback';
  const frames = tb?.frames ?? [];
  const at = frames.findLastIndex((f) => !isLibraryPath(f.file));
  const frame = frames[at];
  // The last two path components: stable across deployments (/srv/app/x.py vs /opt/x/app/x.py).
  const parts = frame ? [`${frame.file.split(/[\\/]/).slice(-2).join('/')}:${frame.func}`] : [];
  // And the innermost installed package below it, by module path: a user's report of a released
  // version of the repository has only installed frames (and a console script), and two bugs in it
  // are two incidents, not one.
  const installed = frames
    .slice(at + 1)
    .map((f) => ({ func: f.func, module: installedModulePath(f.file) }))
    .filter((x) => x.module)
    .at(-1);
  if (installed) parts.push(`${installed.module}:${installed.func}`);
  const where = parts.length ? parts.join('>') : 'no-frame';
  return `${repoPath.replace(/\/+$/, '')}|${type}|${where}`;
}

export function incidentFingerprint(repoPath: string, errorLog: string): string {
  return fnv1a64(fingerprintKey(repoPath, errorLog));
}

export function incidentWorkflowId(repoPath: string, errorLog: string): string {
  return `incident-${incidentFingerprint(repoPath, errorLog)}`;
}
