/**
 * The verification gates (pure predicates over sandbox results). The workflow moves on only when
 * a gate passes; the verdict's reason is what the model is told when it does not.
 */
import { shortTypeName } from './traceback';
import type { GateVerdict, RunSummary, TestRunSummary } from './incident-types';

function abnormal(run: RunSummary): string | null {
  if (run.timedOut) return `the run was killed at its ${run.limits.timeoutSeconds} s deadline`;
  if (run.oomKilled) return `the run was killed for exceeding ${run.limits.memoryMb} MiB of memory`;
  return null;
}

/**
 * Gate 1 (reproduced): the script must FAIL, with the incident's exception type. A script that
 * exits 0 has not reproduced anything (a hallucination); a different exception is a different bug.
 */
export function reproductionGate(run: RunSummary, expectedType: string): GateVerdict {
  const expected = shortTypeName(expectedType);
  const killed = abnormal(run);
  if (killed) return { passed: false, reason: `Not reproduced: ${killed}.` };
  if (run.exitCode === 0) {
    return {
      passed: false,
      reason: `Not reproduced: the script exited 0, so the bug did not happen (expected ${expected}).`,
    };
  }
  if (!run.exception) {
    return {
      passed: false,
      reason: `Not reproduced: exit code ${run.exitCode} but no Python exception in stderr (expected ${expected}).`,
    };
  }
  const seen = shortTypeName(run.exception.type);
  if (seen !== expected) {
    return {
      passed: false,
      reason: `Not reproduced: the script raised ${run.exception.type} (${run.exception.message.slice(0, 200)}), expected ${expected}.`,
    };
  }
  return {
    passed: true,
    reason: `Reproduced: exit code ${run.exitCode} with ${run.exception.type}: ${run.exception.message.slice(0, 200)}`,
  };
}

/** Gate 2 (fixed): the unchanged reproduction must now PASS (exit 0) with the patch applied. */
export function fixGate(run: RunSummary): GateVerdict {
  const killed = abnormal(run);
  if (killed) return { passed: false, reason: `Not fixed: ${killed}.` };
  if (run.exitCode !== 0) {
    const ex = run.exception ? ` with ${run.exception.type}: ${run.exception.message.slice(0, 200)}` : '';
    return { passed: false, reason: `Not fixed: the reproduction still fails (exit code ${run.exitCode}${ex}).` };
  }
  return { passed: true, reason: 'Fixed: the reproduction exits 0 with the patch applied.' };
}

/** Regression gate: tests that passed before the patch must still pass after it. */
export function testsGate(before: TestRunSummary | undefined, after: TestRunSummary): GateVerdict {
  if (!after.ran) return { passed: true, reason: `Repository tests not run: ${after.reason ?? 'none found'}.` };
  if (before?.ran && !before.passed) {
    return after.passed
      ? { passed: true, reason: 'Repository tests pass after the patch (they failed before it).' }
      : { passed: true, reason: 'Repository tests failed before the patch as well; not held against it.' };
  }
  if (!after.passed) {
    return {
      passed: false,
      reason: `Regression: the repository's tests passed before the patch and fail after it (exit code ${after.run?.exitCode}).`,
    };
  }
  return { passed: true, reason: 'Repository tests pass after the patch.' };
}
