/**
 * The delivery branch: `opsguard/<incidentId>`, one commit on top of a base commit holding exactly the
 * verified patch. Made with git plumbing and a private index (read-tree, apply --cached, write-tree,
 * commit-tree, update-ref), so the user's working tree, index, HEAD and current branch are never
 * touched. Idempotent: the commit's dates are the approval's, so a retry makes the same commit, and a
 * branch already holding it is reused; a branch holding anything else is never overwritten.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { diffLines } from 'diff';
import type { ChangedFile } from '../workflows/incident-types';
import { git, gitLine, GitError } from './git';
import type { IncidentPaths } from './incident-paths';
import { loadSecretMap, restorePlaceholders } from './repo-secrets';
import type { RepositoryOrigin } from './repository-origin';

export const branchName = (incidentId: string) => `opsguard/${incidentId}`;

export interface Author {
  name: string;
  email: string;
}

/** The verified patch.diff with the repository's secret values back in place of their placeholders. */
export async function patchWithValues(paths: IncidentPaths): Promise<string> {
  const shown = await fs.readFile(path.join(paths.artifactDir, 'patch.diff'), 'utf8');
  const restored = restorePlaceholders(shown, await loadSecretMap(paths.secrets));
  if (!restored.ok)
    throw new Error(`patch.diff holds placeholders OpsGuard did not issue: ${restored.placeholders.join(', ')}`);
  return restored.content;
}

/**
 * Apply the patch to `base`'s tree in the private index. Returns the new tree, or why it does not
 * apply (the text git gives).
 */
export async function patchedTree(
  origin: RepositoryOrigin,
  paths: IncidentPaths,
  base: string,
  patch: string,
): Promise<{ tree: string } | { conflict: string }> {
  const env = { GIT_INDEX_FILE: paths.deliveryIndex };
  await fs.rm(paths.deliveryIndex, { force: true });
  await git(origin.topLevel, ['read-tree', base], { env });
  const dir = origin.prefix ? [`--directory=${origin.prefix}`] : [];
  try {
    await git(origin.topLevel, ['apply', '--cached', '-p1', '--whitespace=nowarn', ...dir, '-'], { env, input: patch });
  } catch (err) {
    if (err instanceof GitError) return { conflict: err.stderr.trim().split('\n').slice(0, 6).join('; ') };
    throw err;
  }
  return { tree: await gitLine(origin.topLevel, ['write-tree'], { env }) };
}

/** Make (or find) the branch's commit: `tree` on top of `base`, with the message and the approval's time. */
export async function commitOnBranch(
  origin: RepositoryOrigin,
  opts: { incidentId: string; base: string; tree: string; message: string; at: string; author: Author },
): Promise<{ ok: true; commit: string; reused: boolean } | { ok: false; reason: string }> {
  const ref = `refs/heads/${branchName(opts.incidentId)}`;
  const existing = (
    await git(origin.topLevel, ['rev-parse', '-q', '--verify', `${ref}^{commit}`], { okCodes: [1] })
  ).stdout.trim();
  const date = `${Math.floor(Date.parse(opts.at) / 1000)} +0000`;
  const env = {
    GIT_AUTHOR_NAME: opts.author.name,
    GIT_AUTHOR_EMAIL: opts.author.email,
    GIT_AUTHOR_DATE: date,
    GIT_COMMITTER_NAME: opts.author.name,
    GIT_COMMITTER_EMAIL: opts.author.email,
    GIT_COMMITTER_DATE: date,
  };
  if (existing) {
    const [tree, parent] = (await gitLine(origin.topLevel, ['show', '-s', '--format=%T %P', existing])).split(' ');
    if (tree === opts.tree && parent === opts.base) return { ok: true, commit: existing, reused: true };
    return {
      ok: false,
      reason: `branch ${branchName(opts.incidentId)} already exists at ${existing.slice(0, 12)} with other content; OpsGuard never overwrites a branch (delete it to deliver again)`,
    };
  }
  const commit = await gitLine(origin.topLevel, ['commit-tree', opts.tree, '-p', opts.base, '-F', '-'], {
    env,
    input: opts.message,
  });
  // Create only (the zero old value): a branch that appeared meanwhile is never moved.
  await git(origin.topLevel, ['update-ref', '-m', 'opsguard: verified patch', ref, commit, '0'.repeat(40)]);
  return { ok: true, commit, reused: false };
}

/**
 * The newer head with the patch, as plain files (re-verification runs there): the private index's
 * content written under `dir` by checkout-index, repoPath's part of it kept. Whole or absent.
 */
export async function exportPatchedHead(origin: RepositoryOrigin, paths: IncidentPaths, dir: string): Promise<void> {
  const staging = `${dir}.staging`;
  await fs.rm(staging, { recursive: true, force: true });
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(staging, { recursive: true });
  await git(origin.topLevel, ['checkout-index', '-a', '-f', `--prefix=${staging}/`], {
    env: { GIT_INDEX_FILE: paths.deliveryIndex },
  });
  await fs.rename(origin.prefix ? path.join(staging, origin.prefix) : staging, dir);
  await fs.rm(staging, { recursive: true, force: true });
}

/** What the patch changed in the exported head (lines of the new text), for gate 2's coverage of the change. */
export async function changedOnHead(
  origin: RepositoryOrigin,
  base: string,
  dir: string,
  files: string[],
): Promise<ChangedFile[]> {
  const out: ChangedFile[] = [];
  for (const rel of files) {
    const spec = `${base}:${origin.prefix ? `${origin.prefix}/` : ''}${rel}`;
    const before = (await git(origin.topLevel, ['cat-file', '-p', spec], { okCodes: [128] })).stdout;
    const after = await fs.readFile(path.join(dir, rel), 'utf8').catch(() => '');
    const lines: number[] = [];
    let line = 1;
    for (const part of diffLines(before, after)) {
      const n = part.count ?? 0;
      if (part.added) for (let i = 0; i < n; i++) lines.push(line + i);
      if (!part.removed) line += n;
      else if (line > 1) lines.push(line - 1);
    }
    out.push({ path: rel, lines: [...new Set(lines)].sort((a, b) => a - b) });
  }
  return out;
}

/** The repository-relative files a git diff touches (the `+++ b/...` lines). */
export function filesInPatch(patch: string): string[] {
  return [...patch.matchAll(/^\+\+\+ b\/(.+)$/gm)].map((m) => m[1] as string);
}
