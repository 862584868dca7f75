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
import { installedModulePath, isLibraryPath } from '../workflows/traceback';
import type { TraceFrame } from '../workflows/traceback';
import { normalizePath } from '../workflows/repo-paths';

/** Folders a repository's top-level packages are installed from, in the order they are preferred. */
export const IMPORT_ROOTS = ['', 'src', 'lib'];

/** The repository file an installed module path is, or null (see the module comment). */
export function locateInstalled(modulePath: string, repoFiles: string[]): string | null {
  const files = new Set(repoFiles.map(normalizePath));
  for (const root of IMPORT_ROOTS) {
    const rel = root ? `${root}/${modulePath}` : modulePath;
    if (files.has(rel) && !(root && files.has(`${root}/__init__.py`))) {
      return repoFiles.find((f) => normalizePath(f) === rel) ?? rel;
    }
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
  const normalized = normalizePath(frameFile);
  let best: string | null = null;
  for (const rel of repoFiles) {
    const relSlash = normalizePath(rel);
    if ((normalized === relSlash || normalized.endsWith(`/${relSlash}`)) && (!best || rel.length > best.length))
      best = rel;
  }
  if (best !== null) return { rel: best, how: 'path' };
  const segments = normalized.split('/');
  let relocated: string | null = null;
  let shared = 0;
  let tied = false;
  for (const rel of repoFiles) {
    const parts = normalizePath(rel).split('/');
    let k = 0;
    while (k < parts.length && k < segments.length && parts[parts.length - 1 - k] === segments[segments.length - 1 - k])
      k++;
    if (k > shared) [relocated, shared, tied] = [rel, k, false];
    else if (k === shared && k > 0) tied = true;
  }
  return relocated !== null && !tied ? { rel: relocated, how: 'relocated', segments: shared } : null;
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
