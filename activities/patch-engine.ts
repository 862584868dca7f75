import fs from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from './incident-paths';
import { refuseContent, refusePath } from './patch-policy';
import { existsIn, shadowingRefusal } from './module-shadowing';
import { importedByApplication } from './test-support';
import type { PatchPolicy } from '../workflows/incident-types';
import { fileDiff } from './unified-diff';
import type { ChangedFile } from '../workflows/incident-types';

export interface ProposedFile {
  path: string;
  content: string;
}

export type PatchOutcome =
  | { ok: true; diff: string; changedFiles: string[]; changed: ChangedFile[]; added: number; removed: number }
  | { ok: false; reason: string };

/** Refuse a path whose existing components include a symlink: writing would go through it. */
async function symlinkOnTheWay(root: string, rel: string): Promise<string | null> {
  let current = root;
  for (const part of rel.split('/')) {
    current = path.join(current, part);
    const st = await fs.lstat(current).catch(() => null);
    if (!st) return null; // the rest does not exist yet: it will be created as plain folders/file
    if (st.isSymbolicLink())
      return `${rel}: ${path.relative(root, current)} is a symlink; writing through symlinks is refused`;
    if (current !== path.join(root, rel) && !st.isDirectory())
      return `${rel}: ${path.relative(root, current)} is not a folder`;
  }
  const final = await fs.lstat(path.join(root, rel)).catch(() => null);
  if (final && !final.isFile()) return `${rel}: exists and is not a regular file`;
  return null;
}

/**
 * The safe patch strategy: the model gives full file contents; we check every path and content
 * against the policy and the workspace (and a new module against the names it would shadow on
 * `imports.roots`: module-shadowing.ts), compute the diff against the baseline, and only when all
 * of it is acceptable write the files. A refusal writes nothing.
 */
export async function applyProposal(
  dirs: { baseline: string; workspace: string },
  files: ProposedFile[],
  policy: PatchPolicy,
  imports: { roots: string[]; installed: ReadonlySet<string> } = { roots: ['.'], installed: new Set() },
  /** The repository's test data (test-data.ts), when known and the policy does not allow test changes. */
  testData: ReadonlySet<string> | null = null,
  /** Candidates for test support modules (test-support.ts), likewise; the baseline tells which are. */
  testSupport: ReadonlySet<string> | null = null,
): Promise<PatchOutcome> {
  const seen = new Set<string>();
  const refusals: string[] = [];
  for (const f of files) {
    if (seen.has(f.path)) refusals.push(`${f.path}: given twice`);
    seen.add(f.path);
    const pathRefusal =
      refusePath(f.path, policy) ??
      (await symlinkOnTheWay(dirs.workspace, f.path)) ??
      (await symlinkOnTheWay(dirs.baseline, f.path));
    const before = pathRefusal ? null : await fs.readFile(path.join(dirs.baseline, f.path), 'utf8').catch(() => null);
    const rel = path.posix.normalize(f.path);
    const refused =
      pathRefusal ??
      refuseContent(f.path, before, f.content, policy) ??
      (before === null && f.path.endsWith('.py')
        ? await shadowingRefusal(f.path, imports.roots, imports.installed, existsIn(dirs.baseline))
        : null) ??
      (testData?.has(rel) && before !== f.content
        ? `${f.path}: the repository's tests read this file and the reproduction does not, so it is their data (expected values, cases); a fix may not change what judges it (patchPolicy.allowTestChanges)`
        : null) ??
      (testSupport?.has(rel) &&
      before !== null &&
      before !== f.content &&
      !(await importedByApplication(dirs.baseline, rel))
        ? `${f.path}: only the repository's tests use this module (they load it, the reproduction does not, and no application code imports it), so it is test support, part of what judges the fix; a fix may not change it (patchPolicy.allowTestChanges)`
        : null);
    if (refused) refusals.push(refused);
  }
  if (refusals.length) return { ok: false, reason: `The patch was refused: ${refusals.join('; ')}.` };

  const diffs: string[] = [];
  const changedFiles: string[] = [];
  const changed: ChangedFile[] = [];
  let added = 0;
  let removed = 0;
  for (const f of files) {
    const before = await fs.readFile(path.join(dirs.baseline, f.path), 'utf8').catch(() => null);
    if (before === f.content) continue;
    const d = fileDiff(f.path, before, f.content);
    diffs.push(d.text);
    changedFiles.push(f.path);
    changed.push({ path: f.path, lines: d.changedLines });
    added += d.added;
    removed += d.removed;
  }
  if (!changedFiles.length)
    return { ok: false, reason: 'The patch changes nothing: every file is identical to the repository.' };
  // Replaced whole, never written in place: the workspace's files are hard links to the baseline's.
  for (const f of files) {
    if (changedFiles.includes(f.path)) await writeFileAtomic(path.join(dirs.workspace, f.path), f.content);
  }
  return { ok: true, diff: diffs.join(''), changedFiles, changed, added, removed };
}
