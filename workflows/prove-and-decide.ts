/**
 * Steps 6 and 7: the proof artifacts (the model describes the change; OpsGuard appends the evidence,
 * every check passed, failed or not run), then a person decides, then, approved, delivery (deliver.ts).
 * Nothing is delivered without an approval; the decision and who made it go into the result and proof.json.
 */
import { log, patched } from '@temporalio/workflow';
import { deliver, DELIVERY_V1 } from './deliver';
import { askModel, ModelUnavailable } from './model-unavailable';
import { DEFAULT_APPROVAL_TIMEOUT } from './approval';
import type { Fixed } from './fix';
import { artifactInput } from './incident-run';
import type { IncidentRun } from './incident-run';
import type { RemediationResult } from './incident-types';
import { FILES_ACTIVITY, MODEL_ACTIVITY } from './retry-rules';
import { TAG } from './log-tags';

export async function proveAndDecide(run: IncidentRun, fixed: Fixed): Promise<RemediationResult> {
  const { incidentId, result, tracker, input } = run;
  run.transition('write_pr_description');
  // The fix is verified: a model that cannot be reached now costs the description, not the proof.
  let descriptionPath: string | undefined;
  try {
    const pr = await askModel(() =>
      run.act(MODEL_ACTIVITY, 'model writes the PR description').writePrDescription({
        incidentId,
        proposalPath: fixed.proposalPath,
        diffPath: fixed.diffPath,
      }),
    );
    run.countTokens(pr.model);
    descriptionPath = pr.descriptionPath;
  } catch (err) {
    if (!(err instanceof ModelUnavailable)) throw err;
    log.warn(`${TAG.end} the model could not write the PR description (${err.message}); OpsGuard's evidence alone`, {
      incidentId,
    });
  }
  result.reason = `Patch verified: the reproduction fails before and passes after fix attempt ${fixed.attempt.attempt}.`;
  run.transition('write_artifacts');
  result.artifacts = await run
    .act(FILES_ACTIVITY, 'write patch.diff, PR_DESCRIPTION.md, reproduction.py, proof.json')
    .writeArtifacts({
      result: { ...result, status: 'awaiting_approval' },
      input: artifactInput(input),
      ...(descriptionPath ? { prDescriptionPath: descriptionPath } : {}),
    });
  log.info(`${TAG.success} ${result.reason}`, { incidentId });
  // The decision names this exact patch (approval-v2): patch.diff is a byte copy of the attempt's diff.
  if (run.bound && fixed.attempt.diffSha256) {
    result.patchSha256 = fixed.attempt.diffSha256;
    log.info(`${TAG.approval} awaiting a decision on patch.diff sha256 ${result.patchSha256}`, { incidentId });
  }

  tracker.setStatus('awaiting_approval');
  run.transition('awaiting_approval');
  const decision = await run.approval.wait(input.approvalTimeout ?? DEFAULT_APPROVAL_TIMEOUT);
  result.approval = decision;
  tracker.setStatus(
    decision.decision === 'approved' ? 'approved' : decision.decision === 'rejected' ? 'rejected' : 'approval_expired',
  );
  log.info(
    `${TAG.approval} ${decision.decision}${decision.by ? ` by ${decision.by}` : ''}${decision.reason ? `: ${decision.reason}` : ''}`,
    { incidentId },
  );
  run.transition('record_decision');
  await run.act(FILES_ACTIVITY, `record the ${decision.decision} decision in proof.json`).recordDecision({
    incidentId,
    status: result.status,
    approval: decision,
  });
  // 9. Delivery, only ever after an approval (incidents since delivery-v1).
  if (decision.decision === 'approved' && patched(DELIVERY_V1)) {
    const declined =
      decision.deliver === false
        ? 'approved with --no-deliver: the team applies patch.diff itself'
        : run.delivery.enabled === false
          ? 'the repository profile turns delivery off (delivery.enabled = false): apply patch.diff yourself'
          : null;
    if (declined) {
      result.delivery = { status: 'skipped', reason: declined, notes: [], attempts: 0 };
      log.info(`${TAG.delivery} ${declined}`, { incidentId });
    } else {
      await deliver(run, fixed, run.delivery);
    }
  }
  run.transition('done');
  return result;
}
