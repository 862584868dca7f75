/**
 * What code the model is shown, within a token budget: the ranked files (rank-code.ts) in order, each
 * whole when it is small, else as an excerpt of its relevant definitions (with the file's imports and
 * a method's class line, the rest marked as not shown), until the budget is spent. Nothing is dropped
 * without a word: every ranked file left out is named, with why, in the prompt and in proof.json.
 */
import type { CodeIndex } from './code-index';
import type { RankedSymbol, Ranking } from './rank-code';
import { countTokens } from './token-count';

export interface ShownFile {
  path: string;
  /** The text shown (redacted); an excerpt marks what it leaves out. */
  content: string;
  shown: 'whole' | 'excerpt';
  /** The definitions an excerpt holds (qualnames). */
  symbols: string[];
  tokens: number;
}

export interface CodeContext {
  files: ShownFile[];
  /** Ranked files not shown, and why (budget, unreadable, withheld). */
  notShown: { path: string; why: string }[];
  tokens: number;
}

export interface PackLimits {
  /** Tokens the code may take. */
  budgetTokens: number;
  /** A file up to this many bytes may be shown whole (OPSGUARD_PROMPT_FILE_KB); larger ones as excerpts. */
  wholeFileBytes: number;
  /** At most this many files. */
  maxFiles?: number;
}

/** A file whole takes at most this share of the budget; past it, the excerpt. */
const WHOLE_FILE_SHARE = 0.35;
/** Excerpts hold at most this many definitions of one file. */
const MAX_SYMBOLS_PER_FILE = 5;
/** Files below this share of the best file's score are not worth the tokens. */
const MIN_RELATIVE_SCORE = 0.02;

export function packCode(
  ranking: Ranking,
  index: CodeIndex,
  read: (rel: string) => { text: string } | { withheld: string },
  limits: PackLimits,
): CodeContext {
  const files: ShownFile[] = [];
  const notShown: CodeContext['notShown'] = [];
  let used = 0;
  const best = ranking.files[0]?.score ?? 0;
  const maxFiles = limits.maxFiles ?? 12;
  for (const ranked of ranking.files) {
    if (ranked.score < best * MIN_RELATIVE_SCORE) break;
    if (files.length >= maxFiles) {
      notShown.push({ path: ranked.file, why: `ranked below the ${maxFiles} files shown` });
      continue;
    }
    const got = read(ranked.file);
    if ('withheld' in got) {
      notShown.push({ path: ranked.file, why: got.withheld });
      continue;
    }
    const remaining = limits.budgetTokens - used;
    const wholeTokens = countTokens(got.text);
    const fitsWhole =
      Buffer.byteLength(got.text) <= limits.wholeFileBytes &&
      wholeTokens <= limits.budgetTokens * WHOLE_FILE_SHARE &&
      wholeTokens <= remaining;
    if (fitsWhole) {
      files.push({ path: ranked.file, content: got.text, shown: 'whole', symbols: [], tokens: wholeTokens });
      used += wholeTokens;
      continue;
    }
    const symbols = ranking.symbols.filter((s) => s.file === ranked.file && s.kind !== 'module');
    const excerpt = fitExcerpt(got.text, index, ranked.file, symbols.slice(0, MAX_SYMBOLS_PER_FILE), remaining);
    if (!excerpt) {
      notShown.push({ path: ranked.file, why: `no room left in the ${limits.budgetTokens}-token budget` });
      continue;
    }
    files.push({ path: ranked.file, shown: 'excerpt', ...excerpt });
    used += excerpt.tokens;
  }
  return { files, notShown, tokens: used };
}

/** The most relevant definitions of a file that fit, best first (at least one, or null). */
function fitExcerpt(
  text: string,
  index: CodeIndex,
  file: string,
  symbols: RankedSymbol[],
  remaining: number,
): { content: string; symbols: string[]; tokens: number } | null {
  let chosen: RankedSymbol[] = [];
  let result: { content: string; symbols: string[]; tokens: number } | null = null;
  for (const s of symbols) {
    // A definition that does not fit is skipped; a smaller, lower-ranked one may still fit.
    const candidate = [...chosen, s];
    const content = renderExcerpt(text, index, file, candidate);
    const tokens = countTokens(content);
    if (tokens > remaining) continue;
    chosen = candidate;
    result = { content, symbols: chosen.map((c) => c.qualname), tokens };
  }
  return result;
}

/** The file's import lines, the chosen definitions (with their classes' header lines), gaps marked. */
export function renderExcerpt(text: string, index: CodeIndex, file: string, symbols: RankedSymbol[]): string {
  const lines = text.split('\n');
  const keep = new Uint8Array(lines.length + 2);
  const syntax = index.files[file]?.syntax;
  for (const imp of syntax?.imports ?? []) keep[imp.line] = 1;
  for (const s of symbols) {
    keep.fill(1, s.startLine, Math.min(s.endLine, lines.length) + 1);
    // The enclosing classes' header lines, so a method reads in its place.
    const parts = s.qualname.split('.');
    for (let i = 1; i < parts.length; i++) {
      const outer = syntax?.definitions.find((d) => d.qualname === parts.slice(0, i).join('.'));
      if (outer) keep[outer.startLine] = 1;
      if (outer && outer.kind === 'class') {
        // The header may span lines (decorators, long base lists): up to the line ending with ':'.
        for (let l = outer.startLine; l <= outer.endLine && l < outer.startLine + 6; l++) {
          keep[l] = 1;
          if (/:\s*(#.*)?$/.test(lines[l - 1] ?? '')) break;
        }
      }
    }
  }
  const out: string[] = [];
  let gapStart = 0;
  for (let l = 1; l <= lines.length; l++) {
    if (keep[l]) {
      if (gapStart) out.push(`# ... (lines ${gapStart}-${l - 1} not shown)`);
      gapStart = 0;
      out.push(lines[l - 1]!);
    } else if (!gapStart) gapStart = l;
  }
  if (gapStart && gapStart <= lines.length && (lines.length > gapStart || lines[gapStart - 1] !== ''))
    out.push(`# ... (lines ${gapStart}-${lines.length} not shown)`);
  return out.join('\n');
}
