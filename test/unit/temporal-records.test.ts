/**
 * Temporal's records decoded the same way from gRPC's protobuf objects and from the HTTP API's JSON:
 * the command line's two readers depend on it (test/cli-readers.test.ts compares them end to end).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  closeOutcome,
  decodePayload,
  decodeSearchAttributes,
  executionStatusName,
  failureText,
  UndecodablePayload,
} from '../../client/temporal-records';

const asBytes = (s: string) => new TextEncoder().encode(s);
const asBase64 = (s: string) => Buffer.from(s).toString('base64');

test('a JSON payload decodes the same from bytes (gRPC) and base64 (HTTP)', () => {
  const value = { status: 'awaiting_approval', attempts: [1, 2], note: 'naïve ✓' };
  const json = JSON.stringify(value);
  assert.deepEqual(decodePayload({ metadata: { encoding: asBytes('json/plain') }, data: asBytes(json) }), value);
  assert.deepEqual(decodePayload({ metadata: { encoding: asBase64('json/plain') }, data: asBase64(json) }), value);
  assert.equal(decodePayload({ metadata: { encoding: asBase64('binary/null') } }), null);
  assert.equal(decodePayload(undefined), undefined);
});

test("a payload OpsGuard did not write (or the HTTP API's shorthand) is an error, not a guess", () => {
  assert.throws(
    () => decodePayload({ metadata: { encoding: asBase64('binary/encrypted') }, data: 'xx' }),
    (err: unknown) => err instanceof UndecodablePayload && /binary\/encrypted/.test(err.message),
  );
  // The shorthand form inlines the value: it has no metadata.
  assert.throws(() => decodePayload({ status: 'running' } as never), UndecodablePayload);
});

test('search attributes with their type metadata', () => {
  const sa = decodeSearchAttributes({
    OpsGuardStatus: {
      metadata: { encoding: asBase64('json/plain'), type: asBase64('Keyword') },
      data: asBase64('"rejected"'),
    },
    BuildIds: {
      metadata: { encoding: asBytes('json/plain'), type: asBytes('KeywordList') },
      data: asBytes('["a","b"]'),
    },
  });
  assert.deepEqual(sa, { OpsGuardStatus: 'rejected', BuildIds: ['a', 'b'] });
  assert.deepEqual(decodeSearchAttributes(null), {});
});

test('execution statuses by number (gRPC) and by name (HTTP) read the same', () => {
  const names = ['RUNNING', 'COMPLETED', 'FAILED', 'CANCELED', 'TERMINATED', 'CONTINUED_AS_NEW', 'TIMED_OUT'];
  names.forEach((name, i) => {
    assert.equal(executionStatusName(i + 1), name);
    assert.equal(executionStatusName(`WORKFLOW_EXECUTION_STATUS_${name}`), name);
  });
  assert.equal(executionStatusName(42), 'UNKNOWN_42');
});

test('close events: the result, every way of failing, and the failure chain spelled out', () => {
  assert.deepEqual(
    closeOutcome({
      workflowExecutionCompletedEventAttributes: {
        result: {
          payloads: [{ metadata: { encoding: asBase64('json/plain') }, data: asBase64('{"status":"approved"}') }],
        },
      },
    }),
    { completed: true, result: { status: 'approved' } },
  );
  assert.deepEqual(
    closeOutcome({
      workflowExecutionFailedEventAttributes: {
        failure: { message: 'Activity task failed', cause: { message: 'No model is configured' } },
      },
    }),
    { completed: false, failure: 'Activity task failed: No model is configured' },
  );
  assert.deepEqual(closeOutcome({ workflowExecutionTerminatedEventAttributes: { reason: 'operator stopped it' } }), {
    completed: false,
    failure: 'terminated: operator stopped it',
  });
  assert.equal(closeOutcome({ workflowExecutionCanceledEventAttributes: {} }).completed, false);
  assert.match(
    (closeOutcome({ workflowExecutionTimedOutEventAttributes: {} }) as { failure: string }).failure,
    /timed out/,
  );
  assert.equal(failureText(null), 'failed without a message');
  // A cycle-free but deep chain is cut, not followed forever.
  let deep: { message: string; cause?: object } = { message: 'm0' };
  for (let i = 1; i < 20; i++) deep = { message: `m${i}`, cause: deep };
  assert.equal(failureText(deep).split(': ').length, 8);
});
