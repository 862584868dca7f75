/**
 * Approval before delivery: a verified fix waits for a person. `approve` / `reject` arrive as
 * signals or updates; an update in the wrong state is refused with the reason (a signal is
 * ignored, with a warning in the log). `approvalTimeout` (default 24h) ends in approval_expired.
 */
import { condition, log, setHandler } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { RemediationResult, ApprovalDecision, ApproveArgs, RejectArgs } from './incident-types';
import { approveSignal, approveUpdate, rejectSignal, rejectUpdate } from './operator-api';
import { TAG } from './log-tags';

export const DEFAULT_APPROVAL_TIMEOUT = '24h';

export interface Approval {
  /** Wait for the decision (or the timeout). Call once the status is awaiting_approval. */
  wait(timeout: Duration): Promise<ApprovalDecision>;
}

/** Register the handlers at workflow start, so early or late decisions get an answer too. */
export function registerApproval(result: RemediationResult, step: () => string): Approval {
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
