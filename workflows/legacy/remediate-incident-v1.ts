/**
 * FROZEN: the workflow as it was before proof v2, kept so that incidents started on it replay and
 * finish unchanged (remediate-incident.ts calls it when `patched('proof-v2')` is false). Do not edit;
 * delete it (and deprecatePatch) once no such incident can be running.
 *
 * remediateIncident: the zero-trust remediation loop as a Temporal workflow.
 *   setup_workspace -> classify_error -> (infra | unclassified: report, end)
 *   -> reproduce (<= 2 attempts, gate 1: must FAIL with the incident's exception)
 *   -> baseline tests -> fix (<= 3 attempts, gate 2: reproduction must PASS, tests must not regress)
 *   -> artifacts -> awaiting_approval -> approved | rejected | approval_expired.
 * The model only returns text through activities; every decision is made here, from gate verdicts.
 */
import { ApplicationFailure, log, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ActivityOptions } from '@temporalio/workflow';
import { DEFAULT_APPROVAL_TIMEOUT, registerApproval } from '../approval';
import { incidentFingerprint } from '../fingerprint';
import { createTracker } from '../incident-tracker';
import type { OpsGuardActivities } from '../../activities';
import { classifyError } from '../classify-error';
import type { Classification } from '../classify-error';
import { exitStatusGate, fixAttemptVerdict, fixGate, reproductionGate } from './gates-v1';
import type { IncidentSignature } from './gates-v1';
import { validateIncidentInput } from '../incident-input';
import type { IncidentInput } from '../incident-input';
import type {
  FixAttempt,
  IncidentStatus,
  ModelCall,
  RemediationResult,
  ReproductionAttempt,
  RunSummary,
  Step,
} from '../incident-types';
import {
  FILES_ACTIVITY,
  MAX_FIX_ATTEMPTS,
  MAX_REPRODUCTION_ATTEMPTS,
  MODEL_ACTIVITY,
  SANDBOX_ACTIVITY,
} from '../retry-rules';
import { parseTraceback } from '../traceback';

/** Activities with a one-line summary, shown beside each activity in the Web UI. */
const act = (options: ActivityOptions, summary: string) => proxyActivities<OpsGuardActivities>({ ...options, summary });

interface Feedback {
  attempt: number;
  reason: string;
  stdoutTail?: string;
  stderrTail?: string;
}

/** Incident ids become folder names: keep them to a safe alphabet. */
function safeId(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100);
}

