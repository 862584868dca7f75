/**
 * Approval before delivery: a verified fix waits for a person. `approve` / `reject` arrive as
 * signals or updates; an update in the wrong state is refused with the reason (a signal is
 * ignored, with a warning in the log). `approvalTimeout` (default 24h) ends in approval_expired.
 */
import { ApplicationFailure, condition, log, setHandler } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type {
  ApprovalDecision,
  ApprovalPolicy,
  ApprovalVote,
  ApproveArgs,
  RejectArgs,
  RemediationResult,
  VerifyDecisionArgs,
  VerifyDecisionResult,
} from './incident-types';
import { refuseDecider, refusePatchHash } from './approval-policy';
import { approveSignal, approveUpdate, rejectSignal, rejectUpdate } from './operator-api';
import { TAG } from './log-tags';

export const DEFAULT_APPROVAL_TIMEOUT = '24h';

export interface Approval {
  /** Wait for the decision (or the timeout). Call once the status is awaiting_approval. */
  wait(timeout: Duration): Promise<ApprovalDecision>;
}

/**
 * The rules of incidents started since approval-v2 (absent for older ones, which replay as they ran):
 * every decision names the patch's sha256, the decider must be allowed by the policy, and a signed
 * (or, by policy, every) decision is verified by the verifyDecision activity.
 */
export interface ApprovalRules {
  policy(): ApprovalPolicy;
  startedBy: string | null;
  verify(args: VerifyDecisionArgs): Promise<VerifyDecisionResult>;
}

const MAX_REFUSALS_KEPT = 50;

/** Register the handlers at workflow start, so early or late decisions get an answer too. */
export function registerApproval(result: RemediationResult, step: () => string, rules?: ApprovalRules): Approval {
  if (rules) return registerBoundApproval(result, step, rules);
  let decision: ApprovalDecision | undefined;

  const refusal = (): string | null => {
    const id = result.incidentId;
    if (result.approval) {
      const a = result.approval;
      return `incident ${id} was already ${a.decision}${a.by ? ` by ${a.by}` : ''} at ${a.at}${a.reason ? `: ${a.reason}` : ''}`;
    }
    if (decision) return `incident ${id} was already ${decision.decision} by ${decision.by} at ${decision.at}`;
    if (result.status === 'awaiting_approval') return null;
    if (result.status === 'running')
      return `incident ${id} is not verified yet (still running, step ${step()}); nothing to approve`;
    return `incident ${id} ended as ${result.status}; there is no verified fix to decide on`;
  };
  const check = (args: { by?: unknown }, extra?: () => string | null) => {
    const r = refusal();
    if (r) throw new Error(r);
    if (typeof args?.by !== 'string' || !args.by.trim()) throw new Error("'by' is required: who decides");
    const e = extra?.();
    if (e) throw new Error(e);
  };
  const approve = (args: ApproveArgs, via: 'signal' | 'update'): ApprovalDecision =>
    (decision = { decision: 'approved', by: args.by, at: new Date().toISOString(), comment: args.comment, via });
  const reject = (args: RejectArgs, via: 'signal' | 'update'): ApprovalDecision =>
    (decision = { decision: 'rejected', by: args.by, at: new Date().toISOString(), reason: args.reason, via });
  const needReason = (args: RejectArgs) => () =>
    typeof args?.reason === 'string' && args.reason.trim() ? null : "'reason' is required to reject";

  setHandler(approveUpdate, (args) => approve(args, 'update'), { validator: (args: ApproveArgs) => check(args) });
  setHandler(rejectUpdate, (args) => reject(args, 'update'), {
    validator: (args: RejectArgs) => check(args, needReason(args)),
  });
  setHandler(approveSignal, (args) => {
    try {
      check(args);
      approve(args, 'signal');
    } catch (err) {
      log.warn(`${TAG.approval} approve signal ignored: ${(err as Error).message}`, { incidentId: result.incidentId });
    }
  });
  setHandler(rejectSignal, (args) => {
    try {
      check(args, needReason(args));
      reject(args, 'signal');
    } catch (err) {
      log.warn(`${TAG.approval} reject signal ignored: ${(err as Error).message}`, { incidentId: result.incidentId });
    }
  });

  return {
    async wait(timeout) {
      const decided = await condition(() => decision !== undefined, timeout);
      if (!decided || !decision) {
        decision = { decision: 'expired', by: null, at: new Date().toISOString(), via: 'timeout' };
      }
      return decision;
    },
  };
}

