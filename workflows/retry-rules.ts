/**
 * Retry rules, in one place. Two kinds, never mixed:
 * - Attempts (workflow logic with feedback): a reproduction that does not fail correctly, a fix
 *   that does not verify, a malformed model answer. Counted here, never retried by Temporal.
 * - Activity retries (transient faults only): Docker daemon hiccups, model 429/5xx, timeouts.
 */
import { ActivityCancellationType } from '@temporalio/workflow';
import type { ActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE_ERRORS } from './error-types';

export const MAX_REPRODUCTION_ATTEMPTS = 2;
export const MAX_FIX_ATTEMPTS = 3;

/** Model calls: a slow model is normal; 429/5xx are retried with backoff. */
export const MODEL_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '5 minutes',
  // Every activity beats every second (activities/heartbeats.ts): a lost worker is noticed in 10 s.
  heartbeatTimeout: '10 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumAttempts: 4,
    nonRetryableErrorTypes: NON_RETRYABLE_ERRORS,
  },
};

/** Sandbox runs: the container's own deadline is inside this; a daemon hiccup is retried. */
export const SANDBOX_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '15 minutes',
  // The activity beats every second (sent at most every 2 s): a lost worker is noticed in 10 s.
  heartbeatTimeout: '10 seconds',
  // A cancelled incident waits until its containers are stopped before it writes its ending.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumAttempts: 3,
    nonRetryableErrorTypes: NON_RETRYABLE_ERRORS,
  },
};

/**
 * Dependency preparation: installs (and may compile) packages; the container's own deadline (at most
 * an hour, prepare-timeout-seconds) is inside this. A network hiccup is retried once.
 */
export const PREPARE_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '65 minutes',
  heartbeatTimeout: '10 seconds',
  retry: {
    initialInterval: '5 seconds',
    backoffCoefficient: 2,
    maximumAttempts: 2,
    nonRetryableErrorTypes: NON_RETRYABLE_ERRORS,
  },
};

/** Local file work: workspace copies, patches, artifacts. */
export const FILES_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '10 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumAttempts: 3,
    nonRetryableErrorTypes: NON_RETRYABLE_ERRORS,
  },
};

/**
 * Delivery (git and GitHub): each step is idempotent, so a retry is always safe. Heartbeats every 2 s:
 * a worker killed mid-step is noticed within the heartbeat timeout and the step runs again elsewhere.
 */
export const DELIVERY_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '10 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumAttempts: 5,
    nonRetryableErrorTypes: NON_RETRYABLE_ERRORS,
  },
};

/** How long a failed delivery waits for `opsguard deliver` before the incident ends as delivery_failed. */
export const DELIVERY_RETRY_WINDOW = '7 days';
