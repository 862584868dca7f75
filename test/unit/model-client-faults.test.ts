/**
 * What the model client makes of a service that misbehaves, through the real @ai-sdk/openai client
 * against the scripted server: a hang is cut off at the request timeout, a body cut off mid-answer
 * and JSON that is no completion are retryable with a reason a person understands; refused
 * credentials are final. (The workflow side of these, on Temporal, is test/model-faults.test.ts.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { createModelClient } from '../../activities/model-client';
import { startScriptedModel } from '../support/scripted-model-server';
import type { ScriptedTurn } from '../support/scripted-model-server';

const turn = (fault: ScriptedTurn['fault']): ScriptedTurn => ({ task: 'write_reproduction', answer: 'x', fault });

async function failureOf(fault: ScriptedTurn['fault']): Promise<Error> {
  const model = await startScriptedModel([turn(fault)]);
  try {
    const client = createModelClient({
      baseURL: model.baseURL,
      apiKey: 'k',
      modelId: 'm',
      api: 'chat',
      timeoutSeconds: 1,
    });
    const started = Date.now();
    const err = await client.complete({ system: 'OpsGuard task: write_reproduction', prompt: 'p' }).then(
      () => assert.fail('the call should fail'),
      (e: unknown) => e as Error,
    );
    assert.ok(Date.now() - started < 10_000, 'a fault ends the try promptly');
    return err;
  } finally {
    await model.close();
  }
}

const retryable = (e: Error) => !(e instanceof ApplicationFailure && e.nonRetryable);

test('a hang is cut off at the request timeout, retryable, naming the setting', async () => {
  const e = await failureOf({ kind: 'hang' });
  assert.match(e.message, /did not answer within 1 s \(OPSGUARD_MODEL_TIMEOUT_SECONDS; will retry\)/);
  assert.ok(retryable(e));
});

test('a body cut off, or JSON that is no completion: retryable, said as such', async () => {
  for (const kind of ['cut', 'shape'] as const) {
    const e = await failureOf({ kind });
    assert.match(e.message, /answer was cut off or is not a completion \(HTTP 200; will retry\)/, kind);
    assert.ok(retryable(e), kind);
  }
});

test('refused credentials are final; a 503 is retryable', async () => {
  const refused = await failureOf({ status: 401 });
  assert.ok(refused instanceof ApplicationFailure && refused.nonRetryable, refused.message);
  const busy = await failureOf({ status: 503 });
  assert.ok(retryable(busy), busy.message);
});
