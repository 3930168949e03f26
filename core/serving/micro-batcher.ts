// Groups concurrent work into batches, at most `concurrency` running at once: while they run, new items queue, and the
// next batch takes every queued item (up to `maxBatch`) at once, so a fixed per-query cost is paid once per batch
// instead of once per request, and no item waits for a timer. Items sharing a key never go into the same batch (the
// feature SQL keys on customer and loan within a batch); the later one waits for the next batch.

export interface Batcher<T, R> {
  submit(item: T): Promise<R>;
  /** Items waiting for a batch (not counting those of running batches). */
  readonly queued: number;
  /** Resolves once every submitted item has been answered. */
  drain(): Promise<void>;
}

interface Pending<T, R> {
  item: T;
  keys: string[];
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

export function microBatcher<T, R>(options: {
  maxBatch: number;
  /** Batches run at once (default 1). */
  concurrency?: number;
  keysOf: (item: T) => string[];
  /** Results in the order of the items; a thrown error fails every item of the batch. */
  run: (items: T[]) => Promise<R[]>;
  onBatch?: (size: number) => void;
}): Batcher<T, R> {
  const queue: Array<Pending<T, R>> = [];
  const concurrency = options.concurrency ?? 1;
  let running = 0;
  const idle: Array<() => void> = [];

  const take = (): Array<Pending<T, R>> => {
    const batch: Array<Pending<T, R>> = [];
    const used = new Set<string>();
    for (let index = 0; index < queue.length && batch.length < options.maxBatch; ) {
      const pending = queue[index];
      if (pending.keys.some((key) => used.has(key))) {
        index++;
        continue;
      }
      pending.keys.forEach((key) => used.add(key));
      batch.push(pending);
      queue.splice(index, 1);
    }
    return batch;
  };

  const pump = () => {
    while (running < concurrency && queue.length > 0) {
      const batch = take();
      running++;
      options.onBatch?.(batch.length);
      void options
        .run(batch.map((pending) => pending.item))
        .then(
          (results) => batch.forEach((pending, index) => pending.resolve(results[index])),
          (error) => batch.forEach((pending) => pending.reject(error)),
        )
        .finally(() => {
          running--;
          pump();
        });
    }
    if (running === 0 && queue.length === 0) idle.splice(0).forEach((wake) => wake());
  };

  return {
    submit(item) {
      return new Promise<R>((resolve, reject) => {
        queue.push({ item, keys: options.keysOf(item), resolve, reject });
        // Let the other requests of this event-loop turn join the batch.
        setImmediate(pump);
      });
    },
    get queued() {
      return queue.length;
    },
    drain() {
      if (running === 0 && queue.length === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idle.push(resolve));
    },
  };
}
