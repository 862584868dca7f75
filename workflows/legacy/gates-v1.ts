// FROZEN with legacy/remediate-incident-v1.ts: the gates as incidents started before proof v2 ran them.
/**
 * The verification gates (pure predicates over sandbox results). The workflow moves on only when
 * a gate passes; the verdict's reason is what the model is told when it does not.
 *
 * - Gate 1 (reproduced): the runner reports the incident's exception type (or a subclass), raised
 *   through the incident's innermost in-repository frame (file and function). Exiting 0, raising
 *   from the script itself, or crashing elsewhere is not a reproduction.
 * - Gate 2 (fixed): the runner reports the unchanged reproduction ran to its end, exit code 0.
 * - Regression gate: every test that passed before the patch passes after it (pass-to-pass), and
 *   every test that failed before with the incident's exception at its location passes after it
 *   (fail-to-pass, inferred from the incident).
 */
import { shortTypeName } from '../traceback';
import type { GateVerdict, RunSummary, TestOutcome, TestRunSummary } from '../incident-types';

/** What identifies the incident's failure: its exception type and innermost repository frame. */
export interface IncidentSignature {
  type: string;
  location: { file: string; func: string } | null;
}

/** Where the sandbox mounts the workspace; frames under it are the repository's code. */
export const WORKSPACE_IN_CONTAINER = '/workspace';
const WORKSPACE_PREFIX = `${WORKSPACE_IN_CONTAINER}/`;

/** The innermost frame inside the workspace, as a repository-relative location. */
export function innermostRepoFrame(frames: { file: string; func: string }[]): { file: string; func: string } | null {
  const f = frames.filter((fr) => fr.file.startsWith(WORKSPACE_PREFIX)).at(-1);
  return f ? { file: f.file.slice(WORKSPACE_PREFIX.length), func: f.func } : null;
}

function killed(run: RunSummary): string | null {
  if (run.timedOut) return `the run was killed at its ${run.limits.timeoutSeconds} s deadline`;
  if (run.oomKilled) return `the run was killed for exceeding ${run.limits.memoryMb} MiB of memory (out of memory)`;
  return null;
}

const where = (loc: { file: string; func: string } | null) =>
  loc ? `${loc.file}:${loc.func}` : 'the reproduction script itself';

/** True when an exception (with its base classes) is the incident's type or a subclass. */
export function isIncidentType(mro: string[], type: string): boolean {
  const expected = shortTypeName(type);
  return mro.some((t) => shortTypeName(t) === expected);
}

export function reproductionGate(run: RunSummary, incident: IncidentSignature): GateVerdict {
  const expected = shortTypeName(incident.type);
  const k = killed(run);
  if (k) return { passed: false, reason: `Not reproduced: ${k}.` };
  if (run.ranToEnd === null) {
    return {
      passed: false,
      reason: `Not reproduced: the process ended (exit code ${run.exitCode}) without the runner's outcome (os._exit, a crash or a kill), so nothing was observed.`,
    };
  }
  if (run.ranToEnd) {
    return {
      passed: false,
      reason: `Not reproduced: the script ran to its end and exited 0, so the bug did not happen (expected ${expected}).`,
    };
  }
  const ex = run.exception;
  if (!ex)
    return {
      passed: false,
      reason: `Not reproduced: exit code ${run.exitCode} with no exception reported (expected ${expected}).`,
    };
  if (ex.type === 'SystemExit')
    return {
      passed: false,
      reason: `Not reproduced: the script called sys.exit(${ex.message}) instead of failing with ${expected}.`,
    };
  if (!isIncidentType(ex.mro, incident.type)) {
    return {
      passed: false,
      reason: `Not reproduced: the script raised ${ex.type} (${ex.message.slice(0, 200)}) in ${where(ex.innermostRepoFrame)}, expected ${expected}.`,
    };
  }
  if (incident.location) {
    const at = ex.innermostRepoFrame;
    if (!at || at.file !== incident.location.file || at.func !== incident.location.func) {
      return {
        passed: false,
        reason: `Not reproduced: ${ex.type} was raised in ${where(at)}, not through the incident's location ${where(incident.location)}. Call the repository's code so that it raises there; do not raise the exception yourself.`,
      };
    }
    return {
      passed: true,
      reason: `Reproduced: ${ex.type}: ${ex.message.slice(0, 200)} raised through ${where(at)}, as in the incident.`,
    };
  }
  return {
    passed: true,
    reason: `Reproduced by type alone (the incident's log has no in-repository frame): ${ex.type}: ${ex.message.slice(0, 200)}.`,
  };
}