export async function remediateIncidentV1(rawInput: unknown): Promise<RemediationResult> {
  const validated = validateIncidentInput(rawInput);
  if (!validated.ok) {
    throw ApplicationFailure.nonRetryable(
      `Invalid incident input: ${validated.problems.join('; ')}`,
      'InvalidIncidentInput',
    );
  }
  const input: IncidentInput = validated.input;
  const incidentId = input.incidentId ?? safeId(workflowInfo().workflowId);
  const sandboxChoice = { image: input.image, limits: input.limits };

  const result: RemediationResult = {
    incidentId,
    status: 'running',
    classification: null,
    reason: '',
    reproductionAttempts: [],
    fixAttempts: [],
    artifacts: {},
    tokenUsage: { inputTokens: 0, outputTokens: 0 },
    redactions: [],
    fingerprint: incidentFingerprint(input.repoPath, input.errorLog),
  };
  const tracker = createTracker(result, input.repoPath);
  const approval = registerApproval(result, () => tracker.step);
  const transition = (next: Step) => tracker.transition(next); // (type only changed since frozen)
  const countTokens = (call: ModelCall) => {
    result.tokenUsage.inputTokens += call.usage.inputTokens;
    result.tokenUsage.outputTokens += call.usage.outputTokens;
  };
  const dockerLog = (run: RunSummary) => {
    log.info(
      `[DOCKER] exit_code=${run.exitCode}${run.exception ? ` exception=${run.exception.type}` : ''}${run.timedOut ? ' timed_out' : ''}${run.oomKilled ? ' out_of_memory' : ''}`,
      { incidentId },
    );
    // Limits the daemon could not enforce are surfaced (and kept in proof.json), never ignored.
    for (const warning of run.warnings) log.warn(`[DOCKER] the daemon dropped a limit: ${warning}`, { incidentId });
  };
  const artifactInput = {
    repoPath: input.repoPath,
    image: input.image,
    testCommand: input.testCommand,
    patchPolicy: input.patchPolicy,
  };
  const finish = async (status: IncidentStatus, reason: string) => {
    result.reason = reason;
    transition('write_artifacts');
    result.artifacts = await act(FILES_ACTIVITY, 'write the failure or infra report and proof.json').writeArtifacts({
      result: { ...result, status },
      input: artifactInput,
    });
    tracker.setStatus(status);
    log.info(`[END] ${reason}`, { incidentId, status });
    return result;
  };

  // 1. An isolated copy of the repository; the original is only read.
  transition('setup_workspace');
  const workspace = await act(FILES_ACTIVITY, 'copy the repository into an isolated workspace').setupWorkspace({
    incidentId,
    repoPath: input.repoPath,
    errorLog: input.errorLog,
  });
  result.redactions = workspace.redactions;
  if (workspace.redactions.length) {
    log.info(
      `[STATE] redacted ${workspace.redactions.map((r) => `${r.count} ${r.kind}`).join(', ')} from the log before the model sees it`,
      { incidentId },
    );
  }

  // 2. Classification: pure rules over the log and where its frames land in the repository.
  transition('classify_error');
  const classification: Classification = classifyError({
    errorLog: input.errorLog,
    traceback: parseTraceback(input.errorLog),
    frames: workspace.frames,
    repoDefinesException: workspace.repoDefinesException,
    rulesBeforeV2: true, // only histories from before proof-v2 run this code: they had the old rules
  });
  result.classification = classification;
  if (classification.errorType) tracker.setErrorType(classification.errorType);
  log.info(`[CLASSIFY] ${classification.kind}: ${classification.reason}`, { incidentId });
  if (classification.kind === 'infra') return await finish('infra_error', classification.reason);
  if (classification.kind === 'unclassified') return await finish('unclassified', classification.reason);

  // 3. Reproduction: the script must FAIL with the incident's exception, through its location (gate 1).
  const signature: IncidentSignature = {
    type: classification.errorType,
    location: { file: classification.location.file, func: classification.location.func },
  };
  result.reproductionCriterion = `${classification.errorType} (or a subclass) raised through ${signature.location?.file}:${signature.location?.func}, the incident's innermost repository frame`;
  const reproFeedback: Feedback[] = [];
  let reproduced: ReproductionAttempt | undefined;
  for (let attempt = 1; attempt <= MAX_REPRODUCTION_ATTEMPTS && !reproduced; attempt++) {
    transition(`reproduce_attempt_${attempt}`);
    const authored = await act(
      MODEL_ACTIVITY,
      `model writes reproduction script, attempt ${attempt}`,
    ).writeReproduction({ incidentId, attempt, feedback: reproFeedback });
    countTokens(authored.model);
    const record: ReproductionAttempt = {
      attempt,
      model: authored.model,
      scriptPath: authored.scriptPath,
      scriptSha256: authored.scriptSha256,
      gate: { passed: false, reason: `The model's answer was refused: ${authored.model.reason}` },
    };
    result.reproductionAttempts.push(record);
    if (!authored.model.ok || !authored.scriptPath || !authored.scriptSha256) {
      reproFeedback.push({ attempt, reason: record.gate.reason });
      continue;
    }
    record.run = await act(
      SANDBOX_ACTIVITY,
      `run reproduction ${attempt} in a fresh container (must FAIL)`,
    ).runReproduction({
      ...sandboxChoice,
      incidentId,
      scriptPath: authored.scriptPath,
      scriptSha256: authored.scriptSha256,
      step: 'reproduce',
      attempt,
    });
    dockerLog(record.run);
    record.gate = reproductionGate(record.run, signature);
    log.info(`[GATE1] ${record.gate.reason}`, { incidentId });
    if (record.gate.passed) reproduced = record;
    else
      reproFeedback.push({
        attempt,
        reason: record.gate.reason,
        stdoutTail: record.run.stdoutTail,
        stderrTail: record.run.stderrTail,
      });
  }
  if (!reproduced?.run || !reproduced.scriptPath || !reproduced.scriptSha256) {
    return await finish(
      'reproduction_failed',
      `The incident's ${classification.errorType} could not be reproduced in ${MAX_REPRODUCTION_ATTEMPTS} attempts.`,
    );
  }

  // The repository's tests before any patch: what passes now must pass after.
  transition('baseline_tests');
  const baseline = await act(SANDBOX_ACTIVITY, 'run the repository tests before any patch').runRepoTests({
    ...sandboxChoice,
    incidentId,
    testCommand: input.testCommand,
    label: 'tests-baseline',
    incident: signature,
  });
  result.baselineTests = baseline;
  if (baseline.ran) {
    const counts = baseline.counts
      ? Object.entries(baseline.counts)
          .map(([k, v]) => `${v} ${k}`)
          .join(', ')
      : `exit code ${baseline.run?.exitCode}`;
    log.info(
      `[TESTS] baseline: ${counts}; ${baseline.failToPassCandidates?.length ?? 0} fail with the incident's exception`,
      { incidentId },
    );
  }
  const baselineForGate =
    baseline.perTest && baseline.resultsPath
      ? { resultsPath: baseline.resultsPath, failToPass: baseline.failToPassCandidates ?? [] }
      : undefined;

  // 4. Fix: full file contents -> policy + diff + apply -> the unchanged reproduction must PASS (gate 2).
  const fixFeedback: Feedback[] = [];
  let fixed: FixAttempt | undefined;
  let proposalPath: string | undefined;
  for (let attempt = 1; attempt <= MAX_FIX_ATTEMPTS && !fixed; attempt++) {
    transition(`fix_attempt_${attempt}`);
    const authored = await act(MODEL_ACTIVITY, `model writes fix, attempt ${attempt}`).writeFix({
      incidentId,
      attempt,
      scriptPath: reproduced.scriptPath,
      reproductionStderrPath: reproduced.run.stderrPath,
      feedback: fixFeedback,
    });
    countTokens(authored.model);
    const record: FixAttempt = {
      attempt,
      model: authored.model,
      changedFiles: [],
      gate: { passed: false, reason: `The model's answer was refused: ${authored.model.reason}` },
    };
    result.fixAttempts.push(record);
    if (!authored.model.ok || !authored.proposalPath) {
      fixFeedback.push({ attempt, reason: record.gate.reason });
      continue;
    }
    const applied = await act(FILES_ACTIVITY, `check the patch policy, diff and apply fix ${attempt}`).applyFix({
      incidentId,
      attempt,
      proposalPath: authored.proposalPath,
      patchPolicy: input.patchPolicy,
    });
    if (!applied.ok) {
      record.patchRefusal = applied.reason;
      record.gate = { passed: false, reason: applied.reason };
      log.info(`[PATCH] refused: ${applied.reason}`, { incidentId });
      fixFeedback.push({ attempt, reason: applied.reason });
      continue; // a refused patch wrote nothing: no restore needed
    }
    record.changedFiles = applied.changedFiles;
    record.diffPath = applied.diffPath;
    record.run = await act(SANDBOX_ACTIVITY, `re-run the reproduction with fix ${attempt} (must PASS)`).runReproduction(
      {
        ...sandboxChoice,
        incidentId,
        scriptPath: reproduced.scriptPath,
        scriptSha256: reproduced.scriptSha256,
        step: 'fix',
        attempt,
      },
    );
    dockerLog(record.run);
    record.gate = fixGate(record.run);
    log.info(`[GATE2] ${record.gate.reason}`, { incidentId });
    if (record.gate.passed) {
      record.tests = await act(SANDBOX_ACTIVITY, `run the repository tests with fix ${attempt}`).runRepoTests({
        ...sandboxChoice,
        incidentId,
        testCommand: input.testCommand,
        label: `fix-${attempt}`,
        baseline: baselineForGate,
      });
      const testsGate = record.tests.verdict ?? exitStatusGate(baseline, record.tests);
      record.testsGate = testsGate;
      log.info(`[TESTS] ${testsGate.reason}`, { incidentId });
    }
    if (fixAttemptVerdict(record).passed) {
      fixed = record;
      proposalPath = authored.proposalPath;
      break;
    }
    const failedRun = record.gate.passed ? record.tests?.run : record.run;
    fixFeedback.push({
      attempt,
      reason: record.gate.passed ? (record.testsGate?.reason ?? 'the repository tests failed') : record.gate.reason,
      stdoutTail: failedRun?.stdoutTail,
      stderrTail: failedRun?.stderrTail,
    });
    transition(`restore_workspace_${attempt}`);
    await act(FILES_ACTIVITY, 'restore the workspace to the baseline').restoreWorkspace({ incidentId });
  }
  if (!fixed?.diffPath || !proposalPath) {
    return await finish('fix_failed', `No fix passed verification in ${MAX_FIX_ATTEMPTS} attempts.`);
  }

  // 5. Proof: the model describes the change; OpsGuard appends the evidence.
  transition('write_pr_description');
  const pr = await act(MODEL_ACTIVITY, 'model writes the PR description').writePrDescription({
    incidentId,
    proposalPath,
    diffPath: fixed.diffPath,
  });
  countTokens(pr.model);
  result.reason = `Patch verified: the reproduction fails before and passes after fix attempt ${fixed.attempt}.`;
  transition('write_artifacts');
  result.artifacts = await act(
    FILES_ACTIVITY,
    'write patch.diff, PR_DESCRIPTION.md, reproduction.py, proof.json',
  ).writeArtifacts({
    result: { ...result, status: 'awaiting_approval' },
    input: artifactInput,
    prDescriptionPath: pr.descriptionPath,
  });
  log.info(`[SUCCESS] ${result.reason}`, { incidentId });

  // 6. A person decides. Nothing is delivered without an approval.
  tracker.setStatus('awaiting_approval');
  transition('awaiting_approval');
  const decision = await approval.wait(input.approvalTimeout ?? DEFAULT_APPROVAL_TIMEOUT);
  result.approval = decision;
  tracker.setStatus(
    decision.decision === 'approved' ? 'approved' : decision.decision === 'rejected' ? 'rejected' : 'approval_expired',
  );
  log.info(
    `[APPROVAL] ${decision.decision}${decision.by ? ` by ${decision.by}` : ''}${decision.reason ? `: ${decision.reason}` : ''}`,
    { incidentId },
  );
  transition('record_decision');
  await act(FILES_ACTIVITY, `record the ${decision.decision} decision in proof.json`).recordDecision({
    incidentId,
    status: result.status,
    approval: decision,
  });
  transition('done');
  return result;
}
