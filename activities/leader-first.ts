/**
 * Work whose result a cache may hold, started by many callers at once for the same key: the first
 * caller (the leader) runs it; callers that arrive while it runs wait for it to end, then run theirs
 * (which finds what the leader cached, or runs in full, all of them at once). Unlike oneAtATime,
 * followers never queue behind each other: when the leader's result could not be cached, a burst
 * costs one run's wait, not one run per caller in a row.
 */
const leaders = new Map<string, Promise<unknown>>();

export async function leaderFirst<T>(key: string, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  const leader = leaders.get(key);
  if (leader) {
    await waitFor(leader, signal); // its failure is its caller's; ours runs now
    return await work();
  }
  // No await between the check above and the set below: two callers cannot both lead.
  const mine = work();
  leaders.set(key, mine);
  try {
    return await mine;
  } finally {
    if (leaders.get(key) === mine) leaders.delete(key);
  }
}

/** The leader's end, or the follower's own cancellation (its incident need not wait for another's suite). */
function waitFor(leader: Promise<unknown>, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return Promise.reject(new Error('cancelled while waiting for the same run of another caller'));
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(new Error('cancelled while waiting for the same run of another caller'));
    signal?.addEventListener('abort', onAbort, { once: true });
    void leader
      .catch(() => undefined)
      .then(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
  });
}