export function fixGate(run: RunSummary): GateVerdict {
  const k = killed(run);
  if (k) return { passed: false, reason: `Not fixed: ${k}.` };
  if (run.ranToEnd === null) {
    return {
      passed: false,
      reason: `Not fixed: the process ended (exit code ${run.exitCode}) without the runner's outcome, so the reproduction did not run to its end (os._exit, a crash or a kill).`,
    };
  }
  if (!run.ranToEnd) {
    const ex = run.exception;
    if (ex?.type === 'SystemExit') {
      return {
        passed: false,
        reason: `Not fixed: sys.exit(${ex.message}) ended the reproduction before its end (raised in ${where(ex.innermostRepoFrame)}).`,
      };
    }
    return {
      passed: false,
      reason: `Not fixed: the reproduction still fails (exit code ${run.exitCode}${ex ? ` with ${ex.type}: ${ex.message.slice(0, 200)} in ${where(ex.innermostRepoFrame)}` : ''}).`,
    };
  }
  if (run.exitCode !== 0)
    return {
      passed: false,
      reason: `Not fixed: the reproduction ran to its end but the process exited ${run.exitCode}.`,
    };
  return { passed: true, reason: 'Fixed: the reproduction ran to its end and exited 0 with the patch applied.' };
}

/**
 * A fix attempt's overall verdict: gate 2's when it failed, else the regression gate's (when the
 * tests ran). Accepted means both passed.
 */
export function fixAttemptVerdict(attempt: { gate: GateVerdict; testsGate?: GateVerdict }): GateVerdict {
  return attempt.gate.passed && attempt.testsGate ? attempt.testsGate : attempt.gate;
}

/** Per-test results, as OpsGuard's pytest plugin reports them. */
export interface TestResults {
  tests: Record<
    string,
    {
      outcome: TestOutcome;
      exception: { type: string; mro: string[]; frames: { file: string; func: string }[] } | null;
    }
  >;
  exitStatus: number;
}

/** Tests that fail before the patch with the incident's exception through the incident's location. */
export function failToPassCandidates(before: TestResults, incident: IncidentSignature): string[] {
  return Object.entries(before.tests)
    .filter(([, r]) => {
      if (r.outcome === 'passed' || r.outcome === 'skipped' || !r.exception) return false;
      if (!isIncidentType(r.exception.mro, incident.type)) return false;
      if (!incident.location) return true;
      const at = innermostRepoFrame(r.exception.frames);
      return at?.file === incident.location.file && at.func === incident.location.func;
    })
    .map(([id]) => id)
    .sort();
}

export function regressionGate(
  before: TestResults,
  after: TestResults,
  failToPass: string[],
): GateVerdict & { regression: NonNullable<TestRunSummary['regression']> } {
  const passedBefore = Object.keys(before.tests).filter((id) => before.tests[id]?.outcome === 'passed');
  const broken = passedBefore.filter((id) => after.tests[id]?.outcome !== 'passed').sort();
  const stillFailing = failToPass.filter((id) => after.tests[id]?.outcome !== 'passed');
  const regression = {
    passToPass: { count: passedBefore.length, broken },
    failToPass: { count: failToPass.length, stillFailing },
  };
  const describe = (ids: string[]) =>
    ids
      .slice(0, 10)
      .map((id) => {
        const r = after.tests[id];
        return `${id} (${r ? `${r.outcome}${r.exception ? `: ${r.exception.type}` : ''}` : 'missing after the patch'})`;
      })
      .join(', ');
  if (broken.length) {
    return {
      passed: false,
      regression,
      reason: `Regression: ${broken.length} of ${passedBefore.length} tests that passed before the patch do not pass after it: ${describe(broken)}.`,
    };
  }
  if (stillFailing.length) {
    return {
      passed: false,
      regression,
      reason: `Incomplete: ${stillFailing.length} of ${failToPass.length} tests that failed with the incident's exception still do not pass: ${describe(stillFailing)}.`,
    };
  }
  return {
    passed: true,
    regression,
    reason: `Repository tests: all ${passedBefore.length} that passed before still pass; ${failToPass.length} that failed with the incident's exception now pass.`,
  };
}

/** Without per-test results (a custom testCommand): compare the command's exit status. */
export function exitStatusGate(before: TestRunSummary | undefined, after: TestRunSummary): GateVerdict {
  if (!after.ran) return { passed: true, reason: `Repository tests not run: ${after.reason ?? 'none found'}.` };
  if (before?.ran && !before.passed) {
    return {
      passed: true,
      reason: `The test command failed before the patch as well (exit status compared only: no per-test results for a custom testCommand).`,
    };
  }
  if (!after.passed)
    return {
      passed: false,
      reason: `Regression: the test command passed before the patch and fails after it (exit code ${after.run?.exitCode}).`,
    };
  return {
    passed: true,
    reason:
      'The test command passes after the patch (exit status compared only: no per-test results for a custom testCommand).',
  };
}
