import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { boundedMap, FILE_CONCURRENCY } from './bounded-map';

/** Folders never copied into a workspace: VCS data, caches, virtualenvs. */
export const SKIPPED_DIRS = new Set([
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
 *
 * With `hardLinks`, files are hard links to the source's instead of copies (falling back to a copy
 * where the file system refuses one). Only for a tree OpsGuard made itself and never writes into:
 * the workspace made from the baseline, since every write to a workspace replaces a file whole
 * (writeFileAtomic renames over it, leaving the baseline's inode alone) and containers mount it
 * read-only. A 100,000-file repository is then copied once, not three times.
 *
 * The tree is listed first, then its files copied FILE_CONCURRENCY at a time.
 */
export async function copyTree(
  src: string,
  dest: string,
  opts: {
    hardLinks?: boolean;
    readOnly?: boolean;
    /**
     * A file known to hold the same bytes and mode as the source's (from an earlier read-only copy
     * of it): hard-linked instead of copied, and its path passed to `reused`. Null: copy it.
     */
    sameAs?: (rel: string) => string | null;
    reused?: (rel: string) => void;
  } = {},
): Promise<CopyReport> {
  const report: CopyReport = { files: 0, skippedSymlinks: [], unreadable: [] };
  const root = path.resolve(src);
  const dirs: string[] = [''];
  const files: string[] = [];
  const links: { rel: string; target: string }[] = [];
  async function walk(rel: string): Promise<void> {
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
      if (entry.isSymbolicLink()) {
        const target = await fs.readlink(from);
        const resolved = path.resolve(path.dirname(from), target);
        if (!path.isAbsolute(target) && (resolved === root || resolved.startsWith(root + path.sep))) {
          links.push({ rel: relPath, target });
        } else {
          report.skippedSymlinks.push(relPath);
        }
      } else if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) {
          dirs.push(relPath);
          await walk(relPath);
        }
      } else if (entry.isFile()) {
        files.push(relPath);
      } // sockets, fifos, devices: never part of a workspace
    }
  }
  await walk('');
  // Parents come before their children in `dirs` (listed depth-first, pre-order).
  for (const rel of dirs) await fs.mkdir(path.join(dest, rel), { recursive: true });
  const copied = await boundedMap(files, FILE_CONCURRENCY, async (rel) => {
    const from = path.join(root, rel);
    const to = path.join(dest, rel);
    const same = opts.sameAs?.(rel);
    if (
      same &&
      (await fs.link(same, to).then(
        () => true,
        () => false,
      ))
    ) {
      opts.reused?.(rel);
      return true;
    }
    if (opts.hardLinks) {
      const linked = await fs.link(from, to).then(
        () => true,
        () => false,
      );
      if (linked) return true;
    }
    try {
      await fs.copyFile(from, to); // the file's mode comes with it
    } catch (err) {
      if (!isPermissionError(err)) throw err;
      report.unreadable.push(rel);
      return false;
    }
    const { mode } = await fs.stat(to);
    // Readable by the sandbox's unprivileged user; with readOnly, writable by nobody (a shared baseline).
    const wanted = ((mode & 0o777) | 0o444) & (opts.readOnly ? ~0o222 : 0o777);
    if (wanted !== (mode & 0o777)) await fs.chmod(to, wanted);
    return true;
  });
  report.files = copied.filter(Boolean).length;
  for (const l of links) await fs.symlink(l.target, path.join(dest, l.rel));
  report.unreadable.sort();
  return report;
}

const run = promisify(execFile);

/**
 * `dest` made as a tree of hard links to `src`'s files: for trees OpsGuard made itself and never
 * writes into (a baseline), whose every entry is to be kept (copyTree already filtered it). GNU
 * `cp -al` does it in one process, three times faster than a link() per file from Node (50,000
 * files: 0.5 s against 1.7 s here), split over a few processes by top-level entry. Where cp is not
 * GNU's or a link is refused (another file system, too many links), copyTree's hard links with a
 * copy per refused file do it instead. `dest` must not exist; it is whole when this returns.
 */
export async function linkTree(src: string, dest: string): Promise<void> {
  await fs.mkdir(dest);
  const entries = (await fs.readdir(src)).map((name) => path.join(src, name));
  const lanes = entries.length > 256 ? [[`${src}/.`]] : spread(entries, 4);
  try {
    await Promise.all(lanes.map((lane) => run('cp', ['-al', '--', ...lane, `${dest}/`], { maxBuffer: 1 << 20 })));
  } catch {
    await fs.rm(dest, { recursive: true, force: true });
    await copyTree(src, dest, { hardLinks: true });
  }
}

/** `items` dealt into at most `n` non-empty lanes. */
function spread<T>(items: T[], n: number): T[][] {
  const lanes: T[][] = Array.from({ length: Math.min(n, items.length) }, () => []);
  items.forEach((item, i) => lanes[i % lanes.length]?.push(item));
  return lanes;
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
