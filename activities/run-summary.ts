/**
 * A guarded run, summarised for the workflow: what the runner signed (ran to its end, exit code), the
 * exception and where it came from, what coverage saw, what the tripwire saw, and output tails. The
 * full output and the records stay in the attempt folder; history gets paths and small facts.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { IN_CONTAINER } from '../sandbox/guarded-run';
import type { GuardedRunResult } from '../sandbox/guarded-run';
import type { SandboxResult } from '../sandbox/run-container';
import { innermostRepoFrame, normalizePath, repoStack, workspaceRelative } from '../workflows/repo-paths';
import { isLibraryPath, tail } from '../workflows/traceback';
import type { RunCoverage, RunSummary, TripwireEvent } from '../workflows/incident-types';
import { writeFileAtomic } from './incident-paths';

/** Exit code of a run the guard's tripwire ended (sandbox/runner/opsguard_guard.py). */
export const TRIPWIRE_EXIT = 86;

interface Frame {
  file: string;
  line: number;
  func: string;
}

/**
 * Container paths of frames, normalised and with symlinks inside the workspace resolved (on the host,
 * in the workspace copy), so `/workspace/tests/../mod.py` and `/workspace/compat.py -> core.py` name
 * the file they are.
 */
export async function resolveFrames<T extends { file: string }>(workspace: string, frames: T[]): Promise<T[]> {
  const root = await fs.realpath(workspace).catch(() => workspace);
  const cache = new Map<string, string>();
  const resolve = async (file: string): Promise<string> => {
    const normal = normalizePath(file);
    const rel = workspaceRelative(normal);
    if (rel === null) return normal;
    const hit = cache.get(rel);
    if (hit) return hit;
    const real = await fs.realpath(path.join(workspace, rel)).catch(() => null);
    const resolved =
      real && (real === root || real.startsWith(root + path.sep))
        ? `${IN_CONTAINER.workspace}/${path.relative(root, real).split(path.sep).join('/')}`
        : normal;
    cache.set(rel, resolved);
    return resolved;
  };
  return await Promise.all(frames.map(async (f) => ({ ...f, file: await resolve(f.file) })));
}

const text = (v: unknown) => (typeof v === 'string' ? v : '?');

function tripwireEvent(fields: Record<string, unknown>): TripwireEvent {
  const file = text(fields.file);
  return {
    event: text(fields.event),
    detail: typeof fields.detail === 'string' ? fields.detail : null,
    kind: (['suspect', 'script', 'orphan', 'workspace'].includes(String(fields.kind))
      ? fields.kind
      : 'suspect') as TripwireEvent['kind'],
    file: workspaceRelative(file) ?? file,
    func: text(fields.func),
    line: Number(fields.line ?? 0),
    ...(typeof fields.how === 'string' ? { how: fields.how } : {}),
  };
}

/** The tripwire's verdict on a run: the fatal event (if the guard ended it) and the notes. */
export function tripwireOf(run: GuardedRunResult): { fatal: TripwireEvent | null; notes: TripwireEvent[] } {
  const trips = run.records.data.filter((d) => d.kind === 'tripwire');
  const fatal = trips.find((d) => d.fields.fatal === true);
  const notes = trips
    .filter((d) => d.fields.fatal !== true)
    .slice(0, 10)
    .map((d) => tripwireEvent(d.fields));
  if (fatal) return { fatal: tripwireEvent(fatal.fields), notes };
  if (run.sandbox.exitCode === TRIPWIRE_EXIT && !run.records.end) {
    // The guard ended the process but its record is gone (the descriptor was redirected first).
    return {
      fatal: {
        event: '(record lost)',
        detail: null,
        kind: 'suspect',
        file: '?',
        func: '?',
        line: 0,
        how: 'the guard ended the run and its record did not arrive',
      },
      notes,
    };
  }
  return { fatal: null, notes };
}

interface OutcomeDetails {
  exception?: {
    type: string;
    mro: string[];
    message: string;
    frames: Frame[];
    script_check?: { kind: string; trivial: boolean; line: number; uses_repository?: boolean } | null;
  } | null;
  coverage?: {
    changed: Record<string, { statements: number[]; executed: number[] }>;
    functions: string[];
  } | null;
  /** Present when the runner's hang watch stopped the script (a hang incident's runs). */
  hang?: { after_seconds: number };
}

function coverageOf(details: OutcomeDetails): RunCoverage | null {
  const c = details.coverage;
  if (!c) return null;
  const byFile = Object.entries(c.changed).map(([file, v]) => ({
    file: workspaceRelative(file) ?? file,
    statements: v.statements.length,
    executed: v.executed.length,
  }));
  return {
    changedStatements: byFile.reduce((n, f) => n + f.statements, 0),
    executedChanged: byFile.reduce((n, f) => n + f.executed, 0),
    byFile,
    functions: c.functions.slice(0, 20).map((f) => {
      const at = f.lastIndexOf(':');
      return `${workspaceRelative(f.slice(0, at)) ?? f.slice(0, at)}${f.slice(at)}`;
    }),
  };
}

