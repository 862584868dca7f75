/**
 * The model's own retrieval, bounded: while it writes a fix the model may call `read_file`,
 * `read_symbol`, `search_code` and `list_dir` on the incident's pristine copy of the repository (the
 * baseline its fix is diffed against), at most `maxCalls` times and within `budgetTokens` of results.
 *
 * Every result goes through the incident's redaction first, and only files the secret scan read are
 * ever served (text files under its size limit, never a secret file), so a value found in the
 * repository reaches the model only as its placeholder, which the patch engine can restore. Paths
 * are repository-relative; absolute paths, `..` and symlinks leading out of the copy are refused.
 * Each call is recorded (tool, input, outcome, result tokens) for the attempt's artifacts and proof.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { tool } from 'ai';
import type { ToolSet } from 'ai';
import { z } from 'zod';
import { isScannedTextFile, isSecretFile, MAX_SCAN_BYTES, redact } from '../repo-secrets';
import type { SecretMap } from '../repo-secrets';
import type { ToolCallRecord } from '../../workflows/incident-types';
import type { CodeIndex } from './code-index';
import { countTokens } from './token-count';

export interface RetrievalSession {
  tools: ToolSet;
  calls: ToolCallRecord[];
  /** What each call returned, in order (the attempt's tool-calls.json; never history). */
  results: string[];
  /** Whole (redacted) texts of the files the model read through the tools: its edits apply to these. */
  readTexts: Record<string, string>;
  /** True once every call is used or the budget is spent: the model must answer now. */
  exhausted(): boolean;
}

export interface RetrievalOptions {
  /** The incident's baseline (pristine copy). */
  root: string;
  /** Its files, relative, '/'-separated. */
  files: string[];
  index: CodeIndex | null;
  secrets: SecretMap;
  maxCalls: number;
  budgetTokens: number;
}

/** One result may take at most this share of the whole budget (a first read cannot starve the rest). */
const MAX_RESULT_SHARE = 0.5;
const MIN_USEFUL_TOKENS = 100;
const MAX_SEARCH_HITS = 40;
const MAX_DIR_ENTRIES = 200;
const MAX_SEARCH_BYTES = 64 * 1024 * 1024;

/** A tool's result before the limits: its text (and the files it showed whole, for edits), or why not. */
type Served = { ok: true; text: string; read?: Record<string, string> } | { ok: false; why: string };

