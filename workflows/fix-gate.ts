/**
 * Gate 2 (pure): does the patch really fix the bug? With the patch applied:
 *
 * - the unchanged primary reproduction runs to its end and exits 0, every run, on the runner's signed
 *   word (no run the tripwire ended: a fix may not inspect the interpreter);
 * - every hidden variant (other inputs, same bug; the fix author never saw them) passes too, so a fix
 *   that special-cases the reproduction's input is refused;
 * - the reproduction executed at least one statement the patch changed: a reproduction that passes
 *   without touching the change proves nothing about it (SWT-bench's coverage idea).
 *
 * The verdict's reason is what the model is told next; for a hidden variant it names the failure but
 * not the variant's input, so the next attempt cannot tune itself to it.
 */
import { unusableRun } from './reproduction-gate';
import type { GateVerdict, ProofCheck, RunSummary } from './incident-types';

/** Gate 2 for one run of a script. */
export function fixRunVerdict(run: RunSummary): GateVerdict {
  const unusable = unusableRun(run, 'the patched code');
  if (unusable) return { passed: false, reason: `Not fixed: ${unusable}.` };
  if (run.hang) {
    const stoppedIn = run.hang.repoStack.at(-1);
    return {
      passed: false,
      reason: `Not fixed: the reproduction still hangs: it was still running after ${run.hang.afterSeconds} s, in ${stoppedIn ? `${stoppedIn.file}:${stoppedIn.func}` : 'code outside the repository'}.`,
    };
  }
  if (!run.ranToEnd) {
    const ex = run.exception;
    if (ex?.type === 'SystemExit') {
      return { passed: false, reason: `Not fixed: sys.exit(${ex.message}) ended the reproduction before its end.` };
    }
    return {
      passed: false,
      reason: `Not fixed: the reproduction still fails (exit code ${run.exitCode}${ex ? ` with ${ex.type}: ${ex.message.slice(0, 200)}` : ''}).`,
    };
  }
  if (run.exitCode !== 0) {
    return {
      passed: false,
      reason: `Not fixed: the reproduction ran to its end but the process exited ${run.exitCode}.`,
    };
  }
  return { passed: true, reason: 'Fixed: the reproduction ran to its end and exited 0 with the patch applied.' };
}

export interface FixGateInput {
  primary: RunSummary[];
  variants: { name: string; run: RunSummary }[];
}

export interface FixGateVerdict extends GateVerdict {
  checks: ProofCheck[];
  variantResults: { name: string; passed: boolean }[];
}

/** Gate 2 over the primary's repeated runs, the hidden variants and coverage of the change. */
export function fixGate({ primary, variants }: FixGateInput): FixGateVerdict {
  const checks: ProofCheck[] = [];
  const variantResults = variants.map((v) => ({ name: v.name, passed: fixRunVerdict(v.run).passed }));
  const verdict = (passed: boolean, reason: string): FixGateVerdict => ({ passed, reason, checks, variantResults });

  // A tripwire anywhere is the first thing the model hears: it explains every other failure.
  const tripped = [...primary, ...variants.map((v) => v.run)].find((r) => r.tripwire);
  if (tripped) {
    const reason = fixRunVerdict(tripped).reason;
    checks.push({ name: 'tripwire', status: 'failed', detail: reason });
    return verdict(false, reason);
  }
  checks.push({ name: 'tripwire', status: 'passed', detail: 'no introspection from a changed file in any run' });

  const runs = primary.map(fixRunVerdict);
  const passedRuns = runs.filter((v) => v.passed).length;
  const firstFailure = runs.find((v) => !v.passed);
  if (firstFailure) {
    const flaky = passedRuns > 0;
    const reason = flaky
      ? `Flaky: the reproduction passed ${passedRuns} of ${runs.length} runs with the patch (${firstFailure.reason}). A fix must make it pass every time.`
      : firstFailure.reason;
    checks.push({ name: `reproduction passes (${runs.length} runs)`, status: 'failed', detail: reason });
    return verdict(false, reason);
  }
  checks.push({
    name: `reproduction passes (${runs.length} runs)`,
    status: 'passed',
    detail: `ran to its end and exited 0 in ${runs.length} of ${runs.length} fresh containers`,
  });

  const coverage = primary[0]?.coverage;
  if (!coverage) {
    checks.push({
      name: 'reproduction executes the change',
      status: 'not_run',
      detail: 'coverage.py did not measure the run',
    });
  } else if (coverage.changedStatements === 0) {
    checks.push({
      name: 'reproduction executes the change',
      status: 'not_run',
      detail: 'the patch changes no executable Python statement (data or configuration files only)',
    });
  } else if (coverage.executedChanged === 0) {
    const reason = `Not fixed: the reproduction passed without executing any of the ${coverage.changedStatements} statements the patch changed, so the change cannot be what made it pass. Change the code the reproduction runs.`;
    checks.push({ name: 'reproduction executes the change', status: 'failed', detail: reason });
    return verdict(false, reason);
  } else {
    checks.push({
      name: 'reproduction executes the change',
      status: 'passed',
      detail: `${coverage.executedChanged} of ${coverage.changedStatements} changed statements ran (${coverage.byFile.map((f) => `${f.file}: ${f.executed}/${f.statements}`).join(', ')})`,
    });
  }

  if (!variants.length) {
    checks.push({
      name: 'hidden variants pass',
      status: 'not_run',
      detail: 'no hidden variant was checked (the model gave none that reproduced the bug)',
    });
  } else {
    const failing = variants.filter((_, i) => !variantResults[i]?.passed);
    if (failing.length) {
      const ex = failing[0]?.run.exception;
      const how = failing[0]?.run.hang
        ? `hang (still running after ${failing[0].run.hang.afterSeconds} s)`
        : ex
          ? `fails with ${ex.type}`
          : fixRunVerdict(failing[0]?.run as RunSummary).reason.replace(/^Not fixed: /, '');
      const reason = `Overfit: ${failing.length} of ${variants.length} hidden variants of the reproduction (the same bug with other inputs, which you were not shown) still ${how}. Fix the bug for every input, not for the reproduction's.`;
      checks.push({ name: `hidden variants pass (${variants.length})`, status: 'failed', detail: reason });
      return verdict(false, reason);
    }
    checks.push({
      name: `hidden variants pass (${variants.length})`,
      status: 'passed',
      detail: `${variants.map((v) => v.name).join(', ')}: each ran to its end and exited 0`,
    });
  }
  return verdict(
    true,
    `Fixed: the reproduction passed in all ${runs.length} runs${variants.length ? ` and ${variants.length} hidden variant${variants.length > 1 ? 's' : ''} passed` : ''}, executing the change.`,
  );
}

/**
 * A fix attempt's overall verdict: gate 2's when it failed, else the regression gate's (when the
 * tests ran). Accepted means both passed ("not verified" tests do not refuse, and the evidence says so).
 */
export function fixAttemptVerdict(attempt: { gate: GateVerdict; testsGate?: GateVerdict }): GateVerdict {
  return attempt.gate.passed && attempt.testsGate ? attempt.testsGate : attempt.gate;
}
