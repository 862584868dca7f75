/**
 * remediateIncident: the zero-trust remediation loop as a Temporal workflow, read top to bottom like
 * the flowchart in ARCHITECTURE.md:
 *   setup_workspace -> classify_error -> (infra | unclassified: report, end)
 *   -> prepare_environment (profile, Python, dependencies: environment_failed ends it)
 *   -> reproduce (gate 1: the reproduction FAILS like the incident, every run)
 *   -> baseline tests -> fix (gate 2: it PASSES with the patch, every run, hidden variants too;
 *      the repository's tests do not regress) -> proof artifacts -> a person decides
 *   -> (approved) delivery: branch, commit, push, pull request (deliver.ts; delivered | delivery_failed).
 * The model only returns text through activities; every decision is made here, from gate verdicts.
 *
 * Incidents started before proof v2 (hidden variants, repeated runs, the signed runner) continue on
 * the frozen code in legacy/remediate-incident-v1.ts, so their histories replay unchanged.
 */
import {
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  log,
  patched,
  workflowInfo,
} from '@temporalio/workflow';
import { CLASSIFY_V2, CLASSIFY_V3, classifyError, sameClassification } from './classify-error';
import { HANG_AFTER_SECONDS } from './proof-rules';
import { fix } from './fix';
import { openIncident } from './incident-run';
import type { IncidentRun } from './incident-run';
import type { Classification } from './classify-error';
import { ModelUnavailable } from './model-unavailable';
import { validateIncidentInput } from './incident-input';
import type { RemediationResult } from './incident-types';
import { remediateIncidentV1 } from './legacy/remediate-incident-v1';
import { proveAndDecide } from './prove-and-decide';
import { reproduce } from './reproduce';
import {
  FILES_ACTIVITY,
  MAX_FIX_ATTEMPTS,
  MAX_REPRODUCTION_ATTEMPTS,
  PREPARE_ACTIVITY,
  SANDBOX_ACTIVITY,
} from './retry-rules';
import { describeTests, incidentSignature, reproductionCriterion } from './summaries';
import { parseTraceback } from './traceback';
import { ERROR_TYPES } from './error-types';
import { TAG } from './log-tags';

/** The patch id marking incidents that run the proof-v2 code below. */
export const PROOF_V2 = 'proof-v2';
/** The patch id marking incidents with the prepare_environment step (Python, dependencies, profile). */
export const ENVIRONMENT_V1 = 'environment-v1';
/** The patch id marking incidents whose decisions are bound to the patch hash and the approval policy. */
export const APPROVAL_V2 = 'approval-v2';
/** The patch id marking incidents that end `cancelled` (with their artifacts) when an operator cancels them. */
export const CANCEL_V1 = 'cancel-v1';

export async function remediateIncident(rawInput: unknown): Promise<RemediationResult> {
  if (!patched(PROOF_V2)) return await remediateIncidentV1(rawInput);
  const validated = validateIncidentInput(rawInput);
  if (!validated.ok) {
    throw ApplicationFailure.nonRetryable(
      `Invalid incident input: ${validated.problems.join('; ')}`,
      ERROR_TYPES.invalidIncidentInput,
    );
  }
  const run = openIncident(validated.input, workflowInfo().workflowId, patched(APPROVAL_V2));
  try {
    return await runIncident(run);
  } catch (err) {
    // Cancelled by an operator (`opsguard cancel`, `temporal workflow cancel`): running containers are
    // stopped by their activities; what was known is written, and the incident ends `cancelled`.
    if (!isCancellation(err) || !patched(CANCEL_V1)) throw err;
    const step = run.tracker.step;
    return await CancellationScope.nonCancellable(() =>
      run.finish('cancelled', `Cancelled by an operator during step ${step}; nothing was delivered after it.`),
    );
  }
}

