/** oneAtATime: the same key never runs twice at once in a process; other keys are not held up. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { oneAtATime } from '../../activities/one-at-a-time';

const tick = () => new Promise((r) => setTimeout(r, 5));

test('callers of one key run one after another, each seeing what the one before left; other keys run beside them', async () => {
  let inside = 0;
  let most = 0;
  const cache = new Set<string>();
  const order: string[] = [];
  const prepare = (who: string) =>
    oneAtATime('deps-1', async () => {
      inside++;
      most = Math.max(most, inside);
      const hit = cache.has('deps-1');
      await tick();
      cache.add('deps-1');
      order.push(`${who}:${hit ? 'hit' : 'made'}`);
      inside--;
      return hit;
    });
  let otherRanBeside = false;
  const other = () =>
    oneAtATime('deps-2', async () => {
      otherRanBeside = inside > 0;
      await tick();
    });
  const hits = await Promise.all([prepare('a'), prepare('b'), prepare('c'), other()]);
  assert.equal(most, 1, 'never two runs of one key at once');
  assert.deepEqual(hits.slice(0, 3), [false, true, true]);
  assert.deepEqual(order, ['a:made', 'b:hit', 'c:hit']);
  assert.equal(otherRanBeside, true, 'another key is not held up');
});

test("a failed run is its own caller's error; the next caller runs", async () => {
  const first = oneAtATime('k', async () => {
    await tick();
    throw new Error('install failed');
  });
  const second = oneAtATime('k', async () => 'second ran');
  await assert.rejects(first, /install failed/);
  assert.equal(await second, 'second ran');
});
