/**
 * Reproduction runs: each script (the primary and its hidden variants), pinned by its hash, run by
 * OpsGuard's guarded runner in fresh containers, as often as the proof rules ask, a few at a time.
 * Before a patch the runs are gate 1's evidence; with one, gate 2's (the changed files are then
 * suspects for the tripwire, and coverage measures the changed lines).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type Docker from 'dockerode';
import { ApplicationFailure } from '@temporalio/activity';
import { IN_CONTAINER, runGuarded } from '../sandbox/guarded-run';
import type { GuardedSlotSource, RunEnvironment } from '../sandbox/guarded-run';
import type { SandboxLimits } from '../sandbox/limits';
import type { ScriptRuns, ScriptToRun } from '../workflows/incident-types';
import { guardSpecFor } from './changed-files';
import { sha256 } from './incident-paths';
import type { IncidentPaths } from './incident-paths';
import type { ChangedFile } from '../workflows/incident-types';
import { summariseReproductionRun } from './run-summary';
import { readsOf, saveReproductionReads } from './test-data';
import { modulesOf, saveReproductionModules } from './test-support';
import { loadSecretMap, redactor } from './repo-secrets';
import { inSandboxActivity } from './sandbox-activity';
import { ERROR_TYPES } from '../workflows/error-types';

export interface ReproductionRunsRequest {
  incidentId: string;
  /** Where the runs' folders go: the attempt folder. */
  outDir: string;
  scripts: ScriptToRun[];
  /** The patch under test (gate 2), or none (gate 1). */
  changed?: ChangedFile[];
  image: string;
  limits: SandboxLimits;
  parallel: number;
  environment?: RunEnvironment;
  /** A hang incident: the runner stops each script after this long and signs where it was. */
  hangAfterSeconds?: number;
}

/** The hang watch fires well inside the container's deadline, so the runner can still sign the stop. */
export function hangWatchSeconds(hangAfterSeconds: number | undefined, limits: SandboxLimits): number | null {
  if (!hangAfterSeconds || hangAfterSeconds <= 0) return null;
  const margin = Math.max(5, limits.timeoutSeconds / 4);
  return Math.max(1, Math.min(hangAfterSeconds, limits.timeoutSeconds - margin));
}

/** Run `tasks` with at most `n` at once, keeping their order. */
async function pool<T>(n: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = new Array<T>(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await (tasks[i] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, tasks.length)) }, worker));
  return out;
}

/** The memory the runner lets Python allocate: below the container's limit, so it is MemoryError, not a kill. */
export const memoryLimitBytes = (limits: SandboxLimits) => Math.floor(limits.memoryMb * 0.85) * 1024 * 1024;

export async function runReproductions(
  docker: Docker,
  paths: IncidentPaths,
  req: ReproductionRunsRequest,
  warm?: GuardedSlotSource,
): Promise<ScriptRuns[]> {
  for (const s of req.scripts) {
    if (sha256(await fs.readFile(s.path)) !== s.sha256) {
      throw ApplicationFailure.nonRetryable(
        `The reproduction script ${s.path} no longer matches its recorded hash`,
        ERROR_TYPES.artifactTampered,
      );
    }
  }
  const guard = req.changed
    ? await guardSpecFor(paths.workspace, req.changed)
    : { changed_files: [], changed_lines: {} };
  const redactText = redactor(await loadSecretMap(paths.secrets));
  const hangAfter = hangWatchSeconds(req.hangAfterSeconds, req.limits);
  const read: string[][] = [];
  const loaded: string[][] = [];
  const tasks = req.scripts.flatMap((s) =>
    Array.from({ length: s.repeats }, (_, k) => async () => {
      const dir = path.join(req.outDir, `${s.name}-run-${k + 1}`);
      const inContainer = `${IN_CONTAINER.scripts}/${s.name}.py`;
      const run = await inSandboxActivity(req.image, (signal) =>
        runGuarded(
          docker,
          {
            entry: 'opsguard_runner.py',
            image: req.image,
            limits: req.limits,
            workspace: paths.workspace,
            runDir: dir,
            scripts: [{ hostPath: s.path, name: `${s.name}.py` }],
            incidentId: req.incidentId,
            purpose: req.changed ? 'verification' : 'reproduction',
            environment: req.environment,
            signal,
            spec: {
              script: inContainer,
              scripts: [inContainer],
              memory_limit_bytes: memoryLimitBytes(req.limits),
              // Only the runs a gate reads coverage from (proof-rules.ts coverageRuns); all when unsaid.
              coverage: k < (s.coverageRuns ?? s.repeats),
              ...(hangAfter ? { hang_after_seconds: hangAfter } : {}),
              ...guard,
            },
          },
          warm,
        ),
      );
      read.push(readsOf(run.records.data));
      loaded.push(modulesOf(run.records.data));
      return await summariseReproductionRun(run, { workspace: paths.workspace, dir, keepTails: k === 0, redactText });
    }),
  );
  const results = await pool(req.parallel, tasks);
  // Gate 1's runs: what the application code reads, so the test data check can tell it from the tests'.
  if (!req.changed) {
    await saveReproductionReads(req.outDir, read);
    // And the modules it loads, so the test support check can tell the application's from the tests'.
    await saveReproductionModules(req.outDir, loaded);
  }
  let i = 0;
  return req.scripts.map((s) => ({ name: s.name, role: s.role, runs: results.slice(i, (i += s.repeats)) }));
}
