/**
 * How operators talk to a running remediation: the `state` query, and the approval decision as a
 * signal (fire and forget, e.g. `temporal workflow signal --name approve`) or an update (answers at
 * once; refused with the reason when the incident is not awaiting approval), and the `deliver` update
 * that retries a failed delivery.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { OPERATOR_API } from './incident-types';
import type { ApprovalDecision, ApproveArgs, DeliverArgs, RejectArgs, RemediationState } from './incident-types';

export const stateQuery = defineQuery<RemediationState>(OPERATOR_API.stateQuery);
export const approveSignal = defineSignal<[ApproveArgs]>(OPERATOR_API.approve);
export const rejectSignal = defineSignal<[RejectArgs]>(OPERATOR_API.reject);
export const approveUpdate = defineUpdate<ApprovalDecision, [ApproveArgs]>(OPERATOR_API.approve);
export const rejectUpdate = defineUpdate<ApprovalDecision, [RejectArgs]>(OPERATOR_API.reject);
/** Retry delivery after delivery_failed (`opsguard deliver ID`); answers once delivery has restarted. */
export const deliverUpdate = defineUpdate<string, [DeliverArgs]>(OPERATOR_API.deliver);
