/**
 * A batch of demo incidents for the load benchmarks (throughput.ts, scale-workers.ts): each on its
 * own copy of examples/config-loader (or all on one: an incident storm), started together, delivery
 * off, followed until each leaves `running`; then terminated and their copies removed.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { tsToMs } from '@temporalio/common/lib/time.js';
import { stateQuery } from '../workflows/operator-api';
import { OPSGUARD_STATUS } from '../workflows/search-attributes';
import type { remediateIncident } from '../workflows/remediate-incident';
import { exampleDir } from '../test/support/remediation-harness';
import { startIncident } from '../test/support/worker-process';
import { RACY_SECONDS } from '../activities/tree-state';

export interface Settled {
  /** From the batch's start to the history event that published its status past `running`. */
  ms: number;
  status: string;
  /** The worker that held it (pinned incidents). */
  host?: string;
}

export interface IncidentBatch {
  handles: WorkflowHandle<typeof remediateIncident>[];
  /** Poll visibility every 250 ms until every incident has settled; `tick` runs each round (RSS sampling). */
  settle(tick?: () => void): Promise<Settled[]>;
  /** Terminate them all and remove their repository copies. */
  close(): Promise<void>;
}

export async function startIncidentBatch(
  client: Client,
  opts: {
    taskQueue: string;
    dir: string;
    count: number;
    idPrefix: string;
    /** All on one copy: an incident storm on one commit (one bad deploy, many alerts). */
    oneRepository?: boolean;
  },
): Promise<IncidentBatch> {
  const copies = Array.from({ length: opts.oneRepository ? 1 : opts.count }, (_, i) => {
    const repo = path.join(opts.dir, `repo-${opts.idPrefix}-${i}`);
    fs.cpSync(path.join(exampleDir('config-loader'), 'repo'), repo, { recursive: true });
    return repo;
  });
  // A copy changed within tree-state's racy window is not shared by its incidents: wait past it, as
  // a checkout made before the incidents is.
  if (opts.oneRepository) await new Promise((r) => setTimeout(r, (RACY_SECONDS + 1) * 1000));
  const repos = Array.from({ length: opts.count }, (_, i) => copies[opts.oneRepository ? 0 : i] ?? '');
  const startedAtEpoch = Date.now();
  const handles = await Promise.all(
    repos.map((repo, i) =>
      startIncident(client, {
        taskQueue: opts.taskQueue,
        workflowId: `${opts.idPrefix}-${i}`,
        repo,
        input: { profile: { delivery: { enabled: false } } },
      }),
    ),
  );
  return {
    handles,
    async settle(tick) {
      // One visibility list a round (the status search attribute the workflow upserts), not a
      // query per incident: 20 incidents polled by query every 250 ms made 80 workflow tasks a
      // second on the worker under test, load the benchmark itself added to what it measured.
      const settledIds = new Set<string>();
      while (settledIds.size < handles.length) {
        for await (const w of client.workflow.list({ query: `WorkflowId STARTS_WITH "${opts.idPrefix}-"` })) {
          const status = w.typedSearchAttributes.get(OPSGUARD_STATUS);
          if (status && status !== 'running' && status !== 'delivering') settledIds.add(w.workflowId);
        }
        tick?.();
        if (settledIds.size < handles.length) await new Promise((r) => setTimeout(r, 250));
      }
      // Latency from each history: the event that published the settled status, on the server's clock.
      return await Promise.all(
        handles.map(async (h) => {
          const state = await h.query(stateQuery);
          const at = await settledAt(h, state.status);
          return {
            ms: at - startedAtEpoch,
            status: state.status,
            ...(state.result.host ? { host: state.result.host } : {}),
          };
        }),
      );
    },
    async close() {
      await Promise.all(handles.map((h) => h.terminate('benchmark done').catch(() => undefined)));
      for (const repo of copies) fs.rmSync(repo, { recursive: true, force: true });
    },
  };
}

/** Epoch ms of the search-attribute upsert that set OpsGuardStatus to `status` (the first such event). */
async function settledAt(handle: WorkflowHandle, status: string): Promise<number> {
  const history = await handle.fetchHistory();
  for (const e of history.events ?? []) {
    const field = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.OpsGuardStatus;
    if (field && defaultPayloadConverter.fromPayload(field) === status) return tsToMs(e.eventTime);
  }
  throw new Error(`${handle.workflowId}: no event published status ${status}`);
}
