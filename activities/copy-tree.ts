import fs from 'node:fs/promises';
import path from 'node:path';

/** Folders never copied into a workspace: VCS data, caches, virtualenvs. */
const SKIPPED_DIRS = new Set([
  '.git',
  '__pycache__',
  '.pytest_cache',
  '.mypy_cache',
  '.venv',
  'venv',
  'node_modules',
  '.tox',
]);

export interface CopyReport {
  files: number;
  /** Symlinks not copied because they point outside the tree (or are absolute). */
  skippedSymlinks: string[];
  /** Files and folders the worker may not read: reported, not fatal (the workspace lacks them). */
  unreadable: string[];
}

const isPermissionError = (err: unknown) => ['EACCES', 'EPERM'].includes((err as NodeJS.ErrnoException).code ?? '');

/**
 * Copy a repository tree without ever following a symlink: regular files and folders are copied;
 * a relative symlink whose target stays inside the tree is recreated as a symlink; any other
 * symlink is skipped and reported, so nothing outside the repository leaks into the workspace.
 */
export async function copyTree(src: string, dest: string): Promise<CopyReport> {
  const report: CopyReport = { files: 0, skippedSymlinks: [], unreadable: [] };
  const root = path.resolve(src);
  async function walk(rel: string): Promise<void> {
    await fs.mkdir(path.join(dest, rel), { recursive: true });
    let entries;
    try {
      entries = await fs.readdir(path.join(root, rel), { withFileTypes: true });
    } catch (err) {
      if (!isPermissionError(err) || rel === '') throw err;
      report.unreadable.push(`${rel}/`);
      return;
    }
    for (const entry of entries) {
      const relPath = path.join(rel, entry.name);
      const from = path.join(root, relPath);
      const to = path.join(dest, relPath);
      if (entry.isSymbolicLink()) {
        const target = await fs.readlink(from);
        const resolved = path.resolve(path.dirname(from), target);
        if (!path.isAbsolute(target) && (resolved === root || resolved.startsWith(root + path.sep))) {
          await fs.symlink(target, to);
        } else {
          report.skippedSymlinks.push(relPath);
        }
      } else if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) await walk(relPath);
      } else if (entry.isFile()) {
        try {
          await fs.copyFile(from, to);
        } catch (err) {
          if (!isPermissionError(err)) throw err;
          report.unreadable.push(relPath);
          continue;
        }
        const { mode } = await fs.stat(from);
        await fs.chmod(to, (mode & 0o777) | 0o444); // readable by the sandbox's unprivileged user
        report.files++;
      } // sockets, fifos, devices: never part of a workspace
    }
  }
  await walk('');
  return report;
}

/**
 * Every regular file under `dir`, as sorted relative paths (for frame mapping and test discovery);
 * with `withSymlinks`, symlinks to files too (a traceback may name a file by its link).
 */
export async function listFiles(dir: string, opts: { withSymlinks?: boolean } = {}): Promise<string[]> {
  const out: string[] = [];
  async function walk(rel: string): Promise<void> {
    for (const entry of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
      const relPath = path.join(rel, entry.name);
      if (entry.isDirectory() && !entry.isSymbolicLink()) await walk(relPath);
      else if (entry.isFile()) out.push(relPath);
      else if (opts.withSymlinks && entry.isSymbolicLink()) {
        const st = await fs.stat(path.join(dir, relPath)).catch(() => null);
        if (st?.isFile()) out.push(relPath);
      }
    }
  }
  await walk('');
  return out.sort();
}
