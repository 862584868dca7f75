/**
 * Prepared dependency folders, keyed by what decides their contents: the sandbox image's id, the
 * declaration files' bytes, the profile's packages and ignores, and OpsGuard's preparation recipe. A
 * second incident on the same repository and declarations finds its folder here (a cache hit). An
 * entry is written in a staging folder and renamed into place, so it is whole or absent; a failed
 * preparation is never cached.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

export interface CacheKeyParts {
  imageId: string;
  files: { path: string; sha256: string }[];
  packages: string[];
  ignore: string[];
  /** sha256 of opsguard_prepare.py and the pip wheel's name: a new recipe is a new entry. */
  recipe: string;
}

export function cacheKey(parts: CacheKeyParts): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

export interface CacheEntry {
  dir: string;
  /** The folder mounted at /opsguard/deps. */
  site: string;
  result: string;
  log: string;
}

export function cacheEntry(cacheDir: string, key: string): CacheEntry {
  if (!/^[0-9a-f]{32}$/.test(key)) throw new Error(`not a dependency cache key: ${key}`);
  const dir = path.join(cacheDir, 'deps', key);
  return {
    dir,
    site: path.join(dir, 'site'),
    result: path.join(dir, 'result.json'),
    log: path.join(dir, 'install.log'),
  };
}

/** The entry when it is complete (its result.json is written last, by the rename). */
export async function findCached(cacheDir: string, key: string): Promise<CacheEntry | null> {
  const entry = cacheEntry(cacheDir, key);
  const ok = await fs.stat(entry.result).then(
    () => true,
    () => false,
  );
  return ok ? entry : null;
}

/** A fresh staging folder beside the entries (same filesystem, so the rename is atomic). */
export async function stagingFolder(cacheDir: string, key: string): Promise<string> {
  const dir = path.join(cacheDir, 'deps', `.staging-${key}-${randomBytes(4).toString('hex')}`);
  await fs.mkdir(dir, { recursive: true });
  return dir;
}

/** Move a finished staging folder into place; when another preparation won the race, keep theirs. */
export async function commitStaging(cacheDir: string, key: string, staging: string): Promise<CacheEntry> {
  const entry = cacheEntry(cacheDir, key);
  try {
    await fs.rename(staging, entry.dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
    await fs.rm(staging, { recursive: true, force: true });
  }
  return entry;
}
