/**
 * The worker process's memory (issue 14's RSS target, measured by bench/throughput.ts; the figures
 * are in the README). Temporal runs every workflow of a worker in one V8 isolate on a worker thread
 * it creates itself, without resource limits, and with the context reused each workflow still
 * evaluates the bundle's modules into a module cache of its own. Three settings:
 *
 * - SHARED_WORKFLOW_MODULES: modules the bundler preloads, evaluated once per worker and shared by
 *   every workflow (workflows/shared-modules.ts says what and why). At 50 incidents the workflow
 *   thread's live heap went from 78 to 49 MiB.
 * - A young generation of WORKFLOW_THREAD_SEMI_SPACE_MB for isolates made from now on: without it
 *   the workflow thread takes V8's default of up to 32 MiB for short-lived objects. V8 reads the
 *   flag when an isolate is created, so it is set before the SDK creates its thread; the main
 *   thread, which exists before any code runs, keeps its own.
 * - `--optimize-for-size`, which V8 reads as it runs: it grows the heaps less eagerly and collects
 *   sooner. At 50 incidents the worker's peak was 344–361 MiB in three runs against 406–421
 *   without it, its CPU time the same within the runs' spread.
 */
import path from 'node:path';
import v8 from 'node:v8';
import { PROJECT_ROOT } from './project-root';

export const SHARED_WORKFLOW_MODULES = [path.join(PROJECT_ROOT, 'workflows', 'shared-modules.ts')];

export const WORKFLOW_THREAD_SEMI_SPACE_MB = 1;

const WORKER_V8_FLAGS = ['--optimize-for-size', `--max-semi-space-size=${WORKFLOW_THREAD_SEMI_SPACE_MB}`];

/** Call before the SDK creates the workflow thread (Worker.create). */
export function applyWorkerMemorySettings(): void {
  for (const flag of WORKER_V8_FLAGS) v8.setFlagsFromString(flag);
}
