/**
 * How the command line reads incidents from Temporal, whichever API it reaches:
 * - the HTTP API (http-api-reader.ts), when one answers: no gRPC client to load, so `status`, `watch`
 *   and `list` start in a fraction of the time;
 * - gRPC (grpc-reader.ts) otherwise: always available, and what secure clusters use.
 * Both make the same requests (describe, the close event, the `state` query, list) and decode the
 * answers with the same functions (temporal-records.ts); test/cli-readers.test.ts holds their views
 * equal on incidents in every state.
 */
import type { Settings } from '../worker/settings';
import type { RemediationState } from '../workflows/incident-types';
import type { WorkflowOutcome } from './temporal-records';

/** One workflow execution as describe and list return it. */
export interface WorkflowSummary {
  id: string;
  type: string;
  /** RUNNING, COMPLETED, FAILED, ... */
  status: string;
  /** ISO 8601, millisecond precision (truncated, as the SDK does). */
  startTime: string;
  closeTime: string | null;
  taskQueue: string;
  searchAttributes: Record<string, unknown>;
}

export interface IncidentReader {
  readonly namespace: string;
  /** null when no such workflow exists in the namespace. */
  describe(id: string): Promise<WorkflowSummary | null>;
  /**
   * How a closed workflow ended (its close event); null when there is no such workflow. Only for
   * closed workflows: for a running one the request waits for the close event.
   */
  outcome(id: string): Promise<WorkflowOutcome | null>;
  /**
   * The workflow's `state` query, answered only while it runs (a closed workflow is not replayed);
   * null when it is closed, nobody answered within timeoutMs (no worker), or it was refused.
   */
  queryState(id: string, timeoutMs: number): Promise<RemediationState | null>;
  /** Executions matching a visibility query, newest first, at most `limit`. */
  list(query: string, limit: number): Promise<WorkflowSummary[]>;
  close(): Promise<void>;
}

/**
 * Over the HTTP API when one is configured (settings.temporal.httpApi) and answers; otherwise, or as
 * soon as it does not answer as Temporal, over gRPC (which reports an unreachable server as a
 * UserError, exit 3). There is no separate probe: the first real request decides.
 */
export async function openIncidentReader(settings: Settings): Promise<IncidentReader> {
  let grpc: Promise<IncidentReader> | undefined;
  const openGrpc = () => (grpc ??= import('./grpc-reader').then((m) => m.openGrpcReader(settings)));
  if (!settings.temporal.httpApi) return await openGrpc();
  const { httpApiReader, HttpApiUnavailable } = await import('./http-api-reader');
  const http = httpApiReader(settings.temporal.httpApi, settings.temporal.namespace);

  const attempt = async <T>(read: (r: IncidentReader) => Promise<T>): Promise<T> => {
    if (!grpc) {
      try {
        return await read(http);
      } catch (err) {
        if (!(err instanceof HttpApiUnavailable)) throw err;
      }
    }
    return await read(await openGrpc());
  };
  return {
    namespace: settings.temporal.namespace,
    describe: (id) => attempt((r) => r.describe(id)),
    outcome: (id) => attempt((r) => r.outcome(id)),
    queryState: (id, timeoutMs) => attempt((r) => r.queryState(id, timeoutMs)),
    list: (query, limit) => attempt((r) => r.list(query, limit)),
    close: async () => {
      // A gRPC reader that failed to open has nothing to close (its error was already thrown).
      await (await grpc?.catch(() => undefined))?.close();
    },
  };
}
