/**
 * Temporal's records as the command line reads them (payloads, search attributes, execution statuses,
 * close events), decoded the same way whether they came as protobuf objects over gRPC or as JSON
 * from the HTTP API. Pure functions: no Temporal SDK, no I/O.
 *
 * The two encodings differ only in how bytes and enums travel: gRPC gives Uint8Array and numbers,
 * the HTTP API (asked for full payloads) base64 strings and enum names.
 */

type Bytes = string | Uint8Array | null | undefined;

export interface PayloadRecord {
  metadata?: Record<string, Bytes> | null;
  data?: Bytes;
}

export interface FailureRecord {
  message?: string | null;
  cause?: FailureRecord | null;
}

/** The attributes of a workflow's close event, in either encoding. */
export interface CloseEventRecord {
  workflowExecutionCompletedEventAttributes?: { result?: { payloads?: PayloadRecord[] | null } | null } | null;
  workflowExecutionFailedEventAttributes?: { failure?: FailureRecord | null } | null;
  workflowExecutionTerminatedEventAttributes?: { reason?: string | null } | null;
  workflowExecutionCanceledEventAttributes?: object | null;
  workflowExecutionTimedOutEventAttributes?: object | null;
  workflowExecutionContinuedAsNewEventAttributes?: object | null;
}

export type WorkflowOutcome = { completed: true; result: unknown } | { completed: false; failure: string };

/** A payload a record could not decode: says which encoding, so the fix is obvious. */
export class UndecodablePayload extends Error {}

const text = (b: Bytes): string =>
  b == null ? '' : typeof b === 'string' ? Buffer.from(b, 'base64').toString('utf8') : Buffer.from(b).toString('utf8');

/** A payload written by Temporal's default converter (JSON, or null). */
export function decodePayload(p: PayloadRecord | null | undefined): unknown {
  if (!p) return undefined;
  const encoding = text(p.metadata?.encoding);
  if (encoding === 'json/plain') return JSON.parse(text(p.data));
  if (encoding === 'binary/null') return null;
  throw new UndecodablePayload(`a payload in encoding '${encoding || '(none)'}' (OpsGuard writes json/plain)`);
}

export function decodeSearchAttributes(
  indexed: Record<string, PayloadRecord> | null | undefined,
): Record<string, unknown> {
  return Object.fromEntries(Object.entries(indexed ?? {}).map(([k, v]) => [k, decodePayload(v)]));
}

const STATUS_PREFIX = 'WORKFLOW_EXECUTION_STATUS_';
/** temporal.api.enums.v1.WorkflowExecutionStatus, by number (gRPC) and by name (HTTP). */
const STATUS_NAMES = [
  'UNSPECIFIED',
  'RUNNING',
  'COMPLETED',
  'FAILED',
  'CANCELED',
  'TERMINATED',
  'CONTINUED_AS_NEW',
  'TIMED_OUT',
  'PAUSED',
];

/** RUNNING, COMPLETED, FAILED, ... (the names `temporal workflow describe` and the SDK print). */
export function executionStatusName(status: string | number | null | undefined): string {
  if (typeof status === 'number') return STATUS_NAMES[status] ?? `UNKNOWN_${status}`;
  if (typeof status === 'string') return status.startsWith(STATUS_PREFIX) ? status.slice(STATUS_PREFIX.length) : status;
  return 'UNSPECIFIED';
}

/** A failure and its causes, outermost first: "Activity task failed: No model is configured: ...". */
export function failureText(failure: FailureRecord | null | undefined): string {
  const parts: string[] = [];
  for (let f = failure; f && parts.length < 8; f = f.cause) if (f.message) parts.push(f.message);
  return parts.join(': ') || 'failed without a message';
}

/** What a closed workflow ended with, from its close event. */
export function closeOutcome(event: CloseEventRecord | null | undefined): WorkflowOutcome {
  if (!event) return { completed: false, failure: 'its close event is missing from the history' };
  const completed = event.workflowExecutionCompletedEventAttributes;
  if (completed) return { completed: true, result: decodePayload(completed.result?.payloads?.[0]) };
  if (event.workflowExecutionFailedEventAttributes)
    return { completed: false, failure: failureText(event.workflowExecutionFailedEventAttributes.failure) };
  if (event.workflowExecutionTerminatedEventAttributes)
    return {
      completed: false,
      failure: `terminated${event.workflowExecutionTerminatedEventAttributes.reason ? `: ${event.workflowExecutionTerminatedEventAttributes.reason}` : ''}`,
    };
  if (event.workflowExecutionCanceledEventAttributes) return { completed: false, failure: 'canceled' };
  if (event.workflowExecutionTimedOutEventAttributes)
    return { completed: false, failure: 'timed out (workflow execution timeout)' };
  if (event.workflowExecutionContinuedAsNewEventAttributes) return { completed: false, failure: 'continued as new' };
  return { completed: false, failure: 'closed by an event OpsGuard does not know' };
}
