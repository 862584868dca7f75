/**
 * Where a traceback frame is in the repository (the classification's and the context engine's
 * question). Production prints the absolute paths of its own deployment (`/srv/app/jobs/../mod.py`):
 * those are matched to a repository file by the longest path suffix, after normalising.
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

/**
 * Map a traceback path onto the repository's file: a library path only as an installed copy of the
 * repository (locateInstalled), any other by longest suffix after normalising (`C:\\app\\mod.py` too).
 */
export function locateInRepo(frameFile: string, repoFiles: string[]): string | null {
  if (/^<.*>$/.test(frameFile)) return null; // <decorator-gen-2>, <string>
  const installed = installedModulePath(frameFile);
  if (installed !== null) return locateInstalled(installed, repoFiles);
  if (isLibraryPath(frameFile)) return null; // the standard library, a frozen module
  const normalized = normalizePath(frameFile);
  let best: string | null = null;
  for (const rel of repoFiles) {
    const relSlash = normalizePath(rel);
    if ((normalized === relSlash || normalized.endsWith(`/${relSlash}`)) && (!best || rel.length > best.length))
      best = rel;
  }
  return best;
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
 * The repository file a frame ran in (symlinks resolved), or null. A frame of an installed copy
 * must also name a function the file defines: a module that only shares the repository's name
 * is not its code.
 */
export async function locateFrame(root: string, frame: TraceFrame, repoFiles: string[]): Promise<string | null> {
  const located = locateInRepo(frame.file, repoFiles);
  if (located === null) return null;
  const rel = await realRepoPath(root, located);
  if (installedModulePath(frame.file) === null) return rel;
  const source = await fs.readFile(path.join(root, rel), 'utf8').catch(() => null);
  return source !== null && definesName(source, frame.func) ? rel : null;
}
