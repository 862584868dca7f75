/**
 * ImportError and ModuleNotFoundError: which module the message names, and whose module it is.
 *
 * Whose fault an import failure is depends on the module, not on the frame that imported it:
 * - the repository's own module lacks the name (`cannot import name 'parse_date' from 'app.utils'`, a
 *   rename half done, or a circular import between two of its modules): a code error;
 * - the repository imports a submodule of its own package that does not exist (`No module named
 *   'app.helpers'` while `app/` is the repository's): a code error;
 * - a module outside the repository is missing or lacks the name (`No module named 'yaml'`,
 *   `cannot import name 'soft_unicode' from 'markupsafe'`): the deployment's packages, infra;
 * - the standard library lacks the module or the name (`cannot import name 'Mapping' from
 *   'collections'` on Python 3.10+, `No module named 'imp'` on 3.12): the code was written for another
 *   Python, and what its maintainers do is change the code: a code error;
 * - the repository's own module exists but was not found (`No module named 'app'` with `app/` in the
 *   repository): how the service was started (its path), neither, so unclassified.
 */

export const IMPORT_ERRORS: ReadonlySet<string> = new Set(['ImportError', 'ModuleNotFoundError']);

/** The module an import error's message names (dotted), or null when it names none. */
export function importedModuleName(message: string): string | null {
  const named =
    /^No module named '([\w.]+)'/.exec(message) ??
    /^cannot import name '[^']*' from (?:partially initialized module )?'([\w.]+)'/.exec(message);
  return named?.[1] ?? null;
}

/** Where the module was found in the repository (the worker's finding, activities/import-target.ts). */
export interface ImportTarget {
  /** The dotted name the message gives. */
  module: string;
  /** The longest dotted prefix of it that is a module or package of the repository (null: none). */
  repoPrefix: string | null;
  /** Its top-level name is a module of Python's standard library (3.11 or 3.13, removed ones too). */
  standardLibrary?: boolean;
}

export type ImportVerdict =
  { kind: 'code'; why: string } | { kind: 'infra'; why: string } | { kind: 'unclassified'; why: string };

/** Whose fault the import failure is (see the module comment). */
export function importVerdict(type: string, message: string, target: ImportTarget): ImportVerdict {
  const { module, repoPrefix } = target;
  if (repoPrefix === null && target.standardLibrary) {
    return {
      kind: 'code',
      why: `the code imports ${/^No module named/.test(message) ? `${module}, which` : `from ${module} what`} this Python's standard library does not have: it was written for another Python version`,
    };
  }
  if (repoPrefix === null) {
    return {
      kind: 'infra',
      why: `${module} is not a module of the repository: the deployment lacks the package that provides it, or has a version without what the code imports. Check the installed packages against the repository's declared dependencies.`,
    };
  }
  if (type === 'ModuleNotFoundError' || /^No module named/.test(message)) {
    if (repoPrefix === module) {
      return {
        kind: 'unclassified',
        why: `${module} is a module of the repository, yet it was not found: how the service was started (its working folder or PYTHONPATH) decides that, not the code.`,
      };
    }
    return {
      kind: 'code',
      why: `the repository imports ${module}, which its own package ${repoPrefix} does not have`,
    };
  }
  return {
    kind: 'code',
    why: /partially initialized module/.test(message)
      ? `two of the repository's modules import each other (${module} was still being initialised)`
      : `the repository's module ${module} does not define what the code imports from it`,
  };
}
