/**
 * Work that must not run twice at once in this process for the same key: the first caller runs it,
 * later callers wait for that run to end and then run theirs, one after another. Used where the work
 * itself looks for what an earlier run left (a cache entry), so waiting turns a duplicate into a hit:
 * a burst of incidents on one commit prepares its dependencies once, not once per incident.
 */
const running = new Map<string, Promise<unknown>>();

export async function oneAtATime<T>(key: string, work: () => Promise<T>): Promise<T> {
  for (let current = running.get(key); current; current = running.get(key)) {
    await current.catch(() => undefined); // its failure is its caller's; ours runs next
  }
  // No await between the check above and the set below: two waiters cannot both start.
  const mine = work();
  running.set(key, mine);
  try {
    return await mine;
  } finally {
    if (running.get(key) === mine) running.delete(key);
  }
}
