/**
 * How operators talk to a running remediation: the `state` query, and the approval decision as a
 * signal (fire and forget, e.g. `temporal workflow signal --name approve`) or an update (answers at
 * once; refused with the reason when the incident is not awaiting approval).
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ApprovalDecision, ApproveArgs, RejectArgs, RemediationState } from './incident-types';

export const stateQuery = defineQuery<RemediationState>('state');
export const approveSignal = defineSignal<[ApproveArgs]>('approve');
export const rejectSignal = defineSignal<[RejectArgs]>('reject');
export const approveUpdate = defineUpdate<ApprovalDecision, [ApproveArgs]>('approve');
export const rejectUpdate = defineUpdate<ApprovalDecision, [RejectArgs]>('reject');
