// Bounded parallelism for child workflows: at most `limit` items in flight, in the given order. Deterministic:
// the same completions in the same order produce the same commands on replay.
import { settleAll } from './settle-all.js';

export async function forEachBounded<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
  keepGoing: () => boolean = () => true,
): Promise<void> {
  const queue = [...items];
  const lanes = Array.from({ length: Math.min(limit, queue.length) }, async () => {
    while (queue.length > 0 && keepGoing()) {
      await work(queue.shift() as T);
    }
  });
  await settleAll(lanes);
}
