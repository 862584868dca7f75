/**
 * `items.map(fn)` with at most `limit` calls in flight, results in the items' order. For file work
 * over a whole repository (100,000 files): one file at a time leaves the disk idle between system
 * calls; all at once exhausts file descriptors and memory.
 */
export async function boundedMap<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/** In-flight file operations per walk: enough to keep libuv's thread pool (4 by default) busy. */
export const FILE_CONCURRENCY = 16;
