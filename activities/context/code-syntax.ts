/**
 * What the context engine knows of one source file, whatever its language: the definitions it holds
 * (functions, classes, methods, and the module's own top-level code), what each one calls and names,
 * and what the file imports. A language (python-syntax.ts) turns text into this; the index
 * (code-index.ts) caches it; the ranking (rank-code.ts) reads only this.
 */

export interface CallSite {
  /** The called name: `f` for `f(x)`, `g` for `obj.g(x)`. */
  name: string;
  /** 1-based line of the call. */
  line: number;
}

export interface Definition {
  /** `compute_total`, `Invoice`, `Invoice.total`; the module's top-level code is `<module>`. */
  qualname: string;
  name: string;
  kind: 'function' | 'class' | 'method' | 'module';
  /** 1-based, inclusive; a decorated definition starts at its first decorator. */
  startLine: number;
  endLine: number;
  calls: CallSite[];
  /** Identifiers and attribute names used inside (deduplicated). */
  refs: string[];
  /** Short string literals inside (dictionary keys, messages, setting names). */
  strings: string[];
}

export interface ImportRef {
  /** `a.b` for `import a.b` and `from a.b import c`; `.x` (dots kept) for relative imports. */
  module: string;
  /** The names imported from it (`c`), empty for `import a.b`. */
  names: string[];
  line: number;
}

export interface FileSyntax {
  definitions: Definition[];
  imports: ImportRef[];
  /** The file's line count. */
  lines: number;
}

/** A language the context engine can parse; one per file extension set. */
export interface LanguageSyntax {
  readonly name: string;
  readonly extensions: string[];
  parse(text: string): FileSyntax;
}

/** The innermost definition holding a line (a method before its class, any before `<module>`). */
export function definitionAt(syntax: FileSyntax, line: number): Definition | undefined {
  let best: Definition | undefined;
  for (const d of syntax.definitions) {
    if (line < d.startLine || line > d.endLine) continue;
    if (!best || d.endLine - d.startLine < best.endLine - best.startLine) best = d;
  }
  return best;
}