export function retrievalTools(opts: RetrievalOptions): RetrievalSession {
  const calls: ToolCallRecord[] = [];
  const results: string[] = [];
  const readTexts: Record<string, string> = {};
  const fileSet = new Set(opts.files);
  let started = 0;
  let spent = 0;
  let realRoot: string | null = null;

  // Less than this left of the budget is spent: no result would be of use.
  const reserve = Math.min(MIN_USEFUL_TOKENS, Math.floor(opts.budgetTokens / 10));
  const exhausted = () => started >= opts.maxCalls || spent >= opts.budgetTokens - reserve;

  /** A repository-relative path, or why it is not one. */
  const relPath = (raw: string): { ok: true; rel: string } | { ok: false; why: string } => {
    const cleaned = raw
      .trim()
      .replace(/\\/g, '/')
      .replace(/^\.\/+/, '');
    if (cleaned.includes('\0')) return { ok: false, why: 'the path holds a NUL byte' };
    if (cleaned.startsWith('/') || /^[A-Za-z]:\//.test(cleaned))
      return { ok: false, why: 'give a path relative to the repository root, not an absolute one' };
    const rel = path.posix.normalize(cleaned || '.');
    if (rel === '..' || rel.startsWith('../')) return { ok: false, why: 'the path leads outside the repository' };
    return { ok: true, rel: rel === '.' ? '' : rel.replace(/\/$/, '') };
  };

  /** Each file read and redacted once per session (searches would otherwise read the tree again). */
  const readOnce = new Map<string, Promise<{ ok: true; text: string } | { ok: false; why: string }>>();
  const serve = (rel: string) => {
    let answer = readOnce.get(rel);
    if (!answer) readOnce.set(rel, (answer = readServed(rel)));
    return answer;
  };

  /** The redacted text of a file the secret scan covered, or why it is not served. */
  const readServed = async (rel: string): Promise<{ ok: true; text: string } | { ok: false; why: string }> => {
    if (isSecretFile(rel)) return { ok: false, why: `${rel} holds secrets and is withheld` };
    if (!fileSet.has(rel)) return { ok: false, why: `${rel} is not a file of the repository` };
    if (!isScannedTextFile(rel)) return { ok: false, why: `${rel} is not a source or text file OpsGuard serves` };
    realRoot ??= await fs.realpath(opts.root);
    const real = await fs.realpath(path.join(opts.root, rel)).catch(() => null);
    if (!real || !real.startsWith(realRoot + path.sep))
      return { ok: false, why: `${rel} leads outside the repository` };
    // A link inside the repository is served only if what it points at would be.
    const target = path.relative(realRoot, real).split(path.sep).join('/');
    if (target !== rel && (isSecretFile(target) || !isScannedTextFile(target)))
      return { ok: false, why: `${rel} links to a file OpsGuard does not serve` };
    const stat = await fs.stat(real);
    if (stat.size > MAX_SCAN_BYTES) return { ok: false, why: `${rel} is larger than ${MAX_SCAN_BYTES} bytes` };
    const raw = await fs.readFile(real, 'utf8');
    if (raw.includes('\0')) return { ok: false, why: `${rel} is binary` };
    return { ok: true, text: redact(raw, opts.secrets).text };
  };

  /** The result as the model gets it: refused, or cut to what is left of the budget. */
  const limit = (result: Served): { text: string; outcome: ToolCallRecord['outcome']; note?: string } => {
    if (!result.ok) return { text: `refused: ${result.why}`, outcome: 'refused', note: result.why };
    const allowed = Math.min(opts.budgetTokens - spent, Math.floor(opts.budgetTokens * MAX_RESULT_SHARE));
    if (countTokens(result.text) <= allowed) return { text: result.text, outcome: 'ok' };
    // The most lines that fit (binary search), then what was cut: the model can ask for a narrower range.
    const lines = result.text.split('\n');
    const cut = (keep: number) =>
      `${lines.slice(0, keep).join('\n')}\n... (cut: ${lines.length - keep} more lines; ask for a narrower range)`;
    let [lo, hi] = [0, lines.length - 1];
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (countTokens(cut(mid)) <= allowed) lo = mid;
      else hi = mid - 1;
    }
    const text = cut(lo);
    return { text, outcome: 'truncated' };
  };

  /**
   * One call: counted when it starts (calls made at once are recorded in the order the model made
   * them), refused past the limits, recorded with its result's size.
   */
  const call = async (name: string, input: Record<string, unknown>, work: () => Promise<Served>): Promise<string> => {
    const slot = started++;
    const over = slot >= opts.maxCalls || spent >= opts.budgetTokens - reserve;
    const shown = Object.fromEntries(
      Object.entries(input).map(([k, v]) => [k, typeof v === 'string' ? v.slice(0, 200) : v]),
    );
    if (over) {
      const text = `no tool calls left (${opts.maxCalls} calls, ${opts.budgetTokens} tokens): answer with the fix now`;
      calls[slot] = { tool: name, input: shown, outcome: 'refused', resultTokens: 0, note: 'over the limit' };
      results[slot] = text;
      return text;
    }
    const result = await work();
    const { text, outcome, note } = limit(result);
    const tokens = countTokens(text);
    spent += tokens;
    calls[slot] = { tool: name, input: shown, outcome, resultTokens: tokens, ...(note ? { note } : {}) };
    results[slot] = text;
    if (result.ok && result.read) Object.assign(readTexts, result.read);
    return text;
  };

  const numbered = (lines: string[], from: number) => lines.map((l, i) => `${from + i}: ${l}`).join('\n');
  const linesOf = (text: string) => text.replace(/\n$/, '').split('\n');

  async function readFile(input: { path: string; startLine?: number; endLine?: number }): Promise<Served> {
    const p = relPath(input.path);
    if (!p.ok) return p;
    const served = await serve(p.rel);
    if (!served.ok) return served;
    const lines = linesOf(served.text);
    const from = Math.min(input.startLine ?? 1, lines.length);
    const to = Math.min(input.endLine ?? lines.length, lines.length);
    if (to < from) return { ok: false, why: `endLine ${to} is before startLine ${from}` };
    const text = `${p.rel} (lines ${from}-${to} of ${lines.length})\n${numbered(lines.slice(from - 1, to), from)}`;
    return { ok: true, text, read: { [p.rel]: served.text } };
  }

  async function readSymbol(input: { name: string; path?: string }): Promise<Served> {
    if (!opts.index) return { ok: false, why: 'no code index for this repository' };
    const inFile = input.path !== undefined ? relPath(input.path) : null;
    if (inFile && !inFile.ok) return inFile;
    const matches: { file: string; start: number; end: number; qualname: string }[] = [];
    for (const [file, f] of Object.entries(opts.index.files)) {
      if (inFile?.ok && file !== inFile.rel) continue;
      for (const d of f.syntax.definitions) {
        if (d.kind === 'module') continue;
        if (d.qualname === input.name || d.name === input.name || d.qualname.endsWith(`.${input.name}`))
          matches.push({ file, start: d.startLine, end: d.endLine, qualname: d.qualname });
      }
    }
    if (!matches.length) return { ok: false, why: `no definition named ${input.name}` };
    const parts: string[] = [];
    const read: Record<string, string> = {};
    for (const m of matches.slice(0, 3)) {
      const served = await serve(m.file);
      if (!served.ok) {
        parts.push(`${m.file}: ${m.qualname} (${served.why})`);
        continue;
      }
      read[m.file] = served.text;
      const lines = linesOf(served.text).slice(m.start - 1, m.end);
      parts.push(`${m.file} lines ${m.start}-${m.end}: ${m.qualname}\n${numbered(lines, m.start)}`);
    }
    const more = matches.length > 3 ? `\n(${matches.length - 3} more definitions of that name; give a path)` : '';
    return { ok: true, text: parts.join('\n\n') + more, read };
  }

  async function searchCode(input: { query: string; path?: string }): Promise<Served> {
    const under = input.path !== undefined ? relPath(input.path) : { ok: true as const, rel: '' };
    if (!under.ok) return under;
    const needle = input.query.toLowerCase();
    const hits: string[] = [];
    let scanned = 0;
    let more = false;
    for (const rel of opts.files) {
      if (under.rel && rel !== under.rel && !rel.startsWith(`${under.rel}/`)) continue;
      if (isSecretFile(rel) || !isScannedTextFile(rel)) continue;
      const served = await serve(rel);
      if (!served.ok) continue;
      scanned += served.text.length;
      // The redacted text is searched: a query cannot find out a secret's value.
      if (!served.text.toLowerCase().includes(needle)) continue;
      linesOf(served.text).forEach((line, i) => {
        if (!line.toLowerCase().includes(needle)) return;
        if (hits.length < MAX_SEARCH_HITS) hits.push(`${rel}:${i + 1}: ${line.trim().slice(0, 200)}`);
        else more = true;
      });
      if (more || scanned > MAX_SEARCH_BYTES) break;
    }
    const tail = more ? `\n(more hits not shown; narrow the query or give a path)` : '';
    return { ok: true, text: hits.length ? hits.join('\n') + tail : `no match for ${JSON.stringify(input.query)}` };
  }

  function listDir(input: { path?: string }): Promise<Served> {
    const dir = relPath(input.path ?? '.');
    if (!dir.ok) return Promise.resolve(dir);
    const prefix = dir.rel ? `${dir.rel}/` : '';
    const entries = new Set<string>();
    for (const rel of opts.files) {
      if (!rel.startsWith(prefix)) continue;
      const rest = rel.slice(prefix.length);
      const slash = rest.indexOf('/');
      if (slash >= 0) entries.add(`${rest.slice(0, slash)}/`);
      else entries.add(isSecretFile(rel) ? `${rest} (withheld: holds secrets)` : rest);
    }
    if (!entries.size)
      return Promise.resolve({ ok: false, why: `${dir.rel || '.'} is not a folder of the repository` });
    const sorted = [...entries].sort();
    const more = sorted.length > MAX_DIR_ENTRIES ? `\n(${sorted.length - MAX_DIR_ENTRIES} more entries)` : '';
    return Promise.resolve({ ok: true, text: sorted.slice(0, MAX_DIR_ENTRIES).join('\n') + more });
  }

  const tools: ToolSet = {
    read_file: tool({
      description:
        'Read a file of the repository (path relative to its root), optionally only lines startLine..endLine (1-based). Lines come numbered "N: text"; the numbers are not part of the file.',
      inputSchema: z.object({
        path: z.string(),
        startLine: z.number().int().min(1).optional(),
        endLine: z.number().int().min(1).optional(),
      }),
      execute: (input) => call('read_file', input, () => readFile(input)),
    }),
    read_symbol: tool({
      description:
        'Read the source of a function, method or class by name ("compute_total", "Invoice.total"), optionally only in one file.',
      inputSchema: z.object({ name: z.string().min(1), path: z.string().optional() }),
      execute: (input) => call('read_symbol', input, () => readSymbol(input)),
    }),
    search_code: tool({
      description:
        'Find a literal text (case-insensitive) in the repository\'s source and text files, optionally under one folder or file. Answers "path:line: text", at most 40 hits.',
      inputSchema: z.object({ query: z.string().min(2), path: z.string().optional() }),
      execute: (input) => call('search_code', input, () => searchCode(input)),
    }),
    list_dir: tool({
      description: 'List a folder of the repository (path relative to its root; "." for the root). Folders end in "/".',
      inputSchema: z.object({ path: z.string().optional() }),
      execute: (input) => call('list_dir', input, () => listDir(input)),
    }),
  };

  return { tools, calls, results, readTexts, exhausted };
}
