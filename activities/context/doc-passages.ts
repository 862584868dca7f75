/**
 * The repository's documentation as passages: README and docs/ Markdown or reStructuredText, split at
 * headings, ranked against the incident with BM25 (MiniSearch). A passage joins the prompt only when
 * it matches well and fits its share of the budget.
 */
import MiniSearch from 'minisearch';
import { splitWords } from './rank-code';
import { countTokens } from './token-count';

export interface DocPassage {
  path: string;
  heading: string;
  text: string;
  tokens: number;
  score: number;
}

/** Documentation files worth reading for an incident. */
export function isDocFile(rel: string): boolean {
  const lower = rel.toLowerCase();
  if (!/\.(md|rst|txt)$/.test(lower)) return false;
  const base = lower.split('/').at(-1)!;
  return /^readme/.test(base) || /(^|\/)docs?\//.test(lower) || /^(troubleshooting|operations|runbook)/.test(base);
}

/** A passage longer than this is cut (the rest is a read_file away). */
const MAX_PASSAGE_TOKENS = 400;

export function splitPassages(rel: string, text: string): Omit<DocPassage, 'tokens' | 'score'>[] {
  const out: Omit<DocPassage, 'tokens' | 'score'>[] = [];
  let heading = rel;
  let buf: string[] = [];
  const flush = () => {
    const body = buf.join('\n').trim();
    if (body) out.push({ path: rel, heading, text: body });
    buf = [];
  };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const md = /^#{1,4}\s+(.*)$/.exec(line);
    const rst = /^[=\-~^]{3,}\s*$/.test(lines[i + 1] ?? '') && line.trim() && !/^[=\-~^]{3,}/.test(line);
    if (md || rst) {
      flush();
      heading = (md ? md[1]! : line).trim();
      if (rst) i++;
      continue;
    }
    buf.push(line);
  }
  flush();
  return out;
}

/** The passages that match the query best, within `budgetTokens` (BM25 score at least `minScore`). */
export function bestPassages(
  docs: { path: string; text: string }[],
  query: string,
  budgetTokens: number,
  minScore = 3,
): DocPassage[] {
  const passages = docs.flatMap((d) => splitPassages(d.path, d.text));
  if (!passages.length || budgetTokens <= 0) return [];
  const search = new MiniSearch<{ id: number; text: string }>({ fields: ['text'], tokenize: (t) => splitWords(t) });
  search.addAll(passages.map((p, id) => ({ id, text: `${p.heading} ${p.text}` })));
  const out: DocPassage[] = [];
  let used = 0;
  for (const r of search.search(query, { combineWith: 'OR' })) {
    if (r.score < minScore) break;
    const p = passages[r.id as number]!;
    let text = p.text;
    let tokens = countTokens(text);
    if (tokens > MAX_PASSAGE_TOKENS) {
      text = `${text.slice(0, MAX_PASSAGE_TOKENS * 3)}\n[... passage cut]`;
      tokens = countTokens(text);
    }
    if (used + tokens > budgetTokens) continue;
    out.push({ ...p, text, tokens, score: Math.round(r.score * 100) / 100 });
    used += tokens;
    if (out.length >= 3) break;
  }
  return out;
}
