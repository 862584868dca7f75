/**
 * A real worker process (`worker/main.ts`, configured from its environment like any deployment), its
 * output kept, for tests that kill workers or run several beside each other.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from '../../worker/settings';
import { TEST_TEMPORAL_ADDRESS } from './temporal';

export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves once the worker polls its task queue. */
  polling: Promise<void>;
  kill(): Promise<void>;
}

export function startWorkerProcess(env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'worker', 'main.ts')], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, TEMPORAL_ADDRESS: TEST_TEMPORAL_ADDRESS, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
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
