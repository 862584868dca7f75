/**
 * Who may decide on a verified fix, and on what (pure rules; the workflow bundle imports them).
 * A decision names the exact patch it was made on (the sha256 of patch.diff); the approver must be
 * allowed, may not be whoever started the incident when that rule is on, and with a two-person rule
 * the same person counts once. Signatures are checked by the verifyDecision activity; the message a
 * person signs is decisionMessage().
 */
import type { ApprovalPolicy, ApprovalVote } from './incident-types';

export const OPEN_POLICY: ApprovalPolicy = {
  approvers: null,
  noSelfApproval: false,
  required: 1,
  signaturesRequired: false,
};

/**
 * The worker's policy and the repository's: a repository may tighten, never widen. Approvers: the
 * worker's list when it has one, narrowed to the repository's when both do; the strictest of the rest.
 */
export function mergePolicies(worker: ApprovalPolicy, repository: Partial<ApprovalPolicy> | undefined): ApprovalPolicy {
  const repo = repository ?? {};
  const approvers =
    worker.approvers && repo.approvers
      ? worker.approvers.filter((a) => repo.approvers?.includes(a))
      : (worker.approvers ?? repo.approvers ?? null);
  return {
    approvers,
    noSelfApproval: worker.noSelfApproval || !!repo.noSelfApproval,
    required: Math.max(worker.required, repo.required ?? 1),
    signaturesRequired: worker.signaturesRequired || !!repo.signaturesRequired,
  };
}

/** Null when `by` may cast this decision, else why not. */
export function refuseDecider(
  policy: ApprovalPolicy,
  args: { decision: 'approve' | 'reject'; by: string; startedBy?: string | null; votes: ApprovalVote[] },
): string | null {
  if (policy.approvers && !policy.approvers.includes(args.by))
    return `${args.by} is not among the approvers for this incident (${policy.approvers.join(', ') || 'none configured'})`;
  if (args.decision === 'approve') {
    if (policy.noSelfApproval && args.startedBy && args.startedBy === args.by)
      return `${args.by} started this incident and may not approve it (another person must)`;
    if (args.votes.some((v) => v.by === args.by))
      return `${args.by} has already approved; ${policy.required - args.votes.length} more approval(s) from someone else are needed`;
  }
  return null;
}

/** Null when the decision names the patch awaiting it, else why not. */
export function refusePatchHash(given: unknown, awaiting: string | undefined): string | null {
  if (!awaiting) return null;
  if (typeof given !== 'string' || !given)
    return `'patchSha256' is required: the sha256 of the patch.diff you reviewed (opsguard status shows it: ${awaiting.slice(0, 12)}…)`;
  if (given.toLowerCase() !== awaiting)
    return `patchSha256 ${given.slice(0, 12)}… is not the patch awaiting a decision (${awaiting.slice(0, 12)}…): review the current patch.diff and decide again`;
  return null;
}

/** The exact bytes a person signs (UTF-8) for a decision. */
export function decisionMessage(a: {
  incidentId: string;
  decision: 'approve' | 'reject';
  by: string;
  patchSha256: string;
  signedAt: string;
}): string {
  return ['opsguard-decision/v1', a.incidentId, a.decision, a.by, a.patchSha256, a.signedAt].join('\n');
}
