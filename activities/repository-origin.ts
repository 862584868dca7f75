/**
 * Where the analysed code came from: the git repository holding repoPath, the commit checked out when
 * the incident was analysed, its branch, and the files that differed from that commit (the workspace
 * copies the working tree, so a dirty file means the verified patch was made against text the commit
 * does not have). Recorded once at setup (origin.json in the work folder); delivery branches from it.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { RepositoryOriginSummary } from '../workflows/incident-types';
import { git, gitLine } from './git';
import { writeFileAtomic } from './incident-paths';

export interface RepositoryOrigin extends RepositoryOriginSummary {
  /** The repository's top folder (where `.git` is). */
  topLevel: string;
}

/** Read repoPath's git state without writing anything; null (and why) when it is not a usable repository. */
export async function readOrigin(
  repoPath: string,
): Promise<{ origin: RepositoryOrigin; why?: undefined } | { origin: null; why: string }> {
  const real = await fs.realpath(repoPath);
  let topLevel: string;
  try {
    topLevel = await gitLine(real, ['rev-parse', '--show-toplevel']);
  } catch (err) {
    const text = (err as Error).message;
    return { origin: null, why: /not a git repository/i.test(text) ? 'not a git repository' : text };
  }
  const commit = (await git(real, ['rev-parse', '-q', '--verify', 'HEAD^{commit}'], { okCodes: [1] })).stdout.trim();
  if (!commit) return { origin: null, why: 'the git repository has no commit yet' };
  const branch = (await git(real, ['symbolic-ref', '-q', '--short', 'HEAD'], { okCodes: [1] })).stdout.trim() || null;
  const prefix = path
    .relative(await fs.realpath(topLevel), real)
    .split(path.sep)
    .join('/');
  // Files of repoPath that differ from the commit (stat-only differences included; informative).
  const changed = (await git(topLevel, ['diff-index', '--name-only', '-z', 'HEAD', '--', prefix || '.'])).stdout
    .split('\0')
    .filter(Boolean)
    .map((f) => (prefix ? path.posix.relative(prefix, f) : f));
  return { origin: { topLevel, prefix, commit, branch, dirty: changed.slice(0, 200) } };
}

export async function saveOrigin(file: string, origin: RepositoryOrigin | null, why?: string): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(origin ? origin : { none: why ?? 'unknown' }, null, 2));
}

export async function loadOrigin(file: string): Promise<{ origin: RepositoryOrigin | null; why: string }> {
  const raw = JSON.parse(await fs.readFile(file, 'utf8').catch(() => '{"none":"no origin was recorded at setup"}')) as
    RepositoryOrigin | { none: string };
  return 'none' in raw ? { origin: null, why: raw.none } : { origin: raw, why: '' };
}
