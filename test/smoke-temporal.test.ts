import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSmokeActivities } from '../activities/ping';
import { withWorker } from './support/temporal';
import type { smokeWorkflow } from '../workflows/smoke';

test('a smoke workflow on the real dev server gets its answer from a real worker activity', async () => {
  const result = await withWorker(createSmokeActivities(), async ({ env, taskQueue }) => {
    const handle = await env.client.workflow.start<typeof smokeWorkflow>('smokeWorkflow', {
      taskQueue,
      workflowId: `smoke-${taskQueue}`,
      args: ['opsguard'],
    });
    const answer = await handle.result();
    // The history shows the activity really ran through the server.
    const history = await handle.fetchHistory();
    const kinds = (history.events ?? []).map((e) => e.eventType);
    return { answer, kinds };
  });
  assert.match(result.answer, new RegExp(`^pong opsguard from worker pid ${process.pid} `));
  assert.ok(result.kinds.includes(10 /* ACTIVITY_TASK_SCHEDULED */), 'history has a scheduled activity');
  assert.ok(result.kinds.includes(12 /* ACTIVITY_TASK_COMPLETED */), 'history has a completed activity');
});
