/**
 * The model service failing, through the real @ai-sdk/openai client against the scripted server, on
 * the real Temporal server, worker and Docker: a 429 with Retry-After and a 500 are retried (each try
 * in history) and the incident goes on; a service that keeps failing ends the incident
 * `model_unavailable` with the reason and its report, never a failed workflow; refused credentials
 * end it at once; a service that hangs, cuts its answer off or answers something that is not a
 * completion is retried the same way; a model that fails only for the PR description costs the description, not the
 * verified fix.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { recordedTurns, remediate } from './support/remediation-harness';
import type { RemediationRun } from './support/remediation-harness';
import type { ScriptedTurn } from './support/scripted-model-server';

const [REPRO, FIX, PR] = recordedTurns('config-loader') as [ScriptedTurn, ScriptedTurn, ScriptedTurn];

/** Each try of an activity type as history has it: its attempt numbers and the last failure's message. */
function tries(run: RemediationRun, type: string): { attempts: number[]; lastFailure: string } {
  const events = run.history.events ?? [];
  const ids = new Set(
    events
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === type)
      .map((e) => String(e.eventId)),
  );
  const started = events.filter((e) => ids.has(String(e.activityTaskStartedEventAttributes?.scheduledEventId)));
  return {
    attempts: started.map((e) => e.activityTaskStartedEventAttributes?.attempt ?? 0),
    lastFailure: started.map((e) => e.activityTaskStartedEventAttributes?.lastFailure?.message ?? '').join(' | '),
  };
}

test('a 429 with Retry-After and a 500 are retried, each try in history, and the incident goes on', async () => {
  const run = await remediate({
    example: 'config-loader',
    turns: [
      { ...REPRO, fault: { status: 429, retryAfter: '1' } },
      { ...REPRO, fault: { status: 500 } },
      REPRO,
      FIX,
      PR,
    ],
  });
  assert.equal(run.result.status, 'approved', run.result.reason);
  const t = tries(run, 'writeReproduction');
  // Started events carry the final attempt number and the failure before it.
  assert.deepEqual(t.attempts, [3]);
  assert.match(t.lastFailure, /The model service answered HTTP 500 \(will retry\)/);
  assert.equal(run.model.requests.filter((r) => r.error?.startsWith('fault')).length, 2);
});

test('a model that hangs past its timeout, cuts its body off, or answers JSON that is no completion: each try retried, in history, and the incident goes on', async () => {
  const run = await remediate({
    example: 'config-loader',
    modelTimeoutSeconds: 2,
    turns: [
      { ...REPRO, fault: { kind: 'cut' } },
      { ...REPRO, fault: { kind: 'shape' } },
      { ...REPRO, fault: { kind: 'hang' } },
      REPRO,
      FIX,
      PR,
    ],
  });
  assert.equal(run.result.status, 'approved', run.result.reason);
  const t = tries(run, 'writeReproduction');
  assert.deepEqual(t.attempts, [4], 'three failed tries, then the answer');
  // History keeps the last failure before the try that started: the hang, cut off at the timeout.
  assert.match(t.lastFailure, /did not answer within 2 s \(OPSGUARD_MODEL_TIMEOUT_SECONDS; will retry\)/);
  assert.deepEqual(run.model.requests.map((r) => r.error ?? 'answered').slice(0, 4), [
    'fault: cut',
    'fault: shape',
    'fault: hang',
    'answered',
  ]);
  assert.equal(run.result.reproductionAttempts.length, 1, 'transient faults are not attempts');
});

test('a model that keeps failing ends the incident model_unavailable with the reason; the workflow does not fail', async () => {
  const run = await remediate({
    example: 'config-loader',
    turns: [REPRO, ...Array.from({ length: 4 }, () => ({ ...FIX, fault: { status: 500 } }))],
  });
  assert.equal(run.result.status, 'model_unavailable', run.result.reason);
  assert.match(run.result.reason, /^The model could not be reached: The model service answered HTTP 500/);
  assert.equal(run.result.reproductionAttempts.length, 1, 'the reproduction was kept');
  const proof = JSON.parse(fs.readFileSync(run.result.artifacts['proof.json'] ?? '', 'utf8')) as { status: string };
  assert.equal(proof.status, 'model_unavailable');
  assert.ok(run.result.artifacts['failure_report.md'], JSON.stringify(Object.keys(run.result.artifacts)));
  assert.equal(run.model.remaining(), 0, 'the four tries were all made (the activity retry policy)');
});

test('refused credentials end the incident at once, saying what to check', async () => {
  const run = await remediate({ example: 'config-loader', turns: [{ ...REPRO, fault: { status: 401 } }] });
  assert.equal(run.result.status, 'model_unavailable');
  assert.match(run.result.reason, /refused the credentials \(HTTP 401\); check OPENAI_API_KEY/);
  assert.deepEqual(tries(run, 'writeReproduction').attempts, [1], 'not retried');
});

test('a model that fails only for the PR description costs the description, not the verified fix', async () => {
  const run = await remediate({
    example: 'config-loader',
    turns: [REPRO, FIX, ...Array.from({ length: 4 }, () => ({ ...PR, fault: { status: 503 } }))],
  });
  assert.equal(run.result.status, 'approved', run.result.reason);
  const description = fs.readFileSync(run.result.artifacts['PR_DESCRIPTION.md'] ?? '', 'utf8');
  assert.match(description, /reproduction/i, 'OpsGuard wrote the evidence itself');
});
