/**
 * The three things the model writes: a reproduction script, a fix (full file contents) and a PR
 * description. Each call saves the raw answer as an artifact and returns only small facts (paths,
 * hashes, token usage, or the reason the answer was refused).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type {
  AttemptFeedback,
  AuthoredFix,
  AuthoredScript,
  PrDescription,
  ReproductionScript,
  ToolUse,
} from '../workflows/incident-types';
import { sha256, writeFileAtomic } from './incident-paths';
import type { IncidentPaths } from './incident-paths';
import type { ModelClient } from './model-client';
import { parseFixAnswer, parseReproductionAnswer } from './model-answers';
import { FIX_SYSTEM, PR_SYSTEM, REPRODUCTION_SYSTEM, fixPrompt, prPrompt, reproductionPrompt } from './prompts';
import type { SandboxFacts } from './prompts';
import { loadSecretMap, redact } from './repo-secrets';
import { readContext } from './workspace';
import { DEFAULT_CONTEXT_TOKENS, incidentModelContext, loadIncidentIndex } from './context/incident-context';
import type { AskingExecution, ContextLimits, ModelContext } from './context/incident-context';
import { Context } from '@temporalio/activity';
import { retrievalTools } from './context/retrieval-tools';
import type { RetrievalSession } from './context/retrieval-tools';
import type { SecretMap } from './repo-secrets';
import type { IncidentContext } from './workspace';
import { applyEdits } from './fix-edits';
import type { FixAnswer, FixAnswerRaw, Parsed } from './model-answers';

/** How much of the repository a prompt may hold (worker/settings.ts repositories, the cache folder). */
export type PromptLimits = ContextLimits;

/** Retrieval tool calls the fix's model may make unless the worker says otherwise. */
export const DEFAULT_MODEL_TOOL_CALLS = 8;

/** The workflow execution this activity runs for (null outside a worker): past incidents leave it out. */
function askingExecution(): AskingExecution | null {
  try {
    const execution = Context.current().info.workflowExecution;
    return execution ? { workflowId: execution.workflowId, runId: execution.runId } : null;
  } catch {
    return null;
  }
}

/** Write a script read-only on the host too: it is pinned by its hash. */
async function pinScript(file: string, content: string): Promise<string> {
  await writeFileAtomic(file, content);
  await fs.chmod(file, 0o444);
  return sha256(content);
}

/** The prepared Python and packages (prepare-environment.ts), or null for incidents without that step. */
async function readSandboxFacts(paths: IncidentPaths): Promise<SandboxFacts | null> {
  const text = await fs.readFile(paths.environment, 'utf8').catch(() => null);
  return text ? (JSON.parse(text) as SandboxFacts) : null;
}

export async function writeReproduction(
  model: ModelClient,
  paths: IncidentPaths,
  args: { attempt: number; feedback: AttemptFeedback[]; maxVariants?: number; runsIn?: { hangAfterSeconds?: number } },
  limits: PromptLimits,
): Promise<AuthoredScript> {
  const ctx = await readContext(paths);
  const inRepo = ctx.frames.filter((f) => f.repoPath);
  const innermost = inRepo.at(-1);
  const completion = await model.complete({
    system: REPRODUCTION_SYSTEM,
    prompt: reproductionPrompt({
      errorLog: ctx.errorLog,
      exceptionType: ctx.exceptionType ?? 'the exception in the log',
      location: innermost
        ? `${innermost.repoPath}, function ${innermost.func}, line ${innermost.line}`
        : 'an unknown location',
      ...contextArgs(await incidentModelContext(paths, ctx, limits, askingExecution())),
      feedback: args.feedback,
      sandbox: await readSandboxFacts(paths),
      hangAfterSeconds: args.runsIn?.hangAfterSeconds,
    }),
  });
  const dir = paths.attempt('reproduce', args.attempt);
  await writeFileAtomic(path.join(dir, 'model-answer.md'), completion.text);
  const parsed = parseReproductionAnswer(completion.text, args.maxVariants ?? 0);
  const call = { usage: completion.usage, durationMs: completion.durationMs };
  if (!parsed.ok) return { model: { ok: false, reason: parsed.reason, ...call } };
  const scriptPath = path.join(dir, 'reproduction.py');
  const scriptSha256 = await pinScript(scriptPath, parsed.value.primary);
  const variants: ReproductionScript[] = [];
  for (const [i, content] of parsed.value.variants.entries()) {
    const name = `variant-${i + 1}`;
    const file = path.join(dir, `${name}.py`);
    variants.push({ name, role: 'variant', path: file, sha256: await pinScript(file, content) });
  }
  return { model: { ok: true, ...call }, scriptPath, scriptSha256, variants };
}

