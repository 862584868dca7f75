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
import { lstatSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { sourceVersion } from '../worker/source-version';
import { copyTree, listFiles } from './copy-tree';
import type { CopyReport } from './copy-tree';
import { treeDigest } from './incident-host';
import {
  loadSecretMap,
  MAX_SCAN_BYTES,
  saveSecretMap,
  scanCandidates,
  secretMapOf,
  secretsOfFile,
} from './repo-secrets';
import type { SecretMap, SecretValue } from './repo-secrets';
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
  /** The earlier baseline of the same folder its unchanged files were hard-linked from. */
  parent?: string;
  /** How many files came from it (the rest were copied). */
  inherited?: number;
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
    // A new commit of a folder seen before: its unchanged files (same identity as in the walk the
    // earlier baseline was copied after) are hard links to that baseline's, only the rest copied.
    const parent = await latestBaseline(root, repoReal);
    const inherited: string[] = [];
    const report = await copyTree(repoReal, path.join(staging, 'tree'), {
      readOnly: true,
      sameAs: (rel) => {
        const now = state.files.get(rel);
        return parent && now && parent.identities.get(rel) === now ? path.join(parent.dir, 'tree', rel) : null;
      },
      reused: (rel) => inherited.push(rel),
    });
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
      ...(parent && inherited.length ? { parent: path.basename(parent.dir), inherited: inherited.length } : {}),
    };
    const files = await listFiles(path.join(staging, 'tree'), { withSymlinks: true });
    await fs.writeFile(path.join(staging, 'files.json'), JSON.stringify(files));
    // What each file was when copied: only for a tree known unchanged from the walk to the end of
    // the copy (a later baseline of the folder may then take a file with the same identity from here).
    if (!why) await fs.writeFile(path.join(staging, IDENTITIES), JSON.stringify(Object.fromEntries(state.files)));
    // Which files came from meta.parent: their facts are the parent's (baselineFacts).
    if (parent && inherited.length) await fs.writeFile(path.join(staging, INHERITED), JSON.stringify(inherited.sort()));
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
    if (taken.shared) await writeFileAtomic(latestFile(root, repoReal), taken.key).catch(() => undefined);
    await touch(finalDir);
    return { ...(await opened(finalDir, taken)), reused: !won };
  } catch (err) {
    await removeTree(staging);
    throw err;
  }
}

const IDENTITIES = 'identities.json';
const INHERITED = 'inherited.json';

/** Where the key of a folder's latest shared baseline is kept. */
const latestFile = (root: string, repoReal: string) =>
  path.join(root, `${LATEST_PREFIX}${createHash('sha256').update(repoReal).digest('hex').slice(0, 24)}`);
const LATEST_PREFIX = '.latest-';

