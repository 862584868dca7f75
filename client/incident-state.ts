import type { RemediationResult, RemediationState } from '../workflows/incident-types';
import type { IncidentReader, WorkflowSummary } from './incident-reader';
import { UserError } from './user-error';

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
  /** What a running incident waits for (the Docker engine...), from the live query. */
  waitingFor?: string;
  /** Where this view came from: a live query, the final result, or only search attributes. */
  source: 'query' | 'result' | 'search-attributes';
}

/** How long a running incident's own answer is waited for before the search attribute is shown instead. */
export const QUERY_TIMEOUT_MS = 5000;

/** The incident's workflow, or a UserError (exit 4) when there is none or it is not an incident. */
export async function describeIncident(reader: IncidentReader, id: string): Promise<WorkflowSummary> {
  const d = await reader.describe(id);
  if (!d) throw new UserError(`Unknown incident '${id}' (no such workflow in namespace ${reader.namespace}).`, 4);
  if (d.type !== 'remediateIncident')
    throw new UserError(`Workflow ${id} is a ${d.type}, not an OpsGuard incident.`, 4);
  return d;
}

/** What is known about an incident now, from the best source available. */
export async function readIncident(
  reader: IncidentReader,
  id: string,
  queryTimeoutMs = QUERY_TIMEOUT_MS,
): Promise<IncidentView> {
  // Describe and query at once, so a running incident (the usual case: someone checking on it, or
  // deciding) costs one round trip; a closed workflow refuses the query at once rather than being
  // replayed, and its close event is read next. (The close event cannot be asked for in parallel:
  // for a running workflow that request waits for it.)
  const [d, state] = await Promise.all([describeIncident(reader, id), reader.queryState(id, queryTimeoutMs)]);
  const base = { id, workflowStatus: d.status, startedAt: d.startTime, closedAt: d.closeTime };
  if (d.status !== 'RUNNING') {
    const outcome = (await reader.outcome(id)) ?? { completed: false, failure: 'closed without a close event' };
    if (outcome.completed) {
      const result = outcome.result as RemediationResult;
      return { ...base, status: result.status, step: 'done', transitions: [], result, failure: null, source: 'result' };
    }
    return {
      ...base,
      status: 'failed',
      step: null,
      transitions: [],
      result: null,
      failure: outcome.failure,
      source: 'result',
    };
  }
  // Running: the workflow's own answer; without a worker to answer, the search attribute.
  if (state) {
    return {
      ...base,
      status: state.status,
      step: state.step,
      transitions: state.transitions,
      result: state.result,
      failure: null,
      source: 'query',
      ...(state.waitingFor ? { waitingFor: state.waitingFor } : {}),
    };
  }
  const saStatus = d.searchAttributes.OpsGuardStatus;
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
