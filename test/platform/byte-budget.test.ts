// The byte budget fits and staging share: work that fits runs side by side, work that does not waits for room, and
// work larger than the whole budget runs alone rather than never.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ByteBudget } from '../../core/byte-budget.js';

/** Runs jobs of [bytes, milliseconds] at once on `budget`; returns, per job, the jobs running beside it when it started. */
async function runAll(budget: ByteBudget, jobs: Array<[number, number]>): Promise<string[][]> {
  const running = new Set<string>();
  const beside: string[][] = jobs.map(() => []);
  await Promise.all(
    jobs.map(([bytes, ms], index) =>
      budget.run(bytes, async () => {
        beside[index] = [...running].sort();
        running.add(`job ${index}`);
        await sleep(ms);
        running.delete(`job ${index}`);
      }),
    ),
  );
  return beside;
}

test('work within the budget runs side by side, the rest waits for room', async () => {
  const beside = await runAll(new ByteBudget(100), [[40, 20], [50, 150], [30, 10]]);
  assert.deepEqual(beside[0], []);
  assert.deepEqual(beside[1], ['job 0'], '40 + 50 fit in 100');
  assert.deepEqual(beside[2], ['job 1'], '30 more did not fit beside 90: it started when job 0 gave its 40 back');
});

test('work larger than the whole budget runs alone, after the rest', async () => {
  const beside = await runAll(new ByteBudget(100), [[10, 30], [500, 10], [20, 30]]);
  assert.deepEqual(beside[0], []);
  assert.deepEqual(beside[2], ['job 0']);
  assert.deepEqual(beside[1], [], 'the 500-byte job started only once nothing else ran');
});

test('bytes come back when the work fails, and a waiter is told while it waits', async () => {
  const budget = new ByteBudget(100);
  await assert.rejects(budget.run(100, async () => {
    throw new Error('failed work');
  }), /failed work/);
  const release = await budget.admit(80);
  let told = 0;
  const waiting = budget.admit(50, () => told++, 10);
  await sleep(35);
  assert.ok(told >= 2, `told ${told} times while waiting`);
  release();
  (await waiting)();
  assert.equal(await Promise.race([budget.admit(100).then(() => 'admitted'), sleep(50).then(() => 'still waiting')]), 'admitted', 'all bytes given back');
});
