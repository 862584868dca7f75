import { createSmokeActivities } from './ping';

/** Every activity the worker registers, built from its dependencies. */
export function createActivities() {
  return { ...createSmokeActivities() };
}

export type OpsGuardActivities = ReturnType<typeof createActivities>;
