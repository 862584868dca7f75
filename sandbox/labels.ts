/** Labels on every OpsGuard container, so the janitor can find leftovers after a crash. */
export const SANDBOX_LABEL = 'io.opsguard.sandbox';
export const INCIDENT_LABEL = 'io.opsguard.incident';
export const PURPOSE_LABEL = 'io.opsguard.purpose';
