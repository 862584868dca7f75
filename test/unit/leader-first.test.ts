/** leaderFirst: callers of a key wait for the first one's run, then run theirs together, not in a row. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { leaderFirst } from '../../activities/leader-first';

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

test('followers wait for the leader, then all run at once; a result the leader cached is found', async () => {
  let inside = 0;
  let most = 0;
  const cache = new Set<string>();
  const order: string[] = [];
  const run = (who: string, cacheable: boolean) =>
    leaderFirst('tree-1', async () => {
      if (cache.has('tree-1')) {
        order.push(`${who}:hit`);
        return;
      }
      inside++;
      most = Math.max(most, inside);
      await tick(20);
      if (cacheable) cache.add('tree-1');
      order.push(`${who}:ran`);
      inside--;
    });
  // The leader's result cannot be cached: the three followers run together, not one after another.
  await Promise.all([run('a', false), run('b', false), run('c', false), run('d', false)]);
  assert.equal(order[0], 'a:ran', 'the leader ends first');
  assert.equal(most, 3, 'the followers ran at once');
  // Now it can: followers find it.
  order.length = 0;
  await Promise.all([run('e', true), run('f', true), run('g', true)]);
  assert.deepEqual(order, ['e:ran', 'f:hit', 'g:hit']);
});

test("a failed leader is its own caller's error; followers still run", async () => {
  const leader = leaderFirst('k', async () => {
    await tick();
    throw new Error('the run failed');
  });
  const follower = leaderFirst('k', async () => 'follower ran');
  await assert.rejects(leader, /the run failed/);
  assert.equal(await follower, 'follower ran');
});

test("a follower cancelled while it waits stops waiting at once; the leader's run goes on", async () => {
  let release: () => void = () => undefined;
  const leader = leaderFirst('suite', () => new Promise<string>((r) => (release = () => r('leader ran'))));
  const abort = new AbortController();
  let followerRan = false;
  const follower = leaderFirst(
    'suite',
    async () => {
      followerRan = true;
    },
    abort.signal,
  );
  await tick();
  abort.abort();
  await assert.rejects(follower, /cancelled while waiting/);
  assert.equal(followerRan, false, 'its own run never started');
  release();
  assert.equal(await leader, 'leader ran');
});
