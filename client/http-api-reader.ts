/**
 * Incidents read through Temporal's HTTP API (the frontend's /api/v1, which serves the same
 * WorkflowService as gRPC, as JSON). Plain node:http: nothing to load but Node itself, which is why
 * `opsguard status` over it starts in about a third of the time it takes over gRPC.
 *
 * Payloads are requested in full (`noPayloadShorthand`: metadata and base64 data, not the API's
 * default shorthand that inlines JSON values), so they decode exactly as gRPC's do.
 * Anything that is not a Temporal answer for this namespace throws HttpApiUnavailable, and the caller
 * (incident-reader.ts) reads over gRPC instead.
 */
import http from 'node:http';
import { OPERATOR_API } from '../workflows/incident-types';
import type { RemediationState } from '../workflows/incident-types';
import type { IncidentReader, WorkflowSummary } from './incident-reader';
import { closeOutcome, decodePayload, decodeSearchAttributes, executionStatusName } from './temporal-records';
import type { CloseEventRecord, PayloadRecord } from './temporal-records';

const REQUEST_TIMEOUT_MS = 5000;

/**
 * Nothing at the URL answers as Temporal's HTTP API for this namespace (refused, another service on
 * the port, a proxy's error page, credentials needed, a server error).
 */
export class HttpApiUnavailable extends Error {}

/** The API was reached but did not answer in time (a query with no worker to answer it, say). */
export class HttpApiTimedOut extends HttpApiUnavailable {}

/** Temporal answered with an error (its gRPC status code in the JSON body). */
export class HttpApiRefused extends HttpApiUnavailable {
  constructor(
    message: string,
    readonly grpcCode: number,
  ) {
    super(message);
  }
}

/**
 * The server's ways of saying a workflow cannot answer a query now: INVALID_ARGUMENT (3),
 * DEADLINE_EXCEEDED (4), RESOURCE_EXHAUSTED (8, e.g. queries buffered while no worker has run it),
 * FAILED_PRECONDITION (9). The same as gRPC's reader: no answer, not a missing API.
 */
const QUERY_NOT_ANSWERED = new Set([3, 4, 8, 9]);

interface ExecutionInfoJson {
  execution?: { workflowId?: string };
  type?: { name?: string };
  status?: string;
  startTime?: string;
  closeTime?: string | null;
  taskQueue?: string;
  searchAttributes?: { indexedFields?: Record<string, PayloadRecord> } | null;
}

type Body = { code?: number; message?: string } & Record<string, unknown>;

/** One request; resolves with the JSON body of a 200, or null for "no such workflow". */
function request(target: string, method: 'GET' | 'POST', timeoutMs: number, body?: object): Promise<Body | null> {
  const where = `${method} ${target}`;
  const url = `${target}${target.includes('?') ? '&' : '?'}noPayloadShorthand`;
  return new Promise((resolve, reject) => {
    const payload = body ? JSON.stringify(body) : undefined;
    const req = http.request(
      url,
      {
        method,
        headers: {
          accept: 'application/json',
          ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
        },
        timeout: timeoutMs,
        // One connection per request, closed after it: nothing keeps the process alive once it is done.
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => reject(new HttpApiUnavailable(`${where}: ${err.message}`)));
        res.on('end', () => {
          let json: Body;
          try {
            json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Body;
          } catch {
            return reject(new HttpApiUnavailable(`${where}: HTTP ${res.statusCode}, not JSON`));
          }
          if (res.statusCode === 200) return resolve(json);
          // gRPC NOT_FOUND for the workflow (not for the namespace: that is the gRPC path's to report).
          if (res.statusCode === 404 && json.code === 5 && /workflow/i.test(json.message ?? '')) return resolve(null);
          const message = `${where}: HTTP ${res.statusCode} ${json.message ?? ''}`.trim();
          reject(
            typeof json.code === 'number' ? new HttpApiRefused(message, json.code) : new HttpApiUnavailable(message),
          );
        });
      },
    );
    req.on('timeout', () => {
      reject(new HttpApiTimedOut(`${where}: no answer within ${timeoutMs} ms`));
      req.destroy();
    });
    req.on('error', (err) => reject(new HttpApiUnavailable(`${where}: ${err.message}`)));
    req.end(payload);
  });
}

function summary(info: ExecutionInfoJson): WorkflowSummary {
  const iso = (s: string | null | undefined) => (s ? new Date(s).toISOString() : null);
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

/** A reader on the HTTP API at `base` (e.g. http://127.0.0.1:7243). Connects on its first request. */
export function httpApiReader(base: string, namespace: string): IncidentReader {
  const ns = `${base}/api/v1/namespaces/${encodeURIComponent(namespace)}`;
  const wf = (id: string) => `${ns}/workflows/${encodeURIComponent(id)}`;

  return {
    namespace,
    async describe(id) {
      const body = await request(wf(id), 'GET', REQUEST_TIMEOUT_MS);
      return body ? summary(body.workflowExecutionInfo ?? {}) : null;
    },
    async outcome(id) {
      const url = `${wf(id)}/history?historyEventFilterType=HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT`;
      const body = await request(url, 'GET', REQUEST_TIMEOUT_MS);
      const events = (body?.history as { events?: CloseEventRecord[] } | undefined)?.events ?? [];
      return events.length ? closeOutcome(events[events.length - 1]) : null;
    },
    async queryState(id, timeoutMs) {
      try {
        const body = await request(`${wf(id)}/query/${OPERATOR_API.stateQuery}`, 'POST', timeoutMs, {
          queryRejectCondition: 'QUERY_REJECT_CONDITION_NOT_OPEN',
        });
        const payloads = (body?.queryResult as { payloads?: PayloadRecord[] } | undefined)?.payloads;
        return (decodePayload(payloads?.[0]) as RemediationState | undefined) ?? null; // rejected: closed
      } catch (err) {
        if (err instanceof HttpApiTimedOut) return null; // no worker answered in time
        if (err instanceof HttpApiRefused && QUERY_NOT_ANSWERED.has(err.grpcCode)) return null;
        throw err; // not Temporal's answer: the caller reads over gRPC
      }
    },
    async list(query, limit) {
      const out: WorkflowSummary[] = [];
      let token = '';
      do {
        const params = new URLSearchParams({ query, pageSize: String(Math.min(limit, 100)) });
        if (token) params.set('nextPageToken', token);
        const body = await request(`${ns}/workflows?${params.toString()}`, 'GET', REQUEST_TIMEOUT_MS);
        if (!body) throw new HttpApiUnavailable(`list: HTTP 404`);
        for (const info of (body.executions as ExecutionInfoJson[] | undefined) ?? []) {
          out.push(summary(info));
          if (out.length >= limit) return out;
        }
        token = typeof body.nextPageToken === 'string' ? body.nextPageToken : '';
      } while (token);
      return out;
    },
    async close() {
      // Nothing to close: every request had its own connection.
    },
  };
}
