/**
 * Where the module an ImportError names sits in the repository (workflows/import-errors.ts decides
 * what that means): the longest dotted prefix of it that is a module (`a/b.py`) or a package folder
 * holding Python files (`a/b/`), at the repository's root, under a conventional source folder, or
 * under the one other folder that holds its top-level package (`python/`, `services/api/`).
 */
import type { ImportTarget } from '../workflows/import-errors';
import { IMPORT_ERRORS, importedModuleName } from '../workflows/import-errors';
import { shortTypeName } from '../workflows/traceback';
import { STDLIB_MODULES } from './module-shadowing';

/** Folders a repository's importable code conventionally sits under ('' : the root). */
export const SOURCE_ROOTS = ['', 'src/', 'lib/'];
/** How deep another source folder may be (`services/api/`: 2). */
const MAX_SOURCE_ROOT_DEPTH = 3;
/** Folders that hold someone else's code or the tests', never the repository's importable code. */
const NOT_SOURCE = new Set([
  'site-packages',
  'dist-packages',
  'node_modules',
  '.venv',
  'venv',
  '.tox',
  '.nox',
  'build',
  'dist',
  'vendor',
  '_vendor',
  'third_party',
  'thirdparty',
  'tests',
  'test',
]);

/**
 * Where `first` (a top-level module name) sits in the repository: under a conventional source folder,
 * else under the shallowest other folder (`python/`, `services/api/`) that holds it as a module or a
 * package of Python files, outside vendored, virtual-environment, build and test folders.
 */
function sourceRootsFor(first: string, python: readonly string[]): string[] {
  const found = new Set<string>();
  for (const f of python) {
    const parts = f.split('/');
    for (let d = 0; d < Math.min(parts.length, MAX_SOURCE_ROOT_DEPTH + 1); d++) {
      const here = parts[d];
      if (here === undefined) break;
      if (here === first || here === `${first}.py`) {
        if (d < parts.length - 1 || here.endsWith('.py'))
          found.add(
            parts
              .slice(0, d)
              .map((p) => `${p}/`)
              .join(''),
          );
        break;
      }
      if (NOT_SOURCE.has(here)) break;
    }
  }
  const conventional = SOURCE_ROOTS.filter((r) => found.has(r));
  if (conventional.length) return conventional;
  const others = [...found].sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b));
  return others.slice(0, 1);
}

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
  const roots = sourceRootsFor(parts[0]!, python);
  for (let n = parts.length; n > 0; n--) {
    const rel = parts.slice(0, n).join('/');
    const found = roots.some(
      (root) => python.includes(`${root}${rel}.py`) || python.some((f) => f.startsWith(`${root}${rel}/`)),
    );
    if (found) return { module, repoPrefix: parts.slice(0, n).join('.') };
  }
  return { module, repoPrefix: null, ...(STDLIB_MODULES.has(parts[0]!) ? { standardLibrary: true } : {}) };
}
