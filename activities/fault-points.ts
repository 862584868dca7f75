/**
 * Named points where a worker can be made to stop, so a fault test can kill the real process exactly
 * there (OPSGUARD_TEST_PAUSE_AT, worker/settings.ts). Unset in any real deployment: then nothing
 * here does anything. The pause is the only injected part; the kill and the recovery are real.
 */
export const FAULT_POINTS = ['between-artifacts'] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];

/** At `point`, when the worker was told to pause there: say so on stdout and wait to be killed. */
export async function faultPoint(point: FaultPoint, pauseAt: FaultPoint | null | undefined): Promise<void> {
  if (pauseAt !== point) return;
  console.log(`[FAULT] paused at ${point} (OPSGUARD_TEST_PAUSE_AT); waiting to be killed`);
  await new Promise<never>(() => undefined);
}
