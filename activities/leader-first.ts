/**
 * Work whose result a cache may hold, started by many callers at once for the same key: the first
 * caller (the leader) runs it; callers that arrive while it runs wait for it to end, then run theirs
 * (which finds what the leader cached, or runs in full, all of them at once). Unlike oneAtATime,
 * followers never queue behind each other: when the leader's result could not be cached, a burst
 * costs one run's wait, not one run per caller in a row.
 */
const leaders = new Map<string, Promise<unknown>>();

export async function leaderFirst<T>(key: string, work: () => Promise<T>): Promise<T> {
  const leader = leaders.get(key);
  if (leader) {
    await leader.catch(() => undefined); // its failure is its caller's; ours runs now
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
