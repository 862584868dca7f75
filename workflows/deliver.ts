/**
 * Step 9, delivery (incidents since delivery-v1; only ever after an approval): branch
 * `opsguard/<incidentId>` with one commit holding exactly the verified patch, pushed to the configured
 * remote, and a pull request. Where the branch starts: the analysed commit, or the base branch's newer
 * head when the patch applies there cleanly AND passes again there (the reproduction and its hidden
 * variants, then the tests that passed with the fix, in fresh containers). A failure ends in
 * delivery_failed with the reason; the verified patch stays, and the `deliver` update
 * (`opsguard deliver ID`) tries again. The activities do the work, each idempotent; this decides.
 */
import { ActivityFailure, log, upsertSearchAttributes } from '@temporalio/workflow';
import { deliveryCommitMessage } from './delivery-message';
import { fixGate } from './fix-gate';
import type { Fixed } from './fix';
import type { IncidentRun } from './incident-run';
import type { DeliveryConfig, DeliveryRecord, GateVerdict, PlanDeliveryResult } from './incident-types';
import { TAG } from './log-tags';
import { PARALLEL_RUNS } from './proof-rules';
import { DELIVERY_ACTIVITY, DELIVERY_RETRY_WINDOW, FILES_ACTIVITY, SANDBOX_ACTIVITY } from './retry-rules';
import { OPSGUARD_PULL_REQUEST } from './search-attributes';

/** The patch id marking incidents that deliver after approval. */
export const DELIVERY_V1 = 'delivery-v1';

type Outcome = { kind: 'delivered' } | { kind: 'skipped'; reason: string } | { kind: 'failed'; reason: string };

/** Deliver an approved fix; the status ends delivered, approved (nothing to deliver into) or delivery_failed. */
export async function deliver(run: IncidentRun, fixed: Fixed, config: DeliveryConfig): Promise<void> {
  const { result, incidentId, tracker } = run;
  const record: DeliveryRecord = { status: 'failed', notes: [], attempts: 0 };
  result.delivery = record;
  for (;;) {
    record.attempts++;
    record.notes = [];
    delete record.reason;
    tracker.setStatus('delivering');
    run.transition('deliver');
    let outcome: Outcome;
    try {
      outcome = await attempt(run, fixed, config, record);
    } catch (err) {
      // An activity that kept failing after its retries: a fault, said as it is.
      const cause = err instanceof ActivityFailure && err.cause ? err.cause.message : (err as Error).message;
      outcome = { kind: 'failed', reason: `delivery failed: ${cause}` };
    }
    record.at = new Date().toISOString();
    if (outcome.kind === 'delivered') {
      record.status = 'delivered';
      tracker.setStatus('delivered');
      log.info(
        `${TAG.delivery} delivered: branch ${record.branch} at ${record.commit?.slice(0, 12)}${record.pullRequest ? `, pull request #${record.pullRequest.number} ${record.pullRequest.url}` : ''}`,
        { incidentId },
      );
      break;
    }
    if (outcome.kind === 'skipped') {
      record.status = 'skipped';
      record.reason = outcome.reason;
      tracker.setStatus('approved');
      log.info(`${TAG.delivery} ${outcome.reason}`, { incidentId });
      break;
    }
    record.status = 'failed';
    record.reason = `${outcome.reason}. The verified patch is kept (${result.artifacts['patch.diff'] ?? 'patch.diff'}); retry with: opsguard deliver ${incidentId}`;
    tracker.setStatus('delivery_failed');
    run.transition('delivery_failed');
    log.warn(`${TAG.delivery} ${record.reason}`, { incidentId });
    await recordDelivery(run, record);
    if (!(await run.deliveryRetry.wait(DELIVERY_RETRY_WINDOW))) break;
  }
  await recordDelivery(run, record);
}

async function recordDelivery(run: IncidentRun, record: DeliveryRecord): Promise<void> {
  await run
    .act(FILES_ACTIVITY, 'record the delivery in proof.json')
    .recordDelivery({ incidentId: run.incidentId, status: run.result.status, delivery: record });
}

