/**
 * Replay: histories recorded from real runs (test/fixtures/histories, made by
 * test/record-histories.ts) must replay without a determinism error against today's workflow code.
 * A workflow change that would break running incidents fails here; put such changes behind
 * patched() and record new fixtures.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker } from '@temporalio/worker';
import { bundleWorkflows, installRuntimeOnce } from '../../worker/create-worker';
import { PROJECT_ROOT } from '../../worker/settings';

const DIR = path.join(PROJECT_ROOT, 'test', 'fixtures', 'histories');
const fixtures = fs
  .readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();
installRuntimeOnce();
const bundle = bundleWorkflows();

test('there are recorded histories to replay', () => {
  assert.deepEqual(fixtures, [
    // Recorded with decisions bound to the patch hash and the approval policy (patched('approval-v2')).
    'approval-v2-approved-first-try.json',
    'approval-v2-dependencies-approved.json',
    'approval-v2-environment-failed.json',
    'approval-v2-two-person-approved.json',
    // Recorded before proof v2: incidents started then replay on legacy/remediate-incident-v1.ts.
    'approved-first-try.json',
    // Recorded with delivery after approval (patched('delivery-v1')): branch, push, pull request, a retry.
    'delivery-v1-approved-not-git.json',
    // An operator's cancellation: containers stopped, the ending written (patched('cancel-v1')).
    'delivery-v1-cancelled.json',
    'delivery-v1-delivered.json',
    'delivery-v1-delivery-failed-then-retried.json',
    // The model failing after its retries ends the incident model_unavailable (patched('model-unavailable-v1')).
    'delivery-v1-model-unavailable.json',
    // Recorded with the prepare_environment step (patched('environment-v1')).
    'environment-v1-approved-first-try.json',
    'environment-v1-dependencies-approved.json',
    'environment-v1-environment-failed.json',
    'infra-error.json',
    // Recorded with proof v2 (patched('proof-v2')).
    'proof-v2-approved-first-try.json',
    'proof-v2-infra-error.json',
    'proof-v2-refusals-then-approved.json',
    'refusals-then-approved.json',
    // Container steps on the sandbox queue (patched('sandbox-queue-v1')); a step that found no engine
    // waited and was tried again (patched('docker-wait-v1')).
    'sandbox-queue-v1-approved-not-git.json',
    // Ended unclassified before classify-v2 (a RuntimeError the code raised, a hang): today's rules
    // call both code errors, and these still replay as they ran (patched('classify-v2')).
    'sandbox-queue-v1-unclassified-keyboard-interrupt.json',
    'sandbox-queue-v1-unclassified-runtime-error.json',
    'sandbox-queue-v1-waited-for-docker.json',
  ]);
});

for (const file of fixtures) {
  test(`replays ${file} deterministically`, async () => {
    const history = JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8')) as unknown;
    await Worker.runReplayHistory({ workflowBundle: await bundle }, history, path.basename(file, '.json'));
  });
}

test('a history that does not match the code is caught (the replay check can fail)', async () => {
  const history = JSON.parse(fs.readFileSync(path.join(DIR, 'approved-first-try.json'), 'utf8')) as {
    events: { activityTaskScheduledEventAttributes?: { activityType: { name: string } } }[];
  };
  const scheduled = history.events.find((e) => e.activityTaskScheduledEventAttributes);
  assert.ok(scheduled?.activityTaskScheduledEventAttributes);
  scheduled.activityTaskScheduledEventAttributes.activityType.name = 'someOtherActivity';
  await assert.rejects(
    Worker.runReplayHistory({ workflowBundle: await bundle }, history, 'tampered'),
    (err: unknown) => {
      assert.ok(err instanceof DeterminismViolationError, String(err));
      return true;
    },
  );
});
