// The micro-batcher of the scoring API: concurrent items share batches, at most `concurrency` batches run at once,
// items sharing a key never share a batch, results come back to their own callers, and a failed batch fails its items
// only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { microBatcher } from '../../core/serving/micro-batcher.js';

test('batches queued items, runs at most `concurrency` batches at once and keeps items of one key apart', async () => {
  const batches: string[][] = [];
  let running = 0;
  let mostRunning = 0;
  const batcher = microBatcher<{ id: string; key: string }, string>({
    maxBatch: 3,
    concurrency: 2,
    keysOf: (item) => [item.key],
    run: async (items) => {
      running++;
      mostRunning = Math.max(mostRunning, running);
      batches.push(items.map((item) => item.id));
      await new Promise((resolve) => setTimeout(resolve, 20));
      running--;
      if (items.some((item) => item.id === 'fail')) throw new Error('batch failed');
      return items.map((item) => `scored ${item.id}`);
    },
  });
  const ids = ['a1', 'a2', 'b1', 'c1', 'd1', 'e1', 'f1', 'g1'];
  const keyOf = (id: string) => id[0];
  const results = await Promise.all(ids.map((id) => batcher.submit({ id, key: keyOf(id) })));
  assert.deepEqual(results, ids.map((id) => `scored ${id}`));
  assert.equal(mostRunning, 2);
  for (const batch of batches) {
    assert.ok(batch.length <= 3, `batch ${batch}`);
    assert.equal(new Set(batch.map(keyOf)).size, batch.length, `one key twice in batch ${batch}`);
  }
  assert.ok(batches.length < ids.length, `items shared batches: ${JSON.stringify(batches)}`);

  const failed = batcher.submit({ id: 'fail', key: 'x' });
  const fine = new Promise((resolve) => setTimeout(resolve, 1)).then(() => batcher.submit({ id: 'ok', key: 'y' }));
  await assert.rejects(failed, /batch failed/);
  assert.equal(await fine, 'scored ok');
  await batcher.drain();
  assert.equal(batcher.queued, 0);
});