/** The latest shared baseline of the folder at `repoReal`, with the identities its files were copied at. */
async function latestBaseline(
  root: string,
  repoReal: string,
): Promise<{ dir: string; identities: Map<string, string> } | null> {
  const key = (await fs.readFile(latestFile(root, repoReal), 'utf8').catch(() => '')).trim();
  if (!/^[0-9a-f]{32}$/.test(key)) return null;
  const dir = path.join(root, key);
  const meta = await readMeta(dir);
  if (!meta?.shared || meta.repoPath !== repoReal) return null;
  const text = await fs.readFile(path.join(dir, IDENTITIES), 'utf8').catch(() => null);
  if (!text) return null;
  return { dir, identities: new Map(Object.entries(JSON.parse(text) as Record<string, string>)) };
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
const scanner = sourceVersion([
  'activities/repo-secrets.ts',
  'activities/redact-secrets.ts',
  'activities/shared-baseline.ts', // the facts kept per file
]);

/**
 * What is read from each file of a baseline's tree once: the secret values of the files the scan
 * reads (repo-secrets.ts) and the classes of the Python files. Kept per tree and scanner (a 0600
 * file: it holds secret values); a file the tree inherited from its parent baseline (the same
 * bytes) takes the parent's facts when the parent has them from the same scanner, so a new commit
 * reads only the files it changed.
 */
interface FileFacts {
  /** Secret values, for the files that hold any. */
  secrets: Record<string, SecretValue[]>;
  /** Class names, for the Python files that define any. */
  classes: Record<string, string[]>;
}

async function baselineFacts(baseline: Pick<Baseline, 'tree' | 'files'>): Promise<FileFacts> {
  const dir = folderOf(baseline.tree);
  const file = path.join(dir, `facts-${scanner()}.json`);
  const cached = await fs.readFile(file, 'utf8').catch(() => null);
  if (cached) return JSON.parse(cached) as FileFacts;
  const from = await inheritedFacts(dir);
  const facts: FileFacts = { secrets: {}, classes: {} };
  const scanned = new Set(scanCandidates(baseline.files));
  const toRead = baseline.files.filter((rel) => scanned.has(rel) || rel.endsWith('.py'));
  const fresh: string[] = [];
  for (const rel of toRead) {
    if (from?.files.has(rel)) {
      if (from.facts.secrets[rel]) facts.secrets[rel] = from.facts.secrets[rel];
      if (from.facts.classes[rel]) facts.classes[rel] = from.facts.classes[rel];
    } else fresh.push(rel);
  }
  await readInSlices(baseline.tree, fresh, (rel, text, size) => {
    if (scanned.has(rel)) {
      const found = secretsOfFile(text, size);
      if (found.length) facts.secrets[rel] = found;
    }
    if (rel.endsWith('.py') && text) {
      const names = [...text.matchAll(/^\s*class\s+([A-Za-z_]\w*)/gm)].map((m) => m[1] as string);
      if (names.length) facts.classes[rel] = names;
    }
  });
  const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`;
  await fs.writeFile(tmp, JSON.stringify(facts), { mode: 0o600 });
  await fs.rename(tmp, file);
  return facts;
}

/** The parent's facts for the files this tree inherited from it, when the parent still has them. */
async function inheritedFacts(dir: string): Promise<{ files: Set<string>; facts: FileFacts } | null> {
  const parent = (await readMeta(dir))?.parent;
  const text = parent ? await fs.readFile(path.join(dir, INHERITED), 'utf8').catch(() => null) : null;
  if (!parent || !text) return null;
  const parentFacts = await fs
    .readFile(path.join(path.dirname(dir), parent, `facts-${scanner()}.json`), 'utf8')
    .catch(() => null);
  return parentFacts
    ? { files: new Set(JSON.parse(text) as string[]), facts: JSON.parse(parentFacts) as FileFacts }
    : null;
}

/**
 * Each file's text (null when unreadable) and size, read synchronously in slices of about 20 ms
 * with the event loop let run between them: four times faster than fs.promises on many small
 * files (bench/workspace-scale.ts), and heartbeats and timers still run.
 */
async function readInSlices(
  root: string,
  files: string[],
  each: (rel: string, text: string | null, size: number) => void,
): Promise<void> {
  let sliceStart = performance.now();
  for (const rel of files) {
    const full = path.join(root, rel);
    let text: string | null = null;
    let size = 0;
    try {
      const st = lstatSync(full);
      size = st.size;
      if (st.isFile() && (size <= MAX_SCAN_BYTES || rel.endsWith('.py'))) text = readFileSync(full, 'utf8');
    } catch {
      text = null;
    }
    each(rel, text, size);
    if (performance.now() - sliceStart > 20) {
      await new Promise((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
  }
}

/** The secret scan of a baseline's tree, made once per tree and scanner (a 0600 file beside it). */
export async function baselineSecrets(baseline: Pick<Baseline, 'tree' | 'files'>): Promise<SecretMap> {
  const file = path.join(folderOf(baseline.tree), `secret-scan-${scanner()}.json`);
  const cached = await fs
    .access(file)
    .then(() => true)
    .catch(() => false);
  if (cached) return await loadSecretMap(file);
  const facts = await baselineFacts(baseline);
  const map = secretMapOf(baseline.files, new Map(Object.entries(facts.secrets)));
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

/**
 * Names of the classes the tree's Python files define (`class Name`), read once per tree and kept
 * as one small list: an incident asks for them without parsing the per-file facts again.
 */
export async function baselineClasses(baseline: Pick<Baseline, 'tree' | 'files'>): Promise<Set<string>> {
  const file = path.join(folderOf(baseline.tree), `classes-${scanner()}.json`);
  const cached = await fs.readFile(file, 'utf8').catch(() => null);
  if (cached) return new Set(JSON.parse(cached) as string[]);
  const names = new Set(Object.values((await baselineFacts(baseline)).classes).flat());
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
    if (linked.has(name) || name.startsWith('.trash-') || name.startsWith(LATEST_PREFIX)) continue;
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
