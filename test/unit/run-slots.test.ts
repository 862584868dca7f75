/** RunSlots: at most `size` runs at once, the rest in the order they asked; a cancelled wait leaves. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RunSlots } from '../../sandbox/run-slots';

const tick = () => new Promise((r) => setTimeout(r, 2));

test('no more than its size at once; waiting runs start in the order they asked', async () => {
  const slots = new RunSlots(2);
  let inside = 0;
  let most = 0;
  const started: number[] = [];
  await Promise.all(
    Array.from({ length: 7 }, async (_, i) => {
      const release = await slots.take();
      started.push(i);
      inside++;
      most = Math.max(most, inside);
      await tick();
      inside--;
      release();
      release(); // a second call gives nothing back twice
    }),
  );
  assert.equal(most, 2);
  assert.deepEqual(started, [0, 1, 2, 3, 4, 5, 6]);
  assert.equal(slots.queued, 0);
  // All slots are free again: two can be taken without waiting.
  const [a, b] = await Promise.all([slots.take(), slots.take()]);
  a();
  b();
});

test('a run cancelled while it waits leaves the queue with an error and takes no slot', async () => {
  const slots = new RunSlots(1);
  const holder = await slots.take();
  const cancel = new AbortController();
  const waiting = slots.take(cancel.signal);
  const after = slots.take();
  assert.equal(slots.queued, 2);
  cancel.abort();
  await assert.rejects(waiting, /cancelled while waiting for a sandbox run slot/);
  assert.equal(slots.queued, 1);
  holder();
  const release = await after; // the slot went to the next in line, not to the cancelled one
  release();
  const already = new AbortController();
  already.abort();
  const held = await slots.take();
  await assert.rejects(slots.take(already.signal), /cancelled/);
  held();
});
