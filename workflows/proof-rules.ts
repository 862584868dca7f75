/**
 * How much evidence a proof needs (pure constants, used by the workflow and shown in the evidence).
 * Attempts with feedback are retry rules (retry-rules.ts); these say how often each script runs
 * within one attempt, and how many hidden variants the model may add.
 */

/** Gate 1 runs the primary reproduction this often: it must fail the same way every time. */
export const REPRODUCTION_REPEATS = 3;
/** Gate 2 runs it this often with the patch: it must pass every time. */
export const FIX_REPEATS = 3;
/** Each hidden variant runs this often at gate 1 (must fail every time) and at gate 2 (must pass). */
export const VARIANT_REPEATS_AT_GATE1 = 3;
export const VARIANT_REPEATS_AT_GATE2 = 1;
/** At most this many hidden variants are kept from the model's answer. */
export const MAX_VARIANTS = 3;
/**
 * How many runs of a script, from the first, coverage.py measures: the runs a gate reads it from, and
 * no more (it costs about 55 ms of CPU a run, a fifth of a reproduction's). Gate 1 reads every run's
 * when the assertion rule can apply (the incident is a failed check: which repository functions ran),
 * otherwise none; the first run is measured anyway, as evidence. Gate 2 reads the primary's first run
 * (did the reproduction execute the change) and never a variant's.
 */
export function coverageRuns(
  gate: 1 | 2,
  script: { role: 'primary' | 'variant'; repeats: number },
  incidentIsCheck = false,
): number {
  if (gate === 1) return incidentIsCheck ? script.repeats : 1;
  return script.role === 'primary' ? 1 : 0;
}
/** Containers of one attempt that run at once. */
export const PARALLEL_RUNS = 4;
/**
 * A hang incident (Ctrl-C, pytest-timeout, a stack dump at a deadline): the runner stops a reproduction
 * still running after this long, where it is, and signs that it hung there (limits.hangAfterSeconds).
 * Only armed for hang incidents; it stays inside the run's own deadline (reproduction-runs.ts).
 */
export const HANG_AFTER_SECONDS = 10;
/** Default per-test deadline inside the repository's test run, in seconds. */
export const DEFAULT_PER_TEST_SECONDS = 30;
/** Default deadline of a whole test run (the container), in seconds. */
export const DEFAULT_TESTS_TIMEOUT_SECONDS = 600;
