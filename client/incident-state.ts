import { WorkflowFailedError } from '@temporalio/client';
import type { WorkflowHandle } from '@temporalio/client';
import type { RemediationResult, RemediationState } from '../workflows/incident-types';
import type { remediateIncident } from '../workflows/remediate-incident';
import { stateQuery } from '../workflows/operator-api';

export interface IncidentView {
  id: string;
  /** Temporal's view: RUNNING, COMPLETED, FAILED, ... */
  workflowStatus: string;
  /** OpsGuard's status (from the query, the result, or the OpsGuardStatus search attribute). */
  status: string;
  step: string | null;
  transitions: RemediationState['transitions'];
  result: RemediationResult | null;
  /** Set when the workflow failed (e.g. invalid input) rather than ending in an OpsGuard status. */
  failure: string | null;
  startedAt: string;
  closedAt: string | null;
  /** Where this view came from: a live query, the final result, or only search attributes. */
  source: 'query' | 'result' | 'search-attributes';
}

const QUERY_TIMEOUT_MS = 5000;

/** What is known about an incident now, from the best source available. */
export async function readIncident(handle: WorkflowHandle<typeof remediateIncident>): Promise<IncidentView> {
  const d = await handle.describe();
  const base = {
    id: handle.workflowId,
    workflowStatus: d.status.name,
    startedAt: d.startTime.toISOString(),
    closedAt: d.closeTime?.toISOString() ?? null,
  };
  const saStatus = d.typedSearchAttributes.getAll().find((p) => p.key.name === 'OpsGuardStatus')?.value;
  if (d.status.name === 'COMPLETED') {
    const result = await handle.result();
    return { ...base, status: result.status, step: 'done', transitions: [], result, failure: null, source: 'result' };
  }
  if (d.status.name !== 'RUNNING') {
    let failure = `workflow ${d.status.name.toLowerCase()}`;
    try {
      await handle.result();
    } catch (err) {
      if (err instanceof WorkflowFailedError) failure = err.cause?.message ?? err.message;
    }
    return { ...base, status: 'failed', step: null, transitions: [], result: null, failure, source: 'result' };
  }
  // Running: ask the workflow itself; without a worker to answer, fall back to the search attribute.
  const state = await Promise.race([
    handle.query(stateQuery).catch(() => null),
    new Promise<null>((resolve) => setTimeout(() => resolve(null), QUERY_TIMEOUT_MS).unref()),
  ]);
  if (state) {
    return {
      ...base,
      status: state.status,
      step: state.step,
      transitions: state.transitions,
      result: state.result,
      failure: null,
      source: 'query',
    };
  }
  return {
    ...base,
    status: typeof saStatus === 'string' ? saStatus : 'running',
    step: null,
    transitions: [],
    result: null,
    failure: null,
    source: 'search-attributes',
  };
}
