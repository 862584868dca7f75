/**
 * A container run's summary as the gates read it, built from a few fields: the pure gate tests
 * (test/unit/proof-gates.test.ts, test/unit/hang-incidents.test.ts) construct runs with this.
 * The default is a run that failed (exit 1) with no exception, no coverage and no tripwire.
 */
import type { RunSummary } from '../../workflows/incident-types';

export const RUN_LIMITS = { memoryMb: 512, cpus: 1, timeoutSeconds: 60, pids: 128 };

export function runSummary(over: Partial<RunSummary>): RunSummary {
  return {
    exitCode: 1,
    timedOut: false,
    oomKilled: false,
    durationMs: 100,
    imageId: 'sha256:0',
    limits: RUN_LIMITS,
    warnings: [],
    exception: null,
    ranToEnd: false,
    stdoutTail: '',
    stderrTail: '',
    stdoutPath: '/x/stdout.txt',
    stderrPath: '/x/stderr.txt',
    outputTruncated: false,
    tripwire: null,
    coverage: null,
    ...over,
  };
}
