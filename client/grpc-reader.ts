/**
 * Incidents read over gRPC: the same WorkflowService requests as http-api-reader.ts, made through
 * the Temporal client's connection (TLS, API keys and profiles as settings.ts configures them), and
 * decoded by the same functions.
 */
import type { Client } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time.js';
import type { Settings } from '../worker/settings';
import { OPERATOR_API } from '../workflows/incident-types';
import type { RemediationState } from '../workflows/incident-types';
import type { IncidentReader, WorkflowSummary } from './incident-reader';
import { closeOutcome, decodePayload, decodeSearchAttributes, executionStatusName } from './temporal-records';
import type { CloseEventRecord, PayloadRecord } from './temporal-records';
import { connectClient } from './temporal-connection';

/** temporal.api.enums.v1.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT */
const CLOSE_EVENT_FILTER = 2;
/** gRPC status NOT_FOUND */
const NOT_FOUND = 5;
/** temporal.api.enums.v1.QueryRejectCondition.QUERY_REJECT_CONDITION_NOT_OPEN: a closed workflow is not replayed to answer. */
const REJECT_UNLESS_OPEN = 2;

type Timestamp = Parameters<typeof tsToMs>[0];

interface ExecutionInfoProto {
  execution?: { workflowId?: string | null } | null;
  type?: { name?: string | null } | null;
  status?: number | null;
  startTime?: Timestamp | null;
  closeTime?: Timestamp | null;
  taskQueue?: string | null;
  searchAttributes?: { indexedFields?: Record<string, PayloadRecord> | null } | null;
}

function summary(info: ExecutionInfoProto): WorkflowSummary {
  const iso = (t: Timestamp | null | undefined) => (t ? new Date(tsToMs(t)).toISOString() : null);
  return {
    id: info.execution?.workflowId ?? '',
    type: info.type?.name ?? '',
    status: executionStatusName(info.status),
    startTime: iso(info.startTime) ?? '',
    closeTime: iso(info.closeTime),
    taskQueue: info.taskQueue ?? '',
    searchAttributes: decodeSearchAttributes(info.searchAttributes?.indexedFields),
  };
}

/** A reader on a client that is already connected (the caller closes it). */
export function grpcReader(client: Client): IncidentReader {
  const service = client.workflowService;
  const namespace = client.options.namespace;
  return {
    namespace,
    async describe(id) {
      try {
        const d = await service.describeWorkflowExecution({ namespace, execution: { workflowId: id } });
        return summary(d.workflowExecutionInfo ?? {});
      } catch (err) {
        if ((err as { code?: number }).code === NOT_FOUND) return null;
        throw err;
      }
    },
    async outcome(id) {
      try {
        const h = await service.getWorkflowExecutionHistory({
          namespace,
          execution: { workflowId: id },
          historyEventFilterType: CLOSE_EVENT_FILTER,
        });
        const events = (h.history?.events ?? []) as CloseEventRecord[];
        return events.length ? closeOutcome(events[events.length - 1]) : null;
      } catch (err) {
        if ((err as { code?: number }).code === NOT_FOUND) return null;
        throw err;
      }
    },
    async queryState(id, timeoutMs) {
      try {
        const r = await client.connection.withDeadline(Date.now() + timeoutMs, () =>
          service.queryWorkflow({
            namespace,
            execution: { workflowId: id },
            query: { queryType: OPERATOR_API.stateQuery },
            queryRejectCondition: REJECT_UNLESS_OPEN,
          }),
        );
        return (decodePayload(r.queryResult?.payloads?.[0]) as RemediationState) ?? null;
      } catch {
        return null;
      }
    },
    async list(query, limit) {
      const out: WorkflowSummary[] = [];
      let nextPageToken: Uint8Array | undefined;
      do {
        const page = await service.listWorkflowExecutions({
          namespace,
          query,
          pageSize: Math.min(limit, 100),
          ...(nextPageToken ? { nextPageToken } : {}),
        });
        for (const info of page.executions ?? []) {
          out.push(summary(info));
          if (out.length >= limit) return out;
        }
        nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
      } while (nextPageToken);
      return out;
    },
    async close() {
      // The caller owns the client's connection.
    },
  };
}

/** Connect (a UserError, exit 3, when Temporal does not answer) and read over gRPC. */
export async function openGrpcReader(settings: Settings): Promise<IncidentReader> {
  const { client, close } = await connectClient(settings);
  return { ...grpcReader(client), close };
}
