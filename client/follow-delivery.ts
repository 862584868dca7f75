/**
 * After an approval or a `deliver` retry: follow the incident until delivery has an outcome
 * (delivered, delivery_failed, or approved with nothing to deliver), printing progress to stderr, and
 * return the delivery record. The command line's `approve` and `deliver` share it.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { DeliveryRecord, RemediationResult } from '../workflows/incident-types';
import { stateQuery } from '../workflows/operator-api';
import type { remediateIncident } from '../workflows/remediate-incident';

const SETTLED = new Set(['delivered', 'delivery_failed', 'approved', 'rejected', 'approval_expired']);

export async function followDelivery(
  handle: WorkflowHandle<typeof remediateIncident>,
  timeoutMs: number,
): Promise<{ status: string; delivery: DeliveryRecord | undefined } | null> {
  const deadline = Date.now() + timeoutMs;
  let said = '';
  while (Date.now() < deadline) {
    const d = await handle.describe();
    let result: RemediationResult;
    if (d.status.name !== 'RUNNING') result = await handle.result();
    else {
      const state = await handle.query(stateQuery);
      result = state.result;
      const now = `${state.status}/${state.step}`;
      if (now !== said && !SETTLED.has(state.status)) process.stderr.write(`… ${state.status} (step ${state.step})\n`);
      said = now;
    }
    if (SETTLED.has(result.status) && (result.status !== 'approved' || result.delivery || d.status.name !== 'RUNNING'))
      return { status: result.status, delivery: result.delivery };
    await new Promise((r) => setTimeout(r, 500));
  }
  return null;
}