/** The container's plain facts, and the full output saved beside the run's records. */
export async function saveOutput(
  sandbox: SandboxResult,
  dir: string,
  keepTails: boolean,
  redactText: (text: string) => string = (t) => t,
): Promise<Omit<RunSummary, 'exception' | 'ranToEnd'>> {
  const stdoutPath = path.join(dir, 'stdout.txt');
  const stderrPath = path.join(dir, 'stderr.txt');
  // The repository's secrets never reach an artifact or history, even when the code prints them.
  const stdout = redactText(sandbox.stdout);
  const stderr = redactText(sandbox.stderr);
  await writeFileAtomic(stdoutPath, stdout);
  await writeFileAtomic(stderrPath, stderr);
  return {
    exitCode: sandbox.exitCode,
    timedOut: sandbox.timedOut,
    oomKilled: sandbox.oomKilled,
    durationMs: sandbox.durationMs,
    imageId: sandbox.imageId,
    limits: {
      memoryMb: sandbox.limits.memoryMb,
      cpus: sandbox.limits.cpus,
      timeoutSeconds: sandbox.limits.timeoutSeconds,
      pids: sandbox.limits.pids,
    },
    warnings: sandbox.warnings,
    stdoutTail: keepTails ? tail(stdout, 1500) : '',
    stderrTail: keepTails ? tail(stderr, 2500) : '',
    stdoutPath,
    stderrPath,
    outputTruncated: sandbox.stdoutTruncated || sandbox.stderrTruncated,
  };
}

/**
 * The records file is kept as evidence after its verdict was checked; its MAC cannot be checked
 * again (the run's key is gone), so secrets in it (an exception message quoting a value) are redacted.
 */
export async function redactRecordsFile(recordsPath: string, redactText: (text: string) => string): Promise<void> {
  const text = await fs.readFile(recordsPath, 'utf8').catch(() => null);
  if (text === null) return;
  const redacted = redactText(text);
  if (redacted !== text) await writeFileAtomic(recordsPath, redacted);
}

/** A reproduction run (opsguard_runner.py), summarised. */
export async function summariseReproductionRun(
  run: GuardedRunResult,
  opts: { workspace: string; dir: string; keepTails: boolean; redactText?: (text: string) => string },
): Promise<RunSummary> {
  const redactText = opts.redactText ?? ((t: string) => t);
  const base = await saveOutput(run.sandbox, opts.dir, opts.keepTails, redactText);
  await redactRecordsFile(run.recordsPath, redactText);
  const { fatal, notes } = tripwireOf(run);
  const end = run.records.end?.kind === 'outcome' ? run.records.end : null;
  const details = (end?.details ?? {}) as OutcomeDetails;
  let exception: RunSummary['exception'] = null;
  let hang: RunSummary['hang'];
  if (end && details.exception) {
    const e = details.exception;
    const frames = await resolveFrames(opts.workspace, e.frames);
    if (details.hang && typeof details.hang.after_seconds === 'number') {
      hang = { afterSeconds: details.hang.after_seconds, repoStack: repoStack(frames) };
    }
    const origin = frames
      .filter((f) => !isLibraryPath(f.file) && !normalizePath(f.file).startsWith(`${IN_CONTAINER.runner}/`))
      .at(-1);
    const raisedIn = !origin
      ? 'elsewhere'
      : normalizePath(origin.file).startsWith(`${IN_CONTAINER.scripts}/`)
        ? 'script'
        : workspaceRelative(origin.file) !== null
          ? 'repository'
          : 'elsewhere';
    // Raised by the script while repository code ran below it (the script's own signal handler, or a
    // callback): the repository frames it interrupted. A hang incident's gate 1 reads them.
    const interrupted = raisedIn === 'script' && origin ? repoStack(frames.slice(0, frames.lastIndexOf(origin))) : [];
    exception = {
      type: e.type,
      mro: e.mro,
      message: redactText(e.message).slice(0, 500),
      innermostRepoFrame: innermostRepoFrame(frames),
      raisedIn,
      ...(interrupted.length ? { interrupted } : {}),
      scriptCheck:
        raisedIn === 'script' && e.script_check
          ? {
              kind: e.script_check.kind,
              trivial: e.script_check.trivial,
              line: e.script_check.line,
              usesRepository: e.script_check.uses_repository === true,
            }
          : null,
    };
  }
  return {
    ...base,
    exception,
    ranToEnd: end ? end.header.ran_to_end : null,
    ...(end ? {} : { unverifiedReason: run.records.problem }),
    tripwire: fatal,
    notes,
    ...(hang ? { hang } : {}),
    coverage: end ? coverageOf(details) : null,
    recordsPath: run.recordsPath,
  };
}
