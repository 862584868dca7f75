/**
 * Where the module an ImportError names sits in the repository (workflows/import-errors.ts decides
 * what that means): the longest dotted prefix of it that is a module (`a/b.py`) or a package folder
 * holding Python files (`a/b/`), at the repository's root or under a conventional source folder.
 */
import type { ImportTarget } from '../workflows/import-errors';
import { IMPORT_ERRORS, importedModuleName } from '../workflows/import-errors';
import { shortTypeName } from '../workflows/traceback';
import { STDLIB_MODULES } from './module-shadowing';

/** Folders a repository's importable code conventionally sits under ('' : the root). */
export const SOURCE_ROOTS = ['', 'src/', 'lib/'];

export function importTarget(
  exceptionType: string | null,
  message: string,
  repoFiles: readonly string[],
): ImportTarget | null {
  if (!exceptionType || !IMPORT_ERRORS.has(shortTypeName(exceptionType))) return null;
  const module = importedModuleName(message);
  if (!module) return null;
  const python = repoFiles.filter((f) => f.endsWith('.py'));
  const parts = module.split('.');
  for (let n = parts.length; n > 0; n--) {
    const rel = parts.slice(0, n).join('/');
    const found = SOURCE_ROOTS.some(
      (root) => python.includes(`${root}${rel}.py`) || python.some((f) => f.startsWith(`${root}${rel}/`)),
    );
    if (found) return { module, repoPrefix: parts.slice(0, n).join('.') };
  }
  return { module, repoPrefix: null, ...(STDLIB_MODULES.has(parts[0]!) ? { standardLibrary: true } : {}) };
}
