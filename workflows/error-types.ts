/**
 * The names of OpsGuard's own failures (ApplicationFailure types), one constant each. Every one is
 * final: retrying gives the same answer, so activity retry policies list them all as non-retryable.
 */
export const ERROR_TYPES = {
  /** The workflow input is not an incident (missing fields, wrong types, out-of-range limits). */
  invalidIncidentInput: 'InvalidIncidentInput',
  /** repoPath is not a directory the worker can read. */
  repoNotFound: 'RepoNotFound',
  /** repoPath (or what it resolves to through symlinks) is outside the worker's OPSGUARD_REPO_ROOTS, or too big. */
  repoNotAllowed: 'RepoNotAllowed',
  /** No model configured, or the model service refused the key or the model id. */
  modelNotConfigured: 'ModelNotConfigured',
  /** The model service rejected the request itself (HTTP 400). */
  modelRequestRejected: 'ModelRequestRejected',
  /** A pinned reproduction script no longer matches its recorded hash. */
  artifactTampered: 'ArtifactTampered',
  /** The sandbox image is not on the Docker engine. */
  sandboxImageMissing: 'SandboxImageMissing',
  /** A moving incident's repository is no longer the tree it started on (activities/workspace.ts). */
  repositoryChanged: 'RepositoryChanged',
  /** A moving incident's artifact folder is not visible to the worker taking it over. */
  incidentFilesLost: 'IncidentFilesLost',
} as const;

export type ErrorType = (typeof ERROR_TYPES)[keyof typeof ERROR_TYPES];

export const NON_RETRYABLE_ERRORS: ErrorType[] = Object.values(ERROR_TYPES);

/**
 * Failures that are worth waiting out (never in a non-retryable list): the activity retries them, and
 * the workflow waits for the Docker engine when it stays away (workflows/docker-wait.ts).
 */
export const TRANSIENT_ERROR_TYPES = {
  /** The Docker engine does not answer (stopped, restarting, its socket gone). */
  dockerUnavailable: 'DockerUnavailable',
  /** The model service asked for a pause (429/503 with Retry-After). */
  modelBusy: 'ModelBusy',
} as const;