async function attempt(
  run: IncidentRun,
  fixed: Fixed,
  config: DeliveryConfig,
  record: DeliveryRecord,
): Promise<Outcome> {
  const { incidentId, result } = run;
  const act = (summary: string) => run.act(DELIVERY_ACTIVITY, summary);
  const plan = await act('find the commit to branch from').planDelivery({ incidentId, config });
  record.notes.push(...plan.notes);
  if (!plan.ok || !plan.analysedCommit) {
    const reason = plan.reason ?? 'nothing to deliver into';
    return plan.skip ? { kind: 'skipped', reason: `${reason}; apply patch.diff yourself` } : { kind: 'failed', reason };
  }
  let base = plan.analysedCommit;
  let onHead: { branch: string; head: string } | undefined;
  if (plan.head && plan.appliesToHead && plan.baseBranch) {
    run.transition('deliver_reverify');
    const verdict = await reverifyOnHead(run, fixed, plan, record.attempts);
    if (verdict.passed) {
      base = plan.head;
      onHead = { branch: plan.baseBranch, head: plan.head };
      record.notes.push(
        `${plan.baseBranch} moved on to ${plan.head.slice(0, 12)}; the patch applies there and was re-verified: ${verdict.reason}`,
      );
    } else {
      record.notes.push(
        `${plan.baseBranch} moved on to ${plan.head.slice(0, 12)}; the patch applies there but did not verify (${verdict.reason}): delivered on the analysed commit ${plan.analysedCommit.slice(0, 12)}`,
      );
    }
  }
  const approvers = (result.approvals?.length ? result.approvals.map((v) => v.by) : [result.approval?.by ?? '']).filter(
    Boolean,
  );
  const branch = await act('commit the verified patch on its branch').createDeliveryBranch({
    incidentId,
    base,
    message: deliveryCommitMessage(result, fixed, approvers, onHead),
    at: result.approval?.at ?? new Date().toISOString(),
  });
  if (!branch.ok || !branch.commit) return { kind: 'failed', reason: branch.reason ?? 'the branch could not be made' };
  Object.assign(record, {
    branch: branch.branch,
    commit: branch.commit,
    baseCommit: base,
    onto: onHead ? 'head' : 'analysed',
  });
  if (branch.reused) record.notes.push(`branch ${branch.branch} already held this commit (a retry)`);

  if (!config.remote) {
    record.notes.push(
      'no remote configured: the branch is local (set delivery.remote in the repository profile to push it and open a pull request)',
    );
    upsertSearchAttributes([{ key: OPSGUARD_PULL_REQUEST, value: `branch:${branch.branch}` }]);
    return { kind: 'delivered' };
  }
  record.remote = config.remote;
  const pushed = await act(`push ${branch.branch}`).pushDeliveryBranch({
    incidentId,
    remote: config.remote,
    branch: branch.branch,
    commit: branch.commit,
  });
  if (!pushed.ok) return { kind: 'failed', reason: pushed.reason ?? 'the push failed' };
  record.pushed = true;
  if (!pushed.pushed) record.notes.push('the remote already had the commit on the branch (a retry): not pushed again');

  const baseBranch = plan.baseBranch;
  if (!baseBranch) return { kind: 'failed', reason: 'no base branch for the pull request: set delivery.base-branch' };
  const pr = await act('open the pull request').openPullRequest({
    incidentId,
    config,
    branch: branch.branch,
    baseBranch,
  });
  if (!pr.ok || !pr.number || !pr.url) {
    if (pr.skip) {
      record.notes.push(pr.reason ?? 'no pull request');
      upsertSearchAttributes([{ key: OPSGUARD_PULL_REQUEST, value: `branch:${branch.branch}` }]);
      return { kind: 'delivered' };
    }
    return { kind: 'failed', reason: pr.reason ?? 'the pull request could not be opened' };
  }
  record.pullRequest = { number: pr.number, url: pr.url, reused: pr.reused ?? false };
  if (pr.reused) record.notes.push(`pull request #${pr.number} was already open for the branch: reused`);
  upsertSearchAttributes([{ key: OPSGUARD_PULL_REQUEST, value: pr.url }]);
  return { kind: 'delivered' };
}

/**
 * The patch on the base branch's newer head must pass as it did on the analysed commit: gate 2 over
 * the reproduction and the hidden variants, then the tests that passed with the fix must still pass.
 */
async function reverifyOnHead(
  run: IncidentRun,
  fixed: Fixed,
  plan: PlanDeliveryResult,
  n: number,
): Promise<GateVerdict> {
  const { incidentId, input } = run;
  const ran = await run
    .act(SANDBOX_ACTIVITY, `re-run the reproduction with the patch on ${plan.baseBranch}'s head (must PASS)`)
    .runReproductions({
      ...run.sandbox,
      incidentId,
      step: 'deliver',
      attempt: n,
      parallel: PARALLEL_RUNS,
      onHead: true,
      changed: plan.changedOnHead ?? [],
      scripts: fixed.scripts,
    });
  const primary = ran[0]?.runs ?? [];
  const variants = fixed.scripts.slice(1).flatMap((s, i) => {
    const r = ran[i + 1]?.runs[0];
    return r ? [{ name: s.name, run: r }] : [];
  });
  const gate = fixGate({ primary, variants });
  log.info(`${TAG.gate2} on ${plan.baseBranch}'s head: ${gate.reason}`, { incidentId });
  if (!gate.passed) return gate;
  const after = fixed.attempt.tests;
  const tests = await run
    .act(SANDBOX_ACTIVITY, `run the repository tests on ${plan.baseBranch}'s head with the patch`)
    .runRepoTests({
      ...run.sandbox,
      incidentId,
      testCommand: input.testCommand,
      label: `deliver-tests-${n}`,
      onHead: true,
      changed: plan.changedOnHead ?? [],
      ...(after?.resultsPath
        ? { baseline: { resultsPath: after.resultsPath, failToPass: [], knownFailing: input.knownFailingTests ?? [] } }
        : {}),
    });
  const verdict =
    tests.verdict ??
    (tests.ran
      ? { passed: tests.passed, reason: `tests exit ${tests.passed ? 0 : 'non-zero'}` }
      : { passed: true, reason: 'no tests' });
  log.info(`${TAG.tests} on ${plan.baseBranch}'s head: ${verdict.reason}`, { incidentId });
  return verdict.passed ? { passed: true, reason: `${gate.reason} ${verdict.reason}` } : verdict;
}
