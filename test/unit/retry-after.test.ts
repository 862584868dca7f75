/**
 * Retry-After from the model service: seconds or an HTTP date, at least one second, at most
 * MAX_RETRY_AFTER_SECONDS (so the attempt budget stays bounded); nothing usable means the retry
 * policy's own backoff.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_RETRY_AFTER_SECONDS, retryAfterSeconds } from '../../activities/model-client';

test('Retry-After as seconds or a date, bounded; absent or garbage: none', () => {
  const now = Date.parse('2026-11-22T12:00:00Z');
  assert.equal(retryAfterSeconds('7', now), 7);
  assert.equal(retryAfterSeconds('0.2', now), 1);
  assert.equal(retryAfterSeconds('Sun, 22 Nov 2026 12:00:20 GMT', now), 20);
  assert.equal(retryAfterSeconds('3600', now), MAX_RETRY_AFTER_SECONDS);
  assert.equal(retryAfterSeconds(undefined, now), null);
  assert.equal(retryAfterSeconds('soon', now), null);
});
