/**
 * Step 5, fix: at most MAX_FIX_ATTEMPTS tries. Each try, the model returns full file contents (it
 * sees the primary reproduction only, never the hidden variants); the patch policy checks them and
 * the patch engine diffs and writes them into the workspace; fresh containers run the unchanged
 * reproduction FIX_REPEATS times and every kept variant; gate 2 judges those runs (the tripwire,
 * every run passing, the variants, coverage of the change), then the repository's tests run and the
 * regression gate compares them with the baseline. A refused try restores the workspace and goes
 * back to the model as feedback.
 */
import { log } from '@temporalio/workflow';
import { fixAttemptVerdict, fixGate } from './fix-gate';
import { askModel } from './model-unavailable';
import type { IncidentRun } from './incident-run';
import type { AttemptFeedback, FixAttempt, GateVerdict, ScriptToRun, TestRunSummary } from './incident-types';
import { coverageRuns, FIX_REPEATS, PARALLEL_RUNS, VARIANT_REPEATS_AT_GATE2 } from './proof-rules';
import { testChecks } from './regression-gate';
import type { Reproduced } from './reproduce';
import { FILES_ACTIVITY, MAX_FIX_ATTEMPTS, MODEL_ACTIVITY, SANDBOX_ACTIVITY } from './retry-rules';
import { TAG } from './log-tags';

export interface Fixed {
  attempt: FixAttempt;
  proposalPath: string;
  diffPath: string;
  /** The scripts gate 2 ran with the patch (the reproduction and the hidden variants), as it ran them. */
  scripts: ScriptToRun[];
}

/** The tests' verdict when there was no per-test comparison to make. */
function testsNotCompared(tests: TestRunSummary): GateVerdict {
  return { passed: true, reason: `Repository tests not run: ${tests.reason ?? 'none found'}.` };
}

export async function fix(run: IncidentRun, reproduced: Reproduced, baseline: TestRunSummary): Promise<Fixed | null> {
  const { incidentId, result, input } = run;
  const feedback: AttemptFeedback[] = [];
  const baselineForGate = baseline.resultsPath
    ? {
        resultsPath: baseline.resultsPath,
        failToPass: baseline.failToPassCandidates ?? [],
        knownFailing: input.knownFailingTests ?? [],
      }
    : undefined;

  for (let attempt = 1; attempt <= MAX_FIX_ATTEMPTS; attempt++) {
    run.transition(`fix_attempt_${attempt}`);
    const authored = await askModel(() =>
      run.act(MODEL_ACTIVITY, `model writes fix, attempt ${attempt}`).writeFix({
        incidentId,
        attempt,
        scriptPath: reproduced.primary.path,
        reproductionStderrPath: reproduced.firstRun.stderrPath,
        feedback,
        runsIn: run.sandbox,
      }),
    );
    run.countTokens(authored.model);
    if (!authored.model.ok || !authored.proposalPath) {
      const reason = `The model's answer was refused: ${authored.model.reason}`;
      result.fixAttempts.push({ attempt, model: authored.model, changedFiles: [], gate: { passed: false, reason } });
      feedback.push({ attempt, reason });
      continue;
    }
    const applyArgs = { incidentId, attempt, proposalPath: authored.proposalPath, patchPolicy: input.patchPolicy };
    const applied = await run
      .act(FILES_ACTIVITY, `check the patch policy, diff and apply fix ${attempt}`)
      .applyFix(applyArgs);
    if (!applied.ok) {
      result.fixAttempts.push({
        attempt,
        model: authored.model,
        changedFiles: [],
        patchRefusal: applied.reason,
        gate: { passed: false, reason: applied.reason },
      });
      log.info(`${TAG.patch} refused: ${applied.reason}`, { incidentId });
      feedback.push({ attempt, reason: applied.reason });
      continue; // a refused patch wrote nothing: no restore needed
    }

    run.appliedFix = applyArgs; // applied again on another worker if the incident moves
    const variants = reproduced.variants;
    const scripts: ScriptToRun[] = [
      { ...reproduced.primary, repeats: FIX_REPEATS },
      ...variants.map((v) => ({ ...v, repeats: VARIANT_REPEATS_AT_GATE2 })),
    ].map((s) => ({ ...s, coverageRuns: coverageRuns(2, s) }));
    const ran = await run
      .act(
        SANDBOX_ACTIVITY,
        `re-run the reproduction ${FIX_REPEATS}x${variants.length ? ` and ${variants.length} hidden variants` : ''} with fix ${attempt} (must PASS)`,
      )
      .runReproductions({
        ...run.sandbox,
        incidentId,
        step: 'fix',
        attempt,
        parallel: PARALLEL_RUNS,
        changed: applied.changed,
        scripts,
      });
    const primaryRuns = ran[0]?.runs ?? [];
    for (const r of primaryRuns) run.dockerLog(r, 'verification');
    const variantRuns = variants.flatMap((v, i) => {
      const r = ran[i + 1]?.runs[0];
      return r ? [{ name: v.name, run: r }] : [];
    });
    const gate = fixGate({ primary: primaryRuns, variants: variantRuns });
    log.info(`${TAG.gate2} ${gate.reason}`, { incidentId });
    const record: FixAttempt = {
      attempt,
      model: authored.model,
      changedFiles: applied.changedFiles,
      diffPath: applied.diffPath,
      ...(applied.diffSha256 ? { diffSha256: applied.diffSha256 } : {}),
      ...(primaryRuns[0] ? { run: primaryRuns[0] } : {}),
      runs: primaryRuns,
      variantRuns: variantRuns.map((v, i) => ({ ...v, passed: gate.variantResults[i]?.passed ?? false })),
      gate: { passed: gate.passed, reason: gate.reason },
      checks: gate.checks,
    };
    result.fixAttempts.push(record);
    if (gate.passed) {
      const tests = await run.act(SANDBOX_ACTIVITY, `run the repository tests with fix ${attempt}`).runRepoTests({
        ...run.sandbox,
        incidentId,
        testCommand: input.testCommand,
        label: `fix-${attempt}`,
        changed: applied.changed,
        baseline: baselineForGate,
      });
      record.tests = tests;
      record.testsGate = tests.verdict ?? testsNotCompared(tests);
      record.checks = [...gate.checks, ...testChecks(tests)];
      log.info(`${TAG.tests} ${record.testsGate.reason}`, { incidentId });
    }
    const verdict = fixAttemptVerdict(record);
    if (verdict.passed)
      return { attempt: record, proposalPath: authored.proposalPath, diffPath: applied.diffPath, scripts };

    const shown = record.gate.passed ? record.tests?.run : primaryRuns[0];
    feedback.push({ attempt, reason: verdict.reason, stdoutTail: shown?.stdoutTail, stderrTail: shown?.stderrTail });
    run.transition(`restore_workspace_${attempt}`);
    await run.act(FILES_ACTIVITY, 'restore the workspace to the baseline').restoreWorkspace({ incidentId });
    run.appliedFix = undefined;
  }
  return null;
}
