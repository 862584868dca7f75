import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from './project-root';

/**
 * A short digest of some of the project's own source files (paths from the project folder), read
 * on first use: what a cache keyed by it holds was made by this code, not another version's. Read
 * from the project's sources, not beside the calling module, since the worker runs from a bundle
 * elsewhere. Sources that cannot be read give a value of this process alone (nothing is shared past it).
 */
export function sourceVersion(files: string[]): () => string {
  let version: string | undefined;
  return () => {
    if (!version) {
      try {
        const hash = createHash('sha256');
        for (const file of files) hash.update(readFileSync(path.join(PROJECT_ROOT, file)));
        version = hash.digest('hex').slice(0, 16);
      } catch {
        version = `process-${randomBytes(8).toString('hex')}`;
      }
    }
    return version;
  };
}