/** approval-v2: decisions bound to the patch, deciders checked against the policy, signatures verified. */
function registerBoundApproval(result: RemediationResult, step: () => string, rules: ApprovalRules): Approval {
  let decision: ApprovalDecision | undefined;
  const votes: ApprovalVote[] = [];
  const id = result.incidentId;

  const stateRefusal = (kind: 'approve' | 'reject'): string | null => {
    if (decision)
      return `incident ${id} was already ${decision.decision}${decision.by ? ` by ${decision.by}` : ''} at ${decision.at}`;
    if (result.status === 'awaiting_approval') return null;
    if (result.status === 'running')
      return `incident ${id} is not verified yet (still running, step ${step()}); nothing to ${kind}`;
    return `incident ${id} ended as ${result.status}; there is no verified fix to decide on`;
  };
  /** Every rule that needs no activity; throws the refusal. */
  const check = (kind: 'approve' | 'reject', args: ApproveArgs | RejectArgs): void => {
    const fail = (why: string) => {
      throw new Error(why);
    };
    const r = stateRefusal(kind);
    if (r) fail(r);
    if (typeof args?.by !== 'string' || !args.by.trim()) fail("'by' is required: who decides");
    if (kind === 'reject' && !(typeof (args as RejectArgs).reason === 'string' && (args as RejectArgs).reason.trim()))
      fail("'reason' is required to reject");
    const hash = refusePatchHash(args.patchSha256, result.patchSha256);
    if (hash) fail(hash);
    const policy = rules.policy();
    const who = refuseDecider(policy, { decision: kind, by: args.by, startedBy: rules.startedBy, votes });
    if (who) fail(who);
    if (policy.signaturesRequired && !args.signature)
      fail(`decisions on this incident must be signed (opsguard ${kind} --key <your private key>)`);
    if (args.signature && !(args.keyId && args.signedAt)) fail("a signed decision needs 'keyId' and 'signedAt'");
  };
  const refuse = (kind: 'approve' | 'reject', args: { by?: unknown }, via: 'signal' | 'update', reason: string) => {
    const refused = (result.refusedDecisions ??= []);
    if (refused.length < MAX_REFUSALS_KEPT)
      refused.push({
        decision: kind,
        by: typeof args?.by === 'string' ? args.by : '?',
        at: new Date().toISOString(),
        via,
        reason,
      });
    log.warn(`${TAG.approval} ${kind} ${via} refused: ${reason}`, { incidentId: id });
  };
  /** The signature, when there is one: checked by an activity against the configured public keys. */
  const identify = async (kind: 'approve' | 'reject', args: ApproveArgs | RejectArgs): Promise<string> => {
    if (!args.signature) return `name given (${args.by})`;
    const verified = await rules.verify({
      incidentId: id,
      decision: kind,
      by: args.by,
      patchSha256: result.patchSha256 ?? '',
      signature: args.signature,
      keyId: args.keyId ?? '',
      signedAt: args.signedAt ?? '',
    });
    if (!verified.ok) throw new Error(`the signature does not verify: ${verified.reason}`);
    return verified.identifiedBy;
  };
  const decide = async (kind: 'approve' | 'reject', args: ApproveArgs | RejectArgs, via: 'signal' | 'update') => {
    const identifiedBy = await identify(kind, args);
    check(kind, args); // again: another decision may have landed while the signature was checked
    const at = new Date().toISOString();
    const patchSha256 = result.patchSha256;
    if (kind === 'reject') {
      decision = {
        decision: 'rejected',
        by: args.by,
        at,
        reason: (args as RejectArgs).reason,
        via,
        patchSha256,
        identifiedBy,
      };
      return decision;
    }
    votes.push({
      by: args.by,
      at,
      via,
      identifiedBy,
      ...((args as ApproveArgs).comment ? { comment: (args as ApproveArgs).comment } : {}),
    });
    result.approvals = [...votes];
    const required = rules.policy().required;
    const approved: ApprovalDecision = {
      decision: 'approved',
      by: args.by,
      at,
      comment: (args as ApproveArgs).comment,
      via,
      patchSha256,
      identifiedBy,
      ...(required > 1 ? { approvals: [...votes] } : {}),
      ...((args as ApproveArgs).deliver === false ? { deliver: false as const } : {}),
    };
    if (votes.length >= required) decision = approved;
    else
      log.info(`${TAG.approval} approval ${votes.length} of ${required} by ${args.by}; waiting for more`, {
        incidentId: id,
      });
    return votes.length >= required ? approved : { ...approved, pending: { approvals: votes.length, required } };
  };
  // No validators: a refused update is accepted into history and completed with the refusal, so the
  // audit (and refusedDecisions) show every refused attempt, not only the signals.
  const viaUpdate = (kind: 'approve' | 'reject') => async (args: ApproveArgs | RejectArgs) => {
    try {
      check(kind, args);
      return await decide(kind, args, 'update');
    } catch (err) {
      refuse(kind, args, 'update', (err as Error).message);
      throw ApplicationFailure.create({ message: (err as Error).message, type: 'DecisionRefused', nonRetryable: true });
    }
  };
  const viaSignal = (kind: 'approve' | 'reject') => async (args: ApproveArgs | RejectArgs) => {
    try {
      check(kind, args);
      await decide(kind, args, 'signal');
    } catch (err) {
      refuse(kind, args, 'signal', (err as Error).message);
    }
  };
  setHandler(approveUpdate, viaUpdate('approve'));
  setHandler(rejectUpdate, viaUpdate('reject') as (args: RejectArgs) => Promise<ApprovalDecision>);
  setHandler(approveSignal, viaSignal('approve'));
  setHandler(rejectSignal, viaSignal('reject'));

  return {
    async wait(timeout) {
      const decided = await condition(() => decision !== undefined, timeout);
      if (!decided || !decision) {
        decision = {
          decision: 'expired',
          by: null,
          at: new Date().toISOString(),
          via: 'timeout',
          patchSha256: result.patchSha256,
          ...(votes.length ? { approvals: [...votes] } : {}),
        };
      }
      return decision;
    },
  };
}
