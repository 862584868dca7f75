/**
 * One pristine copy of a repository per content, shared read-only by the incidents on it.
 *
 * An incident needs a tree that is the repository as it was when the incident started (the diff
 * base and the restore source: its baseline) and a tree it may change (its workspace). Copying
 * the repository for each incident costs a full copy in time and disk. Instead:
 *
 * - The repository is told by its metadata (tree-state.ts: one find(1) walk, no file read). The
 *   first incident on a tree copies it once into `<workDir>/.baselines/<key>/tree`, its files made
 *   read-only; every later incident on the same tree finds it there and copies nothing.
 * - An incident's `baseline` is a relative symlink to that tree; its `workspace` is hard links to
 *   the tree's files (copy-tree.ts linkTree), so its cost is one directory entry per file, and
 *   disk for data only for the files a fix changes.
 * - Copy-on-write by replacement: the patch engine never writes a file in place, it writes a new
 *   file and renames it over the link (incident-paths.ts writeFileAtomic), leaving the shared inode
 *   alone; containers mount the workspace and the baseline read-only; the tree's files have no
 *   write permission, so an in-place write by the worker's own user fails instead of reaching every
 *   incident (a worker running as root is not stopped by that: the other two rules still hold).
 * - The original is only read. An edit to it after an incident started changes its tree state, so
 *   the next incident gets a new baseline and a running one keeps its own.
 * - What is read from the tree once, not per incident: its file list, the secret scan (keyed also
 *   by the scanner's own source, so a changed scanner scans again), the content digest a moving
 *   incident is checked with, and the names of the classes it defines.
 *
 * Why not the alternatives: reflinks (FICLONE) need btrfs/XFS and these machines are ext4; an
 * overlay mount needs privileges the worker does not have, and an overlay whose upper folder is
 * written while mounted (the patch engine writing while a warm container holds it) is undefined;
 * hard links to the original itself would let a later edit of the original reach the incident.
 *
 * A tree that cannot be told whole (an unreadable folder, no find(1)), that changed within two
 * seconds of the walk, or that changed while it was being copied is copied for that incident alone
 * (`private-…` key), as before: sharing is an optimisation, never a weaker copy.
 *
 * Garbage: a baseline no incident folder links to and unused for UNUSED_BASELINE_MS is removed by
 * the next incident's setup (renamed away first, so a half-removed tree is never taken).
 */
import { randomBytes, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { copyTree, listFiles } from './copy-tree';
import type { CopyReport } from './copy-tree';
import { treeDigest } from './incident-host';
import { loadSecretMap, saveSecretMap, scanRepository } from './repo-secrets';
import type { SecretMap } from './repo-secrets';
import { treeState } from './tree-state';
import type { TreeState } from './tree-state';
import { writeFileAtomic } from './incident-paths';

export const BASELINES_DIR = '.baselines';
/** How long a baseline no incident links to is kept for the next incident on the same tree. */
export const UNUSED_BASELINE_MS = 60 * 60 * 1000;

export interface Baseline {
  /** The tree (read-only). */
  tree: string;
  key: string;
  /** Other incidents on the same tree share it. */
  shared: boolean;
  /** Made by an earlier incident: nothing was copied now. */
  reused: boolean;
  /** Why it is not shared (a private copy), when it is not. */
  why?: string;
  report: CopyReport;
  /** Regular files and links to files, sorted relative paths (listFiles withSymlinks). */
  files: string[];
}

interface BaselineMeta {
  key: string;
  repoPath: string;
  createdAt: string;
  shared: boolean;
  why?: string;
  report: CopyReport;
  bytes: number;
}

/**
 * The baseline for the repository at `repoReal` (its real path) whose state was just read: an
 * existing one for the same tree, or a new copy. Nothing is written outside `workDir/.baselines`.
 */
export async function takeBaseline(workDir: string, repoReal: string, state: TreeState): Promise<Baseline> {
  const root = path.join(workDir, BASELINES_DIR);
  await fs.mkdir(root, { recursive: true });
  const unshared = !state.signature ? state.why : state.racy ? 'the repository changed in the last seconds' : null;
  const key = unshared
    ? `private-${randomBytes(8).toString('hex')}`
    : createHash('sha256').update(`${repoReal}\0${state.signature}`).digest('hex').slice(0, 32);
  const dir = path.join(root, key);
  const known = await readMeta(dir);
  if (known) {
    await touch(dir);
    return { ...(await opened(dir, known)), reused: true };
  }

  const staging = path.join(root, `.staging-${key}-${randomBytes(4).toString('hex')}`);
  try {
    const report = await copyTree(repoReal, path.join(staging, 'tree'), { readOnly: true });
    let why = unshared ?? undefined;
    if (!why) {
      // Changed while it was copied: the copy may hold some of both; this incident keeps it alone.
      const after = await treeState(repoReal);
      if (after.signature !== state.signature) why = 'the repository changed while it was copied';
    }
    const finalKey = why && !unshared ? `private-${randomBytes(8).toString('hex')}` : key;
    const meta: BaselineMeta = {
      key: finalKey,
      repoPath: repoReal,
      createdAt: new Date().toISOString(),
      shared: !why,
      ...(why ? { why } : {}),
      report,
      bytes: state.bytes,
    };
    const files = await listFiles(path.join(staging, 'tree'), { withSymlinks: true });
    await fs.writeFile(path.join(staging, 'files.json'), JSON.stringify(files));
    await fs.writeFile(path.join(staging, 'meta.json'), JSON.stringify(meta, null, 2));
    const finalDir = path.join(root, finalKey);
    const won = await fs.rename(staging, finalDir).then(
      () => true,
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOTEMPTY' || err.code === 'EEXIST') return false; // another incident made it first
        throw err;
      },
    );
    if (!won) await removeTree(staging);
    const taken = won ? meta : await readMeta(finalDir);
    if (!taken) throw new Error(`the baseline ${finalDir} is incomplete`);
    await touch(finalDir);
    return { ...(await opened(finalDir, taken)), reused: !won };
  } catch (err) {
    await removeTree(staging);
    throw err;
  }
}