/** Steps 1 to 9, in order (remediateIncident adds the cancellation ending around them). */
async function runIncident(run: IncidentRun): Promise<RemediationResult> {
  const { incidentId, result, input } = run;

  // 1. An isolated copy of the repository; the original is only read.
  run.transition('setup_workspace');
  const workspace = await run.act(FILES_ACTIVITY, 'copy the repository into an isolated workspace').setupWorkspace({
    incidentId,
    repoPath: input.repoPath,
    errorLog: input.errorLog,
  });
  result.redactions = workspace.redactions;
  if (workspace.origin) result.origin = workspace.origin;
  run.pin(workspace); // later steps go to this worker (host-pinning.ts)

  // 2. Classification: pure rules over the log and where its frames land in the repository.
  run.transition('classify_error');
  const classifyArgs = {
    errorLog: input.errorLog,
    traceback: parseTraceback(input.errorLog),
    frames: workspace.frames,
    repoDefinesException: workspace.repoDefinesException,
    ...(workspace.importTarget ? { importTarget: workspace.importTarget } : {}),
  };
  let classification = classifyError(classifyArgs);
  // An incident the newer rules classify differently replays, if recorded before them, as it ran:
  // newest rules first, each older set behind its own patch. (classify-v3's input, importTarget, is
  // new in the activity's result, but an older workflow worker may have decided on such a result
  // during a rolling deploy: the patch, not the field, says which rules it ran.)
  const beforeV3 = classifyError({ ...classifyArgs, rulesBeforeV3: true });
  if (!sameClassification(beforeV3, classification) && !patched(CLASSIFY_V3)) classification = beforeV3;
  const beforeV2 = classifyError({ ...classifyArgs, rulesBeforeV2: true });
  if (!sameClassification(beforeV2, classification) && !patched(CLASSIFY_V2)) classification = beforeV2;
  result.classification = classification;
  if (classification.errorType) run.tracker.setErrorType(classification.errorType);
  log.info(`${TAG.classify} ${classification.kind}: ${classification.reason}`, { incidentId });
  if (classification.kind === 'infra') return await run.finish('infra_error', classification.reason);
  if (classification.kind === 'unclassified') return await run.finish('unclassified', classification.reason);

  // 3. The environment: the repository profile, the right Python, the dependencies (cached).
  if (patched(ENVIRONMENT_V1)) {
    run.transition('prepare_environment');
    const environmentArgs = { incidentId, image: input.image, profile: input.profile };
    const prepared = await run
      .act(PREPARE_ACTIVITY, 'prepare the Python and the dependencies')
      .prepareEnvironment(environmentArgs);
    if (prepared.summary) result.environment = prepared.summary;
    if (!prepared.ok) return await run.finish('environment_failed', prepared.reason);
    run.useEnvironment(prepared); // run.input now has the profile under it
    run.environmentArgs = environmentArgs; // prepared again if the incident moves
    const env = prepared.summary;
    log.info(
      `${TAG.environment} Python ${env.pythonFull ?? env.python ?? '?'} (${env.image}; ${env.pythonReason}); ${env.installed.length} packages, ${env.cacheHit ? 'cache hit' : `prepared in ${Math.round(env.durationMs / 100) / 10} s`}`,
      { incidentId },
    );
  }

  // 4-8. From here the model is asked: one it cannot reach ends the incident model_unavailable.
  try {
    return await reproduceFixAndDecide(run, classification);
  } catch (err) {
    if (!(err instanceof ModelUnavailable)) throw err;
    return await run.finish('model_unavailable', `The model could not be reached: ${err.message}`);
  }
}

async function reproduceFixAndDecide(
  run: IncidentRun,
  classification: Extract<Classification, { kind: 'code' }>,
): Promise<RemediationResult> {
  const { incidentId, result, input } = run;
  // 4. Reproduce: the script must FAIL like the incident (gate 1).
  const signature = incidentSignature(classification);
  result.reproductionCriterion = reproductionCriterion(signature);
  if (signature.hang) {
    // Every reproduction run from here (gate 1, gate 2, delivery's re-check) has the hang watch armed.
    run.sandbox = { ...run.sandbox, hangAfterSeconds: run.sandbox.limits?.hangAfterSeconds ?? HANG_AFTER_SECONDS };
  }
  const reproduced = await reproduce(run, signature);
  if (!reproduced) {
    return await run.finish(
      'reproduction_failed',
      `The incident's ${classification.errorType} could not be reproduced in ${MAX_REPRODUCTION_ATTEMPTS} attempts.`,
    );
  }
  result.fidelityRule = reproduced.rule;

  // 5. The repository's tests before any patch: what passes now must pass after.
  run.transition('baseline_tests');
  const baseline = await run.act(SANDBOX_ACTIVITY, 'run the repository tests before any patch').runRepoTests({
    ...run.sandbox,
    incidentId,
    testCommand: input.testCommand,
    label: 'tests-baseline',
    incident: signature,
  });
  result.baselineTests = baseline;
  if (baseline.ran) {
    log.info(
      `${TAG.tests} baseline: ${describeTests(baseline)}; ${baseline.failToPassCandidates?.length ?? 0} ${signature.hang ? "stopped at their deadline in the incident's location" : "fail with the incident's exception"}`,
      { incidentId },
    );
  }

  // 6. Fix: full file contents -> policy + diff + apply -> gate 2 -> regression gate.
  const fixed = await fix(run, reproduced, baseline);
  if (!fixed) return await run.finish('fix_failed', `No fix passed verification in ${MAX_FIX_ATTEMPTS} attempts.`);

  // 7-8. Proof artifacts, then a person decides.
  return await proveAndDecide(run, fixed);
}
