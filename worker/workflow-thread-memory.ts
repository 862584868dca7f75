/**
 * The memory of the workflow thread. Temporal runs every workflow of a worker in one V8 isolate on a
 * worker thread it creates itself, without resource limits, and with the context reused each
 * workflow still evaluates the bundle's modules into its own module cache. Two settings keep that
 * thread small (bench/throughput.ts; the figures are in the README):
 *
 * - SHARED_WORKFLOW_MODULES: modules the bundler preloads, evaluated once per worker and shared by
 *   every workflow (workflows/shared-modules.ts says what and why).
 * - WORKFLOW_THREAD_SEMI_SPACE_MB: V8's young generation for isolates made from now on. Without it
 *   the thread takes V8's default of up to 3 x 16 MiB for short-lived objects, which a workflow
 *   thread, whose objects live as long as their incident, does not need. V8 reads the flag when an
 *   isolate is created, so it is set before the SDK creates its thread; the main thread (made
 *   before any code runs) keeps its own.
 */
import path from 'node:path';
import v8 from 'node:v8';
import { PROJECT_ROOT } from './project-root';

export const SHARED_WORKFLOW_MODULES = [path.join(PROJECT_ROOT, 'workflows', 'shared-modules.ts')];

export const WORKFLOW_THREAD_SEMI_SPACE_MB = 1;

/** Call before the SDK creates the workflow thread (Worker.create). */
export function limitWorkflowThreadYoungGeneration(): void {
  v8.setFlagsFromString(`--max-semi-space-size=${WORKFLOW_THREAD_SEMI_SPACE_MB}`);
}