export async function writeFix(
  model: ModelClient,
  paths: IncidentPaths,
  args: { attempt: number; scriptPath: string; reproductionStderrPath: string; feedback: AttemptFeedback[] },
  limits: PromptLimits,
): Promise<AuthoredFix> {
  const ctx = await readContext(paths);
  const secrets = await loadSecretMap(paths.secrets);
  const context = await incidentModelContext(paths, ctx, limits, askingExecution());
  const retrieval = await retrievalFor(paths, ctx, limits, secrets);
  const completion = await model.complete({
    system: FIX_SYSTEM,
    prompt: fixPrompt({
      errorLog: ctx.errorLog,
      reproduction: await fs.readFile(args.scriptPath, 'utf8'),
      reproductionStderr: redact((await fs.readFile(args.reproductionStderrPath, 'utf8')).slice(-4000), secrets).text,
      ...contextArgs(context),
      feedback: args.feedback,
      sandbox: await readSandboxFacts(paths),
      tools: retrieval ? { maxCalls: retrieval.maxCalls, budgetTokens: retrieval.budgetTokens } : null,
    }),
    tools: retrieval
      ? {
          set: retrieval.session.tools,
          maxSteps: retrieval.maxCalls + 1,
          exhausted: () => retrieval.session.exhausted(),
        }
      : undefined,
  });
  const dir = paths.attempt('fix', args.attempt);
  await writeFileAtomic(path.join(dir, 'model-answer.md'), completion.text);
  const tools = retrieval ? toolUse(retrieval, completion.toolsRefused) : undefined;
  if (retrieval && tools)
    await writeFileAtomic(
      path.join(dir, 'tool-calls.json'),
      JSON.stringify({ ...tools, results: retrieval.session.results }, null, 2),
    );
  const answer = parseFixAnswer(completion.text);
  const shown = { ...shownTexts(context), ...retrieval?.session.readTexts };
  const parsed = answer.ok ? wholeFiles(answer.value, shown) : answer;
  const call = { usage: completion.usage, durationMs: completion.durationMs, ...(tools ? { tools } : {}) };
  if (!parsed.ok) return { model: { ok: false, reason: parsed.reason, ...call } };
  const proposalPath = path.join(dir, 'proposal.json');
  await writeFileAtomic(proposalPath, JSON.stringify(parsed.value, null, 2));
  return { model: { ok: true, ...call }, proposalPath, files: parsed.value.files.map((f) => f.path) };
}

/** The fix's retrieval tools on the baseline, when the worker allows any calls (OPSGUARD_MODEL_TOOL_CALLS). */
async function retrievalFor(paths: IncidentPaths, ctx: IncidentContext, limits: PromptLimits, secrets: SecretMap) {
  const maxCalls = limits.modelToolCalls ?? DEFAULT_MODEL_TOOL_CALLS;
  if (maxCalls <= 0) return null;
  const budgetTokens = limits.contextTokens ?? DEFAULT_CONTEXT_TOKENS;
  const { files, index } = await loadIncidentIndex(paths, ctx, limits);
  const session = retrievalTools({ root: paths.baseline, files, index, secrets, maxCalls, budgetTokens });
  return { session, maxCalls, budgetTokens };
}

function toolUse(
  r: { session: RetrievalSession; maxCalls: number; budgetTokens: number },
  refused: string | undefined,
): ToolUse {
  return {
    maxCalls: r.maxCalls,
    budgetTokens: r.budgetTokens,
    calls: r.session.calls,
    resultTokens: r.session.calls.reduce((a, c) => a + c.resultTokens, 0),
    ...(refused ? { refused } : {}),
  };
}

/** Every file the prompt showed, as its whole (redacted) text: whole files as shown, excerpted ones in full. */
function shownTexts(context: ModelContext): Record<string, string> {
  const whole = context.code.files.filter((f) => f.shown === 'whole').map((f): [string, string] => [f.path, f.content]);
  return { ...Object.fromEntries(whole), ...context.fullText };
}

function contextArgs(context: ModelContext) {
  return { context, withheld: context.withheld };
}

/**
 * Edits of a file shown in excerpts become its whole new content, applied to the text the model was
 * shown; edits of a file it was not shown are refused (it cannot know what it replaces).
 */
function wholeFiles(answer: FixAnswerRaw, shown: Record<string, string>): Parsed<FixAnswer> {
  const files: FixAnswer['files'] = [];
  for (const f of answer.files) {
    if ('content' in f) {
      files.push(f);
      continue;
    }
    const full = Object.hasOwn(shown, f.path) ? shown[f.path] : undefined;
    if (full === undefined)
      return {
        ok: false,
        reason: `${f.path} was not shown to you or read with a tool, so edits cannot be applied to it; give its complete content instead.`,
      };
    const applied = applyEdits(f.path, full, f.edits);
    if (!applied.ok) return applied;
    files.push({ path: f.path, content: applied.value });
  }
  return { ok: true, value: { summary: answer.summary, files } };
}

export async function writePrDescription(
  model: ModelClient,
  paths: IncidentPaths,
  args: { proposalPath: string; diffPath: string },
): Promise<PrDescription> {
  const ctx = await readContext(paths);
  const proposal = JSON.parse(await fs.readFile(args.proposalPath, 'utf8')) as { summary: string };
  const completion = await model.complete({
    system: PR_SYSTEM,
    prompt: prPrompt({
      errorLog: ctx.errorLog,
      summary: proposal.summary,
      diff: redact(await fs.readFile(args.diffPath, 'utf8'), await loadSecretMap(paths.secrets)).text,
    }),
  });
  const call = { usage: completion.usage, durationMs: completion.durationMs };
  const text = completion.text.trim();
  if (!text) return { model: { ok: false, reason: 'The PR description was empty.', ...call } };
  const descriptionPath = path.join(paths.workDir, 'pr-description.model.md');
  await writeFileAtomic(descriptionPath, `${text}\n`);
  return { model: { ok: true, ...call }, descriptionPath };
}
