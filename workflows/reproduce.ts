/**
 * Step 3, reproduce: at most MAX_REPRODUCTION_ATTEMPTS tries. Each try, the model writes a
 * reproduction and up to MAX_VARIANTS hidden variants; fresh containers run the reproduction
 * REPRODUCTION_REPEATS times and each variant VARIANT_REPEATS_AT_GATE1 times; gate 1 must pass for
 * the reproduction (every run, the same failure). Variants that do not reproduce the bug are dropped
 * (recorded, not fatal). A failed try goes back to the model as feedback.
 */
import { log } from '@temporalio/workflow';
import { askModel } from './model-unavailable';
import type { IncidentRun } from './incident-run';
import type {
  AttemptFeedback,
  FidelityRule,
  ReproductionAttempt,
  ReproductionScript,
  RunSummary,
  VariantRecord,
  IncidentSignature,
} from './incident-types';
import {
  coverageRuns,
  MAX_VARIANTS,
  PARALLEL_RUNS,
  REPRODUCTION_REPEATS,
  VARIANT_REPEATS_AT_GATE1,
} from './proof-rules';
import { reproductionGate } from './reproduction-gate';
import { MAX_REPRODUCTION_ATTEMPTS, MODEL_ACTIVITY, SANDBOX_ACTIVITY } from './retry-rules';
import { TAG } from './log-tags';

export interface Reproduced {
  attempt: ReproductionAttempt;
  primary: ReproductionScript;
  /** The variants that reproduced the bug on their own: gate 2 checks each. */
  variants: ReproductionScript[];
  /** The primary's first run, whose output the fix author sees. */
  firstRun: RunSummary;
  rule: FidelityRule;
}

export async function reproduce(run: IncidentRun, signature: IncidentSignature): Promise<Reproduced | null> {
  const { incidentId, result } = run;
  const feedback: AttemptFeedback[] = [];
  for (let attempt = 1; attempt <= MAX_REPRODUCTION_ATTEMPTS; attempt++) {
    run.transition(`reproduce_attempt_${attempt}`);
    const authored = await askModel(() =>
      run
        .act(MODEL_ACTIVITY, `model writes the reproduction and hidden variants, attempt ${attempt}`)
        .writeReproduction({ incidentId, attempt, feedback, maxVariants: MAX_VARIANTS, runsIn: run.sandbox }),
    );
    run.countTokens(authored.model);
    if (!authored.model.ok || !authored.scriptPath || !authored.scriptSha256) {
      const reason = `The model's answer was refused: ${authored.model.reason}`;
      result.reproductionAttempts.push({ attempt, model: authored.model, gate: { passed: false, reason } });
      feedback.push({ attempt, reason });
      continue;
    }
    const primary: ReproductionScript = {
      name: 'reproduction',
      role: 'primary',
      path: authored.scriptPath,
      sha256: authored.scriptSha256,
    };
    const variants = authored.variants ?? [];
    const ran = await run
      .act(
        SANDBOX_ACTIVITY,
        `run the reproduction ${REPRODUCTION_REPEATS}x${variants.length ? ` and ${variants.length} hidden variants` : ''} in fresh containers (must FAIL)`,
      )
      .runReproductions({
        ...run.sandbox,
        incidentId,
        step: 'reproduce',
        attempt,
        parallel: PARALLEL_RUNS,
        scripts: [
          { ...primary, repeats: REPRODUCTION_REPEATS },
          ...variants.map((v) => ({ ...v, repeats: VARIANT_REPEATS_AT_GATE1 })),
        ].map((s) => ({ ...s, coverageRuns: coverageRuns(1, s, signature.check) })),
      });
    const primaryRuns = ran[0]?.runs ?? [];
    for (const r of primaryRuns) run.dockerLog(r, 'reproduction');
    const gate = reproductionGate(primaryRuns, signature);
    const variantRecords: VariantRecord[] = variants.map((v, i) => {
      const runs = ran[i + 1]?.runs ?? [];
      return {
        name: v.name,
        scriptPath: v.path,
        scriptSha256: v.sha256,
        gate: reproductionGate(runs, signature),
        ...(runs[0] ? { run: runs[0] } : {}),
      };
    });
    const record: ReproductionAttempt = {
      attempt,
      model: authored.model,
      scriptPath: primary.path,
      scriptSha256: primary.sha256,
      ...(primaryRuns[0] ? { run: primaryRuns[0] } : {}),
      runs: primaryRuns,
      ...(gate.rule ? { rule: gate.rule } : {}),
      variants: variantRecords,
      gate: { passed: gate.passed, reason: gate.reason },
    };
    result.reproductionAttempts.push(record);
    log.info(`${TAG.gate1} ${gate.reason}`, { incidentId });
    const kept = variants.filter((_, i) => variantRecords[i]?.gate.passed);
    if (variants.length)
      log.info(`${TAG.gate1} ${kept.length} of ${variants.length} hidden variants reproduce the bug`, { incidentId });
    if (gate.passed && gate.rule && primaryRuns[0]) {
      return { attempt: record, primary, variants: kept, firstRun: primaryRuns[0], rule: gate.rule };
    }
    feedback.push({
      attempt,
      reason: gate.reason,
      stdoutTail: primaryRuns[0]?.stdoutTail,
      stderrTail: primaryRuns[0]?.stderrTail,
    });
  }
  return null;
}
