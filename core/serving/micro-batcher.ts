// Groups concurrent work into batches run one at a time: while a batch runs, new items queue, and the next batch
// takes every queued item (up to `maxBatch`) at once, so a fixed per-query cost is paid once per batch instead of once
// per request, and no item waits for a timer. Items sharing a key never go into the same batch (the feature SQL keys
// on customer and loan within a batch); the later one waits for the next batch.

export interface Batcher<T, R> {
  submit(item: T): Promise<R>;
  /** Items waiting for a batch (not counting the running one). */
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
  keysOf: (item: T) => string[];
  /** Results in the order of the items; a thrown error fails every item of the batch. */
  run: (items: T[]) => Promise<R[]>;
  onBatch?: (size: number) => void;
}): Batcher<T, R> {
  const queue: Array<Pending<T, R>> = [];
  let running: Promise<void> | null = null;
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
    if (running) return;
    if (queue.length === 0) {
      idle.splice(0).forEach((wake) => wake());
      return;
    }
    const batch = take();
    options.onBatch?.(batch.length);
    running = options
      .run(batch.map((pending) => pending.item))
      .then(
        (results) => batch.forEach((pending, index) => pending.resolve(results[index])),
        (error) => batch.forEach((pending) => pending.reject(error)),
      )
      .finally(() => {
        running = null;
        pump();
      });
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
      if (!running && queue.length === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idle.push(resolve));
    },
  };
}