async function opened(dir: string, meta: BaselineMeta): Promise<Omit<Baseline, 'reused'>> {
  const files = JSON.parse(await fs.readFile(path.join(dir, 'files.json'), 'utf8')) as string[];
  return {
    tree: path.join(dir, 'tree'),
    key: meta.key,
    shared: meta.shared,
    ...(meta.why ? { why: meta.why } : {}),
    report: meta.report,
    files,
  };
}

async function readMeta(dir: string): Promise<BaselineMeta | null> {
  const text = await fs.readFile(path.join(dir, 'meta.json'), 'utf8').catch(() => null);
  return text ? (JSON.parse(text) as BaselineMeta) : null;
}

/** Last use, for the garbage rule: the folder's own times. */
async function touch(dir: string): Promise<void> {
  const now = new Date();
  await fs.utimes(dir, now, now).catch(() => undefined);
}

/** The baseline folder a tree path belongs to (`<dir>/tree` → `<dir>`). */
const folderOf = (tree: string) => path.dirname(tree);

/** The scanner's own source: a cached scan from another scanner is not used. */
let scannerVersion: string | undefined;
function scanner(): string {
  if (!scannerVersion) {
    try {
      const here = path.dirname(fileURLToPath(import.meta.url));
      scannerVersion = createHash('sha256')
        .update(readFileSync(path.join(here, 'repo-secrets.ts')))
        .update(readFileSync(path.join(here, 'redact-secrets.ts')))
        .digest('hex')
        .slice(0, 16);
    } catch {
      scannerVersion = `process-${randomBytes(8).toString('hex')}`; // not cached past this process
    }
  }
  return scannerVersion;
}

/** The secret scan of a baseline's tree, made once per tree and scanner (a 0600 file beside it). */
export async function baselineSecrets(baseline: Pick<Baseline, 'tree' | 'files'>): Promise<SecretMap> {
  const file = path.join(folderOf(baseline.tree), `secret-scan-${scanner()}.json`);
  const cached = await fs
    .access(file)
    .then(() => true)
    .catch(() => false);
  if (cached) return await loadSecretMap(file);
  const map = await scanRepository(baseline.tree, baseline.files);
  await saveSecretMap(file, map);
  return map;
}

/** The content digest of a baseline's tree (incident-host.ts treeDigest), made once per tree. */
export async function baselineDigest(baseline: Pick<Baseline, 'tree' | 'files'>): Promise<string> {
  const file = path.join(folderOf(baseline.tree), 'digest.json');
  const cached = await fs.readFile(file, 'utf8').catch(() => null);
  if (cached) return (JSON.parse(cached) as { digest: string }).digest;
  const digest = await treeDigest(baseline.tree, baseline.files);
  await writeFileAtomic(file, JSON.stringify({ digest }));
  return digest;
}

/** Names of the classes the tree's Python files define (`class Name`), made once per tree. */
export async function baselineClasses(baseline: Pick<Baseline, 'tree' | 'files'>): Promise<Set<string>> {
  const file = path.join(folderOf(baseline.tree), 'classes.json');
  const cached = await fs.readFile(file, 'utf8').catch(() => null);
  if (cached) return new Set(JSON.parse(cached) as string[]);
  const names = new Set<string>();
  for (const rel of baseline.files.filter((f) => f.endsWith('.py'))) {
    const text = await fs.readFile(path.join(baseline.tree, rel), 'utf8').catch(() => '');
    for (const m of text.matchAll(/^\s*class\s+([A-Za-z_]\w*)/gm)) names.add(m[1] as string);
  }
  await writeFileAtomic(file, JSON.stringify([...names].sort()));
  return names;
}

/**
 * Remove the baselines no incident folder of `workDir` links to and nobody used for `unusedMs`,
 * and staging folders left by a crash. Best effort: a failure here never fails an incident.
 */
export async function collectBaselines(
  workDir: string,
  unusedMs = UNUSED_BASELINE_MS,
  now = Date.now(),
): Promise<string[]> {
  const root = path.join(workDir, BASELINES_DIR);
  const names = await fs.readdir(root).catch(() => [] as string[]);
  if (!names.length) return [];
  const linked = new Set<string>();
  for (const incident of await fs.readdir(workDir).catch(() => [] as string[])) {
    if (incident === BASELINES_DIR) continue;
    const target = await fs.readlink(path.join(workDir, incident, 'baseline')).catch(() => null);
    if (target) linked.add(path.basename(path.dirname(path.resolve(workDir, incident, target))));
  }
  const removed: string[] = [];
  for (const name of names) {
    if (linked.has(name) || name.startsWith('.trash-')) continue;
    const st = await fs.stat(path.join(root, name)).catch(() => null);
    if (!st || now - st.mtimeMs < unusedMs) continue;
    const trash = path.join(root, `.trash-${name}-${randomBytes(4).toString('hex')}`);
    if (
      await fs.rename(path.join(root, name), trash).then(
        () => true,
        () => false,
      )
    ) {
      await removeTree(trash);
      removed.push(name);
    }
  }
  return removed;
}

/** rm -r of a tree whose files are read-only (unlinking needs only the folders' permission). */
async function removeTree(dir: string): Promise<void> {
  await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
}
