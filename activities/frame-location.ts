/**
 * Where a traceback frame is in the repository (the classification's and the context engine's
 * question). Production prints the absolute paths of its own deployment (`/srv/app/jobs/../mod.py`):
 * those are matched to a repository file by the longest path suffix, after normalising; a deployment
 * that moved the tree (`COPY src/ /app/`) by the one file sharing the most trailing segments, whose
 * function must be defined there.
 *
 * A frame in site-packages or dist-packages is a library's, except when the library is the
 * repository itself, installed: a user's traceback of a released version
 * (`/home/u/.local/lib/python3.11/site-packages/reportkit/render.py`), or a service that
 * `pip install .`-ed itself into its image. The path below site-packages is then a module path
 * (`reportkit/render.py`), and it is the repository's file only when the repository has that module
 * under one of its import roots (the root, `src/`, `lib/`; not inside another package, not in a
 * vendored or virtual-env folder) and the frame's function is defined in it. A third-party frame
 * (`requests/models.py`, `six.py`) stays a library's unless the repository is that library.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { isLibraryPath } from '../workflows/traceback';
import type { TraceFrame } from '../workflows/traceback';
import { installedModulePath, normalizePath } from '../workflows/repo-paths';
import { definitionAt } from './context/code-syntax';
import { pythonSyntax } from './context/python-syntax';

/** Folders a repository's top-level packages are installed from, in the order they are preferred. */
export const IMPORT_ROOTS = ['', 'src', 'lib'];

/**
 * A file list's paths normalised and split, once per list: an incident locates every frame in one
 * list, which nobody changes after it is made (keyed by the array itself).
 */
interface FileIndex {
  byPath: Map<string, string>;
  parts: string[][];
}
const indexes = new WeakMap<string[], FileIndex>();
function indexOf(repoFiles: string[]): FileIndex {
  let index = indexes.get(repoFiles);
  if (!index) {
    const normalized = repoFiles.map(normalizePath);
    index = {
      byPath: new Map(normalized.map((n, i) => [n, repoFiles[i] as string])),
      parts: normalized.map((n) => n.split('/')),
    };
    indexes.set(repoFiles, index);
  }
  return index;
}

/** The repository file an installed module path is, or null (see the module comment). */
export function locateInstalled(modulePath: string, repoFiles: string[]): string | null {
  const { byPath } = indexOf(repoFiles);
  for (const root of IMPORT_ROOTS) {
    const rel = root ? `${root}/${modulePath}` : modulePath;
    if (byPath.has(rel) && !(root && byPath.has(`${root}/__init__.py`))) return byPath.get(rel) as string;
  }
  return null;
}

/** How a frame's path was matched to a repository file (see the module comment). */
export interface FrameMatch {
  rel: string;
  how: 'path' | 'installed' | 'relocated';
  /** Trailing path segments the frame's path and the file share (relocated matches). */
  segments?: number;
}

/**
 * Map a traceback path onto the repository's file: a library path only as an installed copy of the
 * repository (locateInstalled); any other by the longest repository path it ends with, after
 * normalising (`C:\\app\\mod.py` too); failing that, relocated: the one file sharing the most
 * trailing segments with it (a Dockerfile's `COPY src/ /app/` runs `src/service/handlers.py` as
 * `/app/service/handlers.py`), none when two files share as many.
 */
export function matchFrame(frameFile: string, repoFiles: string[]): FrameMatch | null {
  if (/^<.*>$/.test(frameFile)) return null; // <decorator-gen-2>, <string>
  const installed = installedModulePath(frameFile);
  if (installed !== null) {
    const rel = locateInstalled(installed, repoFiles);
    return rel === null ? null : { rel, how: 'installed' };
  }
  if (isLibraryPath(frameFile)) return null; // the standard library, a frozen module
  const { parts } = indexOf(repoFiles);
  const segments = normalizePath(frameFile).split('/');
  // Trailing segments shared with each file; a file whose every segment is shared is a suffix.
  let best = -1;
  let relocated = -1;
  let shared = 0;
  let tied = false;
  parts.forEach((p, i) => {
    let k = 0;
    while (k < p.length && k < segments.length && p[p.length - 1 - k] === segments[segments.length - 1 - k]) k++;
    if (k === p.length && (best < 0 || (repoFiles[i] as string).length > (repoFiles[best] as string).length)) best = i;
    if (k > shared) [relocated, shared, tied] = [i, k, false];
    else if (k === shared && k > 0) tied = true;
  });
  if (best >= 0) return { rel: repoFiles[best] as string, how: 'path' };
  return relocated >= 0 && !tied ? { rel: repoFiles[relocated] as string, how: 'relocated', segments: shared } : null;
}

/** A relocated match by file name alone is taken only for a named function the file defines. */
const relocatedEnough = (m: FrameMatch, func?: string) =>
  (m.segments ?? 0) >= 2 || (func !== undefined && !/^<.*>$/.test(func));

/** The repository file a traceback path is, or null (matchFrame; no file read: the context engine's use). */
export function locateInRepo(frameFile: string, repoFiles: string[]): string | null {
  const m = matchFrame(frameFile, repoFiles);
  return m && (m.how !== 'relocated' || relocatedEnough(m)) ? m.rel : null;
}

/** Whether Python source defines `func` (a def or a class body), or `func` is no name at all (`<module>`). */
export function definesName(source: string, func: string): boolean {
  if (/^<.*>$/.test(func)) return true;
  if (!/^[A-Za-z_]\w*$/.test(func)) return false;
  return new RegExp(`^[ \\t]*(?:async[ \\t]+def|def|class)[ \\t]+${func}\\b`, 'm').test(source);
}

/**
 * The function a line of a repository file is in, as a traceback names it (`bucketsort`, a method's
 * own name, `<module>` for top-level code): for a frame the log printed without one (pytest's
 * --tb=line). Null when the file cannot be read or parsed.
 */
export async function functionAtLine(root: string, rel: string, line: number): Promise<string | null> {
  const source = await fs.readFile(path.join(root, rel), 'utf8').catch(() => null);
  if (source === null || !rel.endsWith('.py')) return null;
  const found = definitionAt((await pythonSyntax()).parse(source), line);
  if (!found) return null;
  return found.kind === 'module' ? '<module>' : found.name;
}

/** The file a repository path really is: symlinks inside the repository resolved (relative path). */
export async function realRepoPath(root: string, rel: string): Promise<string> {
  const realRoot = await fs.realpath(root);
  const real = await fs.realpath(path.join(root, rel)).catch(() => null);
  return real && real.startsWith(realRoot + path.sep) ? path.relative(realRoot, real).split(path.sep).join('/') : rel;
}

/**
 * The repository file a frame ran in (symlinks resolved), or null. A frame of an installed copy or
 * a relocated one must also name a function the file defines: a module that only shares a name with
 * the repository's is not its code.
 */
export async function locateFrame(root: string, frame: TraceFrame, repoFiles: string[]): Promise<string | null> {
  const m = matchFrame(frame.file, repoFiles);
  if (m === null || (m.how === 'relocated' && !relocatedEnough(m, frame.func))) return null;
  const rel = await realRepoPath(root, m.rel);
  if (m.how === 'path') return rel;
  const source = await fs.readFile(path.join(root, rel), 'utf8').catch(() => null);
  return source !== null && definesName(source, frame.func) ? rel : null;
}
