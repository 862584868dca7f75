/**
 * What an operator can see of a running incident, kept current at every transition: the `state`
 * query, the seed-style `[STATE]` log line, the typed search attributes (OpsGuardStatus, ...) and
 * the Web UI's "current details" text.
 */
import { log, setCurrentDetails, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { IncidentStatus, RemediationResult, RemediationState, Step } from './incident-types';
import { MAX_FIX_ATTEMPTS, MAX_REPRODUCTION_ATTEMPTS } from './retry-rules';
import { stateQuery } from './operator-api';
import { OPSGUARD_ERROR_TYPE, OPSGUARD_FINGERPRINT, OPSGUARD_REPO, OPSGUARD_STATUS } from './search-attributes';
import { TAG } from './log-tags';

export interface Tracker {
  transition(step: Step): void;
  setStatus(status: IncidentStatus): void;
  setErrorType(errorType: string): void;
  /** What the incident waits for (the Docker engine...), shown in the state and the Web UI; null: nothing. */
  waitingFor(what: string | null): void;
  readonly step: Step;
}

export function createTracker(result: RemediationResult, repoPath: string): Tracker {
  let step: Step = 'start';
  const transitions: RemediationState['transitions'] = [];
  let published: IncidentStatus | undefined;
  let waiting: string | null = null;
  setHandler(stateQuery, () => ({
    incidentId: result.incidentId,
    status: result.status,
    step,
    transitions,
    result,
    ...(waiting ? { waitingFor: waiting } : {}),
  }));
  upsertSearchAttributes([
    { key: OPSGUARD_REPO, value: repoPath },
    { key: OPSGUARD_FINGERPRINT, value: result.fingerprint },
  ]);

  const details = () => {
    const id = result.incidentId;
    const lines = [
      `**OpsGuard incident** \`${id}\` — status **${result.status}**, step \`${step}\``,
      `Reproduction attempts: ${result.reproductionAttempts.length} of ${MAX_REPRODUCTION_ATTEMPTS} · fix attempts: ${result.fixAttempts.length} of ${MAX_FIX_ATTEMPTS} · tokens: ${result.tokenUsage.inputTokens} in / ${result.tokenUsage.outputTokens} out`,
      `Repository: \`${repoPath}\``,
    ];
    if (waiting) lines.push(`**Waiting for ${waiting}**`);
    if (result.classification)
      lines.push(`Classification: ${result.classification.kind} — ${result.classification.reason}`);
    if (result.status === 'awaiting_approval') {
      const hash = result.patchSha256;
      lines.push(
        `**Awaiting approval.** Patch: \`${result.artifacts['patch.diff'] ?? ''}\`${hash ? ` (sha256 \`${hash}\`)` : ''}`,
        `Approve: \`opsguard approve ${id}\` or \`temporal workflow update execute --workflow-id ${id} --name approve --input '{"by":"<you>"${hash ? `,"patchSha256":"${hash}"` : ''}}'\`; reject: \`opsguard reject ${id} --reason "..."\``,
      );
    }
    if (result.approval)
      lines.push(
        `Decision: ${result.approval.decision} by ${result.approval.by ?? '(timeout)'} at ${result.approval.at}`,
      );
    if (result.reason && result.status !== 'awaiting_approval') lines.push(`Outcome: ${result.reason}`);
    const d = result.delivery;
    if (d?.status === 'delivered')
      lines.push(
        `**Delivered:** branch \`${d.branch}\` at \`${d.commit?.slice(0, 12)}\`${d.pullRequest ? ` — pull request [#${d.pullRequest.number}](${d.pullRequest.url})` : ''}${d.notes.length ? `\n\n${d.notes.join('; ')}` : ''}`,
      );
    else if (d?.status === 'failed') lines.push(`**Delivery failed** (attempt ${d.attempts}): ${d.reason ?? ''}`);
    else if (d?.status === 'skipped') lines.push(`Delivery: none — ${d.reason ?? ''}`);
    return lines.join('\n\n');
  };
  const publish = () => {
    if (published !== result.status) {
      upsertSearchAttributes([{ key: OPSGUARD_STATUS, value: result.status }]);
      published = result.status;
    }
    setCurrentDetails(details());
  };
  publish();

  return {
    transition(next) {
      step = next;
      transitions.push({ at: new Date().toISOString(), step: next });
      log.info(`${TAG.state} ${next}`, { incidentId: result.incidentId });
      publish();
    },
    setStatus(status) {
      result.status = status;
      publish();
    },
    waitingFor(what) {
      if (what !== waiting)
        log.warn(`${TAG.state} ${what ? `waiting for ${what}` : 'no longer waiting'}`, {
          incidentId: result.incidentId,
        });
      waiting = what;
      setCurrentDetails(details());
    },
    setErrorType(errorType) {
      upsertSearchAttributes([{ key: OPSGUARD_ERROR_TYPE, value: errorType }]);
    },
    get step() {
      return step;
    },
  };
}
