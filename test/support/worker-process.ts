/**
 * A real worker process (`opsguard worker`, configured from its environment like any deployment), its
 * output kept, for tests that kill workers or run several beside each other; and what those tests
 * share: the worker's environment, starting the example incident, approving it once verified.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from '../../worker/settings';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { approveUpdate, stateQuery } from '../../workflows/operator-api';
import type { remediateIncident } from '../../workflows/remediate-incident';
import { exampleDir } from './remediation-harness';
import { TEST_TEMPORAL_ADDRESS } from './temporal';

export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves once the worker polls its task queue. */
  polling: Promise<void>;
  kill(): Promise<void>;
}

export function startWorkerProcess(env: Record<string, string>, as?: { uid: number; gid: number }): WorkerProcess {
  // What operators run (README): the command line's bundle, plain Node, no TypeScript loader.
  const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'client', 'bin.mjs'), 'worker'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, TEMPORAL_ADDRESS: TEST_TEMPORAL_ADDRESS, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...as,
  });
  let out = '';
  let markPolling = () => undefined as void;
  const polling = new Promise<void>((r) => (markPolling = r));
  const take = (d: Buffer) => {
    out += d.toString();
    if (out.includes('[WORKER] polling task queue')) markPolling();
  };
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    output: () => out,
    polling,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A worker process's environment: its queue, its home, the repositories it may read, the scripted model. */
export function workerEnv(opts: { taskQueue: string; dir: string; modelURL: string }): Record<string, string> {
  return {
    OPSGUARD_TASK_QUEUE: opts.taskQueue,
    OPSGUARD_HOME: path.join(opts.dir, 'home'),
    OPSGUARD_REPO_ROOTS: opts.dir,
    OPENAI_BASE_URL: opts.modelURL,
    OPENAI_API_KEY: 'sk-test-not-a-secret',
    OPSGUARD_MODEL: 'scripted',
  };
}

/** Start an incident on `taskQueue` for the config-loader example copied to `repo`. */
export async function startIncident(
  client: Client,
  opts: { taskQueue: string; workflowId: string; repo: string; input?: Record<string, unknown> },
): Promise<WorkflowHandle<typeof remediateIncident>> {
  return await client.workflow.start<typeof remediateIncident>('remediateIncident', {
    taskQueue: opts.taskQueue,
    workflowId: opts.workflowId,
    args: [
      {
        repoPath: opts.repo,
        errorLog: fs.readFileSync(path.join(exampleDir('config-loader'), 'incident.log'), 'utf8'),
        incidentId: opts.workflowId,
        ...opts.input,
      },
    ],
  });
}

/** Wait (up to 2 minutes) until the incident awaits approval, then approve the patch it shows. */
export async function approveWhenVerified(
  handle: WorkflowHandle<typeof remediateIncident>,
  context: () => string,
): Promise<void> {
  let state = await handle.query(stateQuery).catch(() => null);
  for (let i = 0; i < 600 && state?.status !== 'awaiting_approval'; i++) {
    await new Promise((r) => setTimeout(r, 200));
    state = await handle.query(stateQuery).catch(() => null);
  }
  assert.equal(state?.status, 'awaiting_approval', context());
  await handle.executeUpdate(approveUpdate, { args: [{ by: 'e2e-operator', patchSha256: state?.result.patchSha256 }] });
}
