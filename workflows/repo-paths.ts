/**
 * Paths as tracebacks print them, made comparable (pure: shared by the workflow, the gates and the
 * activities). `/srv/app/jobs/../mod.py`, `/srv/app//mod.py`, `C:\srv\app\mod.py` and
 * `/workspace/tests/../mod.py` all name one file; every comparison of locations goes through
 * `normalizePath` first. Symlinks inside the workspace are resolved by the activities (they need the
 * filesystem) before frames reach the gates.
 */
import { isLibraryPath } from './traceback';

/** Where the sandbox mounts the workspace; frames under it are the repository's code. */
export const WORKSPACE_IN_CONTAINER = '/workspace';

/** A code location: repository-relative file and function. */
export interface CodeLocation {
  file: string;
  func: string;
}

/**
 * Forward slashes, no `.` segments, `..` folded into its parent, no repeated slashes; a leading
 * drive letter (`C:`) is kept as the first segment. A `..` above the root is dropped, as the OS does.
 */
export function normalizePath(p: string): string {
  const slashed = p.replaceAll('\\', '/');
  const absolute = slashed.startsWith('/');
  const out: string[] = [];
  for (const part of slashed.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length && out.at(-1) !== '..') out.pop();
      else if (!absolute) out.push('..');
      continue;
    }
    out.push(part);
  }
  return `${absolute ? '/' : ''}${out.join('/')}`;
}

/**
 * The module path of a frame in an installed package: what follows the last `site-packages` or
 * `dist-packages` folder after normalising (`..` folded, an `.egg` folder skipped),
 * `reportkit/render.py`; null for any other path.
 */
export function installedModulePath(file: string): string | null {
  const parts = normalizePath(file).split('/');
  const at = Math.max(parts.lastIndexOf('site-packages'), parts.lastIndexOf('dist-packages'));
  if (at < 0) return null;
  const rest = parts.slice(at + (parts[at + 1]?.endsWith('.egg') ? 2 : 1));
  return rest.length && rest.at(-1)?.endsWith('.py') ? rest.join('/') : null;
}

/** The repository-relative path of a container path under /workspace, or null. */
export function workspaceRelative(file: string): string | null {
  const p = normalizePath(file);
  const prefix = `${WORKSPACE_IN_CONTAINER}/`;
  if (!p.startsWith(prefix) || isLibraryPath(p)) return null;
  return p.slice(prefix.length);
}

/** Comprehensions Python 3.12 runs inline (PEP 709); before 3.12 each was a frame of its own. */
const INLINED_COMPREHENSION = /^<(?:listcomp|dictcomp|setcomp)>$/;

/**
 * The function frame `i` runs in, as every Python version names it: a list, dict or set
 * comprehension's own frame (Python 3.11 and before) is its caller's function, the enclosing one, as
 * Python 3.12 and later print it. So an incident from production on 3.12 and a reproduction on 3.11
 * (or the reverse) name the same place. A generator expression is a frame in every version: kept.
 */
export function functionOfFrame(frames: { file: string; func: string }[], i: number): string {
  let j = i;
  while (j > 0 && INLINED_COMPREHENSION.test(frames[j]?.func ?? '')) {
    const caller = frames[j - 1] as { file: string; func: string };
    if (normalizePath(caller.file) !== normalizePath((frames[j] as { file: string }).file)) break;
    j--;
  }
  return (frames[j] as { func: string }).func;
}

/** The workspace frames of a stack, outermost first, as repository locations: the innermost `max`. */
export function repoStack(frames: { file: string; func: string }[], max = 10): CodeLocation[] {
  const out: CodeLocation[] = [];
  frames.forEach((f, i) => {
    const rel = workspaceRelative(f.file);
    if (rel !== null) out.push({ file: rel, func: functionOfFrame(frames, i) });
  });
  return out.slice(-max);
}

/** The innermost frame inside the workspace (not its site-packages), as a repository location. */
export function innermostRepoFrame(frames: { file: string; func: string }[]): CodeLocation | null {
  return repoStack(frames, 1)[0] ?? null;
}

export function sameLocation(a: CodeLocation | null | undefined, b: CodeLocation | null | undefined): boolean {
  return !!a && !!b && normalizePath(a.file) === normalizePath(b.file) && a.func === b.func;
}

export const describeLocation = (loc: CodeLocation | null | undefined): string =>
  loc ? `${loc.file}:${loc.func}` : 'the reproduction script itself';
