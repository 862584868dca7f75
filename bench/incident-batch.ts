/**
 * A batch of demo incidents for the load benchmarks (throughput.ts, scale-workers.ts): each on its
 * own copy of examples/config-loader, started together, delivery off, followed until each leaves
 * `running`; then terminated and their copies removed.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { stateQuery } from '../workflows/operator-api';
import type { remediateIncident } from '../workflows/remediate-incident';
import { exampleDir } from '../test/support/remediation-harness';
import { startIncident } from '../test/support/worker-process';

export interface Settled {
  /** From the batch's start to the status the state query first showed past `running`. */
  ms: number;
  status: string;
  /** The worker that held it (pinned incidents). */
  host?: string;
}

export interface IncidentBatch {
  handles: WorkflowHandle<typeof remediateIncident>[];
  /** Poll every 250 ms until every incident has settled; `tick` runs each round (RSS sampling). */
  settle(tick?: () => void): Promise<Settled[]>;
  /** Terminate them all and remove their repository copies. */
  close(): Promise<void>;
}

export async function startIncidentBatch(
  client: Client,
  opts: { taskQueue: string; dir: string; count: number; idPrefix: string },
): Promise<IncidentBatch> {
  const repos = Array.from({ length: opts.count }, (_, i) => {
    const repo = path.join(opts.dir, `repo-${opts.idPrefix}-${i}`);
    fs.cpSync(path.join(exampleDir('config-loader'), 'repo'), repo, { recursive: true });
    return repo;
  });
  const started = performance.now();
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
      const done = new Map<number, Settled>();
      while (done.size < handles.length) {
        await Promise.all(
          handles.map(async (h, i) => {
            if (done.has(i)) return;
            const state = await h.query(stateQuery).catch(() => null);
            const status = state?.status ?? 'running';
            if (status !== 'running' && status !== 'delivering')
              done.set(i, {
                ms: performance.now() - started,
                status,
                ...(state?.result.host ? { host: state.result.host } : {}),
              });
          }),
        );
        tick?.();
        await new Promise((r) => setTimeout(r, 250));
      }
      return handles.map((_, i) => done.get(i) as Settled);
    },
    async close() {
      await Promise.all(handles.map((h) => h.terminate('benchmark done').catch(() => undefined)));
      for (const repo of repos) fs.rmSync(repo, { recursive: true, force: true });
    },
  };
}
