/**
 * The repository context of one incident, built once at its first prompt and reused by every later
 * one: the code index (cached per commit), the ranking, the code and documentation that fit the
 * token budget. Saved in the work folder (model-context.json, the text shown) and summarised for
 * proof.json (which files whole or in excerpts, which definitions, what was left out and why, the
 * tokens of each section).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { listFiles } from '../copy-tree';
import type { IncidentPaths } from '../incident-paths';
import { writeFileAtomic } from '../incident-paths';
import { loadOrigin } from '../repository-origin';
import { isSecretFile, loadSecretMap, redact } from '../repo-secrets';
import { readRepositoryRedactions } from '../repository-redactions';
import { locateInRepo } from '../frame-location';
import type { IncidentContext } from '../workspace';
import { causeTracebacks } from '../../workflows/traceback';
import { loadCodeIndex } from './code-index';
import type { CodeIndex, IndexStats } from './code-index';
import { packCode } from './context-pack';
import type { ShownFile } from './context-pack';
import { bestPassages, isDocFile } from './doc-passages';
import type { DocPassage } from './doc-passages';
import { pythonSyntax } from './python-syntax';
import { rankCode } from './rank-code';
import { findPastIncidents, renderPastIncidents } from './past-incidents';
import type { PastIncident, PastIncidentLookup, PastIncidentsFound } from './past-incidents';
import { countTokens } from './token-count';
import type { SecretMap } from '../repo-secrets';

export interface ContextLimits {
  /** Tokens of repository context a prompt may hold (OPSGUARD_CONTEXT_TOKENS, default 8000). */
  contextTokens?: number;
  /** Files up to this size may be shown whole (OPSGUARD_PROMPT_FILE_KB). */
  promptFileBytes: number;
  /** The worker's cache folder, where code indexes are kept. */
  cacheDir?: string;
  /** Retrieval tool calls the fix's model may make (OPSGUARD_MODEL_TOOL_CALLS, default 8; 0: none). */
  modelToolCalls?: number;
  /** Where earlier incidents are found (Temporal visibility and the artifacts); none: not looked up. */
  pastIncidents?: PastIncidentLookup;
}

/** The workflow execution asking (the activity's), so past-incident lookup can leave it out. */
export interface AskingExecution {
  workflowId: string;
  runId: string;
}

export const DEFAULT_CONTEXT_TOKENS = 8000;
/** Documentation takes at most this share of the budget. */
const DOCS_SHARE = 0.1;
/** Earlier incidents (their patches) take at most this share. */
const PAST_SHARE = 0.15;

export interface ModelContext {
  budgetTokens: number;
  code: { files: ShownFile[]; notShown: { path: string; why: string }[]; tokens: number };
  docs: DocPassage[];
  /** Files withheld because they hold secrets (names only). */
  withheld: string[];
  /** The whole (redacted) text of each file shown in excerpts: edits to it apply here (fix-edits.ts). */
  fullText: Record<string, string>;
  index: IndexStats;
  /** The best-ranked definitions and files, with why (for the proof and for tuning). */
  ranking: {
    files: { file: string; score: number }[];
    symbols: { file: string; qualname: string; score: number; why: string[] }[];
  };
  rankMs: number;
  /** Earlier incidents cited (null: no lookup configured, or no workflow execution to look from). */
  past:
    (Omit<PastIncidentsFound, 'found'> & { found: Omit<PastIncident, 'patch'>[]; text: string; tokens: number }) | null;
}

const contextFile = (paths: IncidentPaths) => path.join(paths.workDir, 'model-context.json');

/** The incident's model context: built on first use, then read back. */
export async function incidentModelContext(
  paths: IncidentPaths,
  ctx: IncidentContext,
  limits: ContextLimits,
  asking: AskingExecution | null = null,
): Promise<ModelContext> {
  const saved = await fs.readFile(contextFile(paths), 'utf8').catch(() => null);
  if (saved) return JSON.parse(saved) as ModelContext;
  const built = await buildModelContext(paths, ctx, limits, asking);
  await writeFileAtomic(contextFile(paths), JSON.stringify(built, null, 2));
  return built;
}

/** proof.json's account of the context (no file text). */
export async function readModelContextSummary(
  paths: IncidentPaths,
): Promise<(Record<string, unknown> & { past: Omit<NonNullable<ModelContext['past']>, 'text'> | null }) | null> {
  const saved = await fs.readFile(contextFile(paths), 'utf8').catch(() => null);
  if (!saved) return null;
  const c = JSON.parse(saved) as ModelContext;
  return {
    budgetTokens: c.budgetTokens,
    tokens: { code: c.code.tokens, docs: c.docs.reduce((a, d) => a + d.tokens, 0), past: c.past?.tokens ?? 0 },
    files: c.code.files.map((f) => ({ path: f.path, shown: f.shown, symbols: f.symbols, tokens: f.tokens })),
    notShown: c.code.notShown,
    docs: c.docs.map((d) => ({ path: d.path, heading: d.heading, tokens: d.tokens, score: d.score })),
    past: c.past ? { found: c.past.found, queries: c.past.queries, tokens: c.past.tokens, error: c.past.error } : null,
    index: c.index,
    ranking: c.ranking,
    rankMs: c.rankMs,
  };
}

/** The baseline's files and code index (cached per commit, so a second load parses nothing). */
export async function loadIncidentIndex(
  paths: IncidentPaths,
  ctx: IncidentContext,
  limits: ContextLimits,
): Promise<{ files: string[]; index: CodeIndex; stats: IndexStats }> {
  const files = await listFiles(paths.baseline);
  const { origin } = await loadOrigin(paths.origin);
  const { index, stats } = await loadCodeIndex(
    {
      root: paths.baseline,
      files,
      cacheDir: limits.cacheDir ?? path.join(paths.workDir, 'index-cache'),
      repository: await fs.realpath(ctx.repoPath).catch(() => ctx.repoPath),
      commit: origin && !origin.dirty.length ? { commit: origin.commit, prefix: origin.prefix } : null,
    },
    await pythonSyntax(),
  );
  return { files, index, stats };
}

