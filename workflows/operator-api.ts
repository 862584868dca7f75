/**
 * How operators talk to a running remediation: the `state` query, and the approval decision as a
 * signal (fire and forget, e.g. `temporal workflow signal --name approve`) or an update (answers at
 * once; refused with the reason when the incident is not awaiting approval).
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ApprovalDecision, IncidentStatus, RemediationResult } from './incident-types';

export type { ApprovalDecision };

export interface ApproveArgs {
  by: string;
  comment?: string;
}

export interface RejectArgs {
  by: string;
  reason: string;
}

/** What `opsguard status`, `watch` and `temporal workflow query --name state` show. */
export interface RemediationState {
  incidentId: string;
  status: IncidentStatus;
  step: string;
  /** Every transition so far, oldest first (workflow time). */
  transitions: { at: string; step: string }[];
  result: RemediationResult;
}

export const stateQuery = defineQuery<RemediationState>('state');
export const approveSignal = defineSignal<[ApproveArgs]>('approve');
export const rejectSignal = defineSignal<[RejectArgs]>('reject');
export const approveUpdate = defineUpdate<ApprovalDecision, [ApproveArgs]>('approve');
export const rejectUpdate = defineUpdate<ApprovalDecision, [RejectArgs]>('reject');

/** Statuses in which the workflow has ended, or waits for a person. */
export const FINAL_STATUSES: IncidentStatus[] = [
  'infra_error',
  'unclassified',
  'reproduction_failed',
  'fix_failed',
  'approved',
  'rejected',
  'approval_expired',
];
export const WAITING_STATUSES: IncidentStatus[] = ['awaiting_approval'];
