/** Labels on every OpsGuard container, so the janitor can find leftovers after a crash. */
export const SANDBOX_LABEL = 'io.opsguard.sandbox';
export const INCIDENT_LABEL = 'io.opsguard.incident';
export const PURPOSE_LABEL = 'io.opsguard.purpose';
/** Unix time (seconds) after which the container has outlived its deadline: the janitor's cue. */
export const DEADLINE_LABEL = 'io.opsguard.deadline';
/** The worker process that runs the container (container-owner.ts): `<host>/<pid>/<start>`. */
export const OWNER_LABEL = 'io.opsguard.owner';