async function buildModelContext(
  paths: IncidentPaths,
  ctx: IncidentContext,
  limits: ContextLimits,
  asking: AskingExecution | null,
): Promise<ModelContext> {
  const budget = limits.contextTokens ?? DEFAULT_CONTEXT_TOKENS;
  const secrets = await loadSecretMap(paths.secrets);
  const past =
    limits.pastIncidents && asking ? await pastContext(limits.pastIncidents, asking, ctx, secrets, budget) : null;
  const { files, index, stats } = await loadIncidentIndex(paths, ctx, limits);

  const report = await readRepositoryRedactions(paths);
  const texts = new Map<string, string | null>();
  const readRaw = async (rel: string) => {
    if (!texts.has(rel)) texts.set(rel, await fs.readFile(path.join(paths.baseline, rel), 'utf8').catch(() => null));
    return texts.get(rel)!;
  };
  // The ranking reads the files around the traceback's checks; read them first (the ranking is pure).
  for (const f of ctx.frames) if (f.repoPath && !isSecretFile(f.repoPath)) await readRaw(f.repoPath);
  const tb = ctx.errorLog.trim().split('\n');
  const message = tb.slice(-3).join('\n');
  const started = Date.now();
  // The chain's earlier tracebacks (a KeyError handled, then a domain error raised), located too.
  const causes = [];
  for (const tb of causeTracebacks(ctx.errorLog)) {
    const located = [];
    for (const f of tb.frames) {
      const repoPath = locateInRepo(f.file, files);
      const raw = repoPath && !isSecretFile(repoPath) ? await readRaw(repoPath) : null;
      const source = raw?.split('\n')[f.line - 1]?.trim().slice(0, 200);
      located.push({ ...f, repoPath, ...(source !== undefined ? { source } : {}) });
    }
    causes.push(located);
  }
  const ranking = rankCode({
    index,
    frames: ctx.frames,
    causes,
    exceptionType: ctx.exceptionType,
    message,
    readText: (rel) => (isSecretFile(rel) ? null : (texts.get(rel) ?? null)),
  });
  const rankMs = Date.now() - started;
  for (const f of ranking.files.slice(0, 16)) if (!isSecretFile(f.file)) await readRaw(f.file);

  const note = (list: string[], item: string) => list.includes(item) || list.push(item);
  const code = packCode(
    ranking,
    index,
    (rel) => {
      if (isSecretFile(rel)) {
        note(report.withheld, rel);
        return { withheld: 'it holds secrets (withheld)' };
      }
      const raw = texts.get(rel);
      if (raw === null || raw === undefined) return { withheld: 'the worker cannot read it' };
      const redacted = redact(raw, secrets);
      if (Object.keys(redacted.counts).length) report.redacted[rel] = redacted.counts;
      return { text: redacted.text };
    },
    {
      budgetTokens: Math.floor(budget * (1 - DOCS_SHARE)) - (past?.tokens ?? 0),
      wholeFileBytes: limits.promptFileBytes,
    },
  );

  const docFiles = files.filter((f) => isDocFile(f) && !isSecretFile(f)).slice(0, 50);
  const docs = [];
  for (const rel of docFiles) {
    const raw = await fs.readFile(path.join(paths.baseline, rel), 'utf8').catch(() => null);
    if (raw !== null && raw.length < 500_000) docs.push({ path: rel, text: redact(raw, secrets).text });
  }
  const query = [message, ...ranking.symbols.slice(0, 5).map((s) => s.qualname.replace(/[._]/g, ' '))].join(' ');
  const passages = bestPassages(docs, query, Math.floor(budget * DOCS_SHARE));

  for (const f of secrets.secretFiles) note(report.withheld, f);
  await writeFileAtomic(paths.repoRedactions, JSON.stringify(report, null, 2));
  return {
    budgetTokens: budget,
    code,
    docs: passages,
    withheld: report.withheld,
    fullText: Object.fromEntries(
      code.files
        .filter((f) => f.shown === 'excerpt')
        .map((f) => [f.path, redact(texts.get(f.path) ?? '', secrets).text]),
    ),
    index: stats,
    ranking: {
      files: ranking.files.slice(0, 10).map((f) => ({ file: f.file, score: round(f.score) })),
      symbols: ranking.symbols
        .slice(0, 10)
        .map((s) => ({ file: s.file, qualname: s.qualname, score: round(s.score), why: s.why })),
    },
    rankMs,
    past,
  };
}

/** Earlier incidents like this one, rendered within their share of the budget (their patches redacted with this incident's secrets too). */
async function pastContext(
  lookup: PastIncidentLookup,
  asking: AskingExecution,
  ctx: IncidentContext,
  secrets: SecretMap,
  budget: number,
): Promise<NonNullable<ModelContext['past']>> {
  const file = ctx.frames.filter((f) => f.repoPath).at(-1)?.repoPath ?? null;
  const result = await findPastIncidents(lookup, { ...asking, file });
  const rendered = renderPastIncidents(
    result.found,
    Math.floor(budget * PAST_SHARE),
    (t) => redact(t, secrets).text,
    countTokens,
  );
  return {
    ...result,
    found: result.found.map(({ patch: _patch, ...rest }) => rest),
    text: rendered.text,
    tokens: rendered.tokens,
  };
}

const round = (n: number) => Math.round(n * 10000) / 10000;
