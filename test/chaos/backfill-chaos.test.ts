// Reliability of phase 1 under disturbance, each scenario on its own dev server with the worker as a child process:
// the worker SIGKILLed and restarted, the dev server killed and restarted on its database, the same backfill started
// twice at once, transient activity faults. Each must leave gold content equal to an undisturbed run's, one file per
// partition, no leftover temp file and no model registered twice. npm test runs the short form; CHAOS_LONG=1
// (npm run test:chaos) runs the real data set's size with more disturbances.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { PROJECT_ROOT } from '../../workers/dev-server.js';
import { addHistory, emptyTiming } from '../../tools/bench/history-timing.js';
import { monthRange } from '../../lib/months.js';
import { workflowIds } from '../../lib/temporal.js';
import type { BackfillResult } from '../../workflows/backfill.js';
import {
  BACKFILL_ID, CUSTOMERS, FROM, LONG, TO, Processes, generate, outcome, randomInt, resultThroughOutages, runHistory, scenario,
  sleep, startBackfill, type RunOutcome,
} from './harness.js';
import { waitUntil } from '../helpers/wait.js';

const TEST_TIMEOUT = (LONG ? 40 : 5) * 60_000;
const RESULT_TIMEOUT = TEST_TIMEOUT - 30_000;
const KILLS = LONG ? 6 : 3;
const SERVER_RESTARTS = LONG ? 2 : 1;

const sourcesScenario = scenario('sources');
let sourceDir = '';
let reference: RunOutcome | undefined;

before(async () => {
  sourceDir = await generate(sourcesScenario.dir);
  console.log(`# chaos ${LONG ? 'long' : 'short'} form: ${CUSTOMERS} customers, ${FROM}..${TO}`);
});
after(() => {
  sourcesScenario.cleanup();
  rmSync(join(PROJECT_ROOT, '.test-tmp', 'chaos'), { recursive: true, force: true });
});

/** Runs `body` with a fresh scenario, stopping every process and removing its folder afterwards. */
async function inScenario<T>(name: string, env: Record<string, string>, body: (s: ReturnType<typeof scenario>, p: Processes) => Promise<T>) {
  const s = scenario(name, env);
  const p = new Processes();
  try {
    return await body(s, p);
  } finally {
    await p.stopAll();
    s.cleanup();
  }
}

/**
 * Waits until `months` month pipelines have completed (or the backfill finished); returns how many have. Counted in
 * visibility, not by the backfill's progress query: a query after a kill waits on the dead worker's sticky queue
 * for seconds, long enough for the short form to finish unseen.
 */
async function untilDone(client: Client, months: number, finished: () => boolean): Promise<number> {
  let count = -1;
  await waitUntil(`${months} month pipelines completed`, async () => {
    ({ count } = await client.workflow
      .count(`WorkflowType = 'monthPipelineWorkflow' AND ExecutionStatus = 'Completed'`)
      .catch(() => ({ count: -1 })));
    return finished() || count >= months;
  }, { timeoutMs: 10 * 60_000, lastSeen: () => count });
  return count;
}

/**
 * Waits (at most `ms`) until some running workflow has an activity executing on a worker, so that a kill right after
 * interrupts one: a month's ETL is one short activity, and a kill at a random moment often lands between activities.
 */
async function untilActivityRuns(client: Client, ms: number): Promise<void> {
  const started: temporal.api.enums.v1.PendingActivityState = 2; // PENDING_ACTIVITY_STATE_STARTED
  for (const deadline = Date.now() + ms; Date.now() < deadline; await sleep(10)) {
    for await (const execution of client.workflow.list({ query: `ExecutionStatus = 'Running'` })) {
      const description = await client.workflow.getHandle(execution.workflowId, execution.runId).describe().catch(() => undefined);
      if (description?.raw.pendingActivities?.some((activity) => activity.state === started)) return;
    }
  }
}

/** Attempts beyond the first, per activity type, over the backfill's and its month, training and scoring children's histories. */
async function retriesByActivity(client: Client, result: BackfillResult): Promise<Record<string, number>> {
  const timing = emptyTiming();
  const modelId = result.training?.modelId;
  const ids = [BACKFILL_ID, ...monthRange(FROM, TO).flatMap((month) => [workflowIds.month(month), ...(modelId ? [workflowIds.scoreMonth(month, modelId)] : [])])];
  if (result.training?.workflowId) ids.push(result.training.workflowId);
  for (const id of ids) {
    try {
      addHistory(timing, (await client.workflow.getHandle(id).fetchHistory()).events ?? []);
    } catch {
      // Months before the training month have no scoring child.
    }
  }
  return Object.fromEntries(Object.entries(timing.activities).map(([name, a]) => [name, a.retries]));
}

function assertSameAsReference(run: RunOutcome): void {
  assert.ok(reference, 'the undisturbed reference run did not complete');
  assert.deepEqual(run.result.failed, []);
  assert.deepEqual([...run.result.done, ...run.result.skipped].sort(), monthRange(FROM, TO));
  assert.equal(run.result.training?.modelId, reference.result.training?.modelId);
  assert.deepEqual(run.partitions, reference.partitions, 'partition folders per table');
  assert.deepEqual(run.models, reference.models, 'model bank folders');
  assert.deepEqual(run.history.failed, []);
  const byMonth = (scored: Array<{ month: string; rows: number }>) => [...scored].sort((a, b) => a.month.localeCompare(b.month));
  assert.deepEqual(byMonth(run.history.scored), byMonth(reference.history.scored));
  assert.deepEqual(run.gold, reference.gold, 'gold content (feature_store, label_store, predictions)');
}

// A write killed between its start and its rename leaves its temp file (data.parquet.<uuid>.tmp) behind: readers
// never see it, but nothing removes it either. Reported with a fix to core/duckdb.ts / core/fs-atomic.ts; until that
// lands, this check is a TODO for the kill scenario (and strict where no process is killed).

test('undisturbed reference backfill', { timeout: TEST_TIMEOUT }, async () => {
  reference = await inScenario('reference', {}, async (s, p) => {
    const server = await p.server(s.dir);
    const client = await p.client(server.address);
    await p.worker(server.address, s.config);
    const t = Date.now();
    await startBackfill(client, s.config, sourceDir);
    const result = await resultThroughOutages<BackfillResult>(client, BACKFILL_ID, RESULT_TIMEOUT);
    const history = await runHistory(client, s.config, RESULT_TIMEOUT);
    return outcome(s.config, result, history, (Date.now() - t) / 1000);
  });
  assert.deepEqual(reference.leftovers, []);
  assert.equal(reference.result.done.length, 24);
  assert.ok(reference.result.training?.promoted, 'the reference run promoted a model');
  assert.equal(reference.models.length, 1);
  assert.equal(reference.partitions['gold/feature_store'], 24);
  assert.equal(reference.history.modelId, reference.result.training!.modelId);
  assert.equal(reference.partitions['gold/predictions/model_id=' + reference.result.training!.modelId], 24, 'phase 2 scored every month');
  for (const hash of Object.values(reference.gold)) assert.notEqual(hash.split(':')[1], '0', 'a gold table is empty');
  console.log(`# reference: ${reference.seconds.toFixed(1)} s, gold ${JSON.stringify(reference.gold)}`);
});

test(`worker SIGKILLed ${KILLS} times during the backfill and restarted`, { timeout: TEST_TIMEOUT }, async (t) => {
  const run = await inScenario('worker-kill', {}, async (s, p) => {
    const server = await p.server(s.dir);
    const client = await p.client(server.address);
    let worker = await p.worker(server.address, s.config);
    await startBackfill(client, s.config, sourceDir);
    let settled = false;
    const finished = resultThroughOutages<BackfillResult>(client, BACKFILL_ID, RESULT_TIMEOUT).finally(() => (settled = true));
    finished.catch(() => undefined);
    const started = Date.now();

    // Kill points: after a random number of settled months (ETL before training in the short form, anywhere in the
    // long form), plus a random delay, then as soon as an activity is executing, so the kill lands inside it.
    const lastKillMonth = LONG ? 22 : 14;
    const thresholds = new Set<number>();
    while (thresholds.size < KILLS) thresholds.add(randomInt(1, lastKillMonth));
    const kills: string[] = [];
    for (const threshold of [...thresholds].sort((a, b) => a - b)) {
      const done = await untilDone(client, threshold, () => settled);
      if (settled) break;
      const delay = randomInt(0, 1500);
      await sleep(delay);
      await untilActivityRuns(client, 5_000);
      await worker.kill();
      kills.push(`after ${done} months +${delay} ms`);
      worker = await p.worker(server.address, s.config);
    }
    const result = await finished;
    const history = await runHistory(client, s.config, RESULT_TIMEOUT);
    const retries = await retriesByActivity(client, result);
    const seconds = (Date.now() - started) / 1000;
    console.log(`# worker kills: ${kills.join('; ')}; retried attempts ${JSON.stringify(retries)}; ${seconds.toFixed(1)} s`);
    assert.equal(kills.length, KILLS, `the backfill finished before all ${KILLS} kills: ${kills.join('; ')}`);
    assert.ok(Object.values(retries).reduce((a, b) => a + b, 0) >= 1, 'no kill interrupted an activity');
    return outcome(s.config, result, history, seconds);
  });
  assertSameAsReference(run);
  if (run.leftovers.length > 0) console.log(`# leftovers after kills: ${run.leftovers.join(', ')}`);
  await t.test('no temp file left by a killed write', () => assert.deepEqual(run.leftovers, []));
});

test(`dev server killed ${SERVER_RESTARTS} time(s) and restarted on its database`, { timeout: TEST_TIMEOUT }, async () => {
  const run = await inScenario('server-restart', {}, async (s, p) => {
    let server = await p.server(s.dir);
    const port = Number(server.address.split(':').pop());
    const client = await p.client(server.address);
    const worker = await p.worker(server.address, s.config);
    const t = Date.now();
    await startBackfill(client, s.config, sourceDir);
    const restarts: string[] = [];
    let from = 2;
    for (let i = 0; i < SERVER_RESTARTS; i++) {
      const done = await untilDone(client, randomInt(from, from + 6), () => false);
      from = done + 3;
      const signal = i % 2 === 0 ? 'SIGKILL' : 'SIGTERM';
      const exited = new Promise((gone) => server.process.once('exit', gone));
      server.process.kill(signal);
      await exited;
      await sleep(1000);
      server = await p.server(s.dir, port);
      restarts.push(`${signal} after ${done} months`);
    }
    const result = await resultThroughOutages<BackfillResult>(client, BACKFILL_ID, RESULT_TIMEOUT);
    const history = await runHistory(client, s.config, RESULT_TIMEOUT);
    console.log(`# server restarts: ${restarts.join('; ')}; ${((Date.now() - t) / 1000).toFixed(1)} s`);
    assert.equal(worker.process.exitCode, null, `the worker died with the server:\n${worker.output().slice(-2000)}`);
    assert.equal(worker.process.signalCode, null);
    return outcome(s.config, result, history, (Date.now() - t) / 1000);
  });
  assertSameAsReference(run);
  assert.deepEqual(run.leftovers, []);
});

// c) and d) share one run: the backfill started twice at once against a worker whose activities fail transiently.
let faulty: { client: Client; dir: string; processes: Processes; scenario: ReturnType<typeof scenario> } | undefined;
after(async () => {
  await faulty?.processes.stopAll();
  faulty?.scenario.cleanup();
});

test('the same backfill started twice at once is one execution', { timeout: TEST_TIMEOUT }, async () => {
  const s = scenario('faults', { FAULT_INJECTION: 'runMonthEtl:2,scoreMonth:1' });
  const p = new Processes();
  faulty = { client: undefined as unknown as Client, dir: s.dir, processes: p, scenario: s };
  const server = await p.server(s.dir);
  const client = await p.client(server.address);
  const other = await p.client(server.address);
  faulty.client = client;
  await p.worker(server.address, s.config, { FAULT_INJECTION: 'runMonthEtl:2,scoreMonth:1' });

  const [first, second] = await Promise.all([startBackfill(client, s.config, sourceDir), startBackfill(other, s.config, sourceDir)]);
  assert.ok(first.firstExecutionRunId);
  assert.equal(second.firstExecutionRunId, first.firstExecutionRunId);
  const [a, b] = await Promise.all([first.describe(), second.describe()]);
  assert.equal(a.runId, b.runId);
  let listed: string[] = [];
  for (let i = 0; i < 50 && listed.length === 0; i++) {
    listed = [];
    for await (const execution of client.workflow.list({ query: `WorkflowId = '${BACKFILL_ID}'` })) listed.push(execution.runId);
    if (listed.length === 0) await sleep(100);
  }
  assert.deepEqual(listed, [first.firstExecutionRunId]);
});

test('transient faults (runMonthEtl:2, scoreMonth:1) leave the same result', { timeout: TEST_TIMEOUT }, async () => {
  assert.ok(faulty?.client, 'the duplicate-start test did not start the run');
  const { client, scenario: s } = faulty;
  const t = Date.now();
  const result = await resultThroughOutages<BackfillResult>(client, BACKFILL_ID, RESULT_TIMEOUT);
  const history = await runHistory(client, s.config, RESULT_TIMEOUT);
  const retries = await retriesByActivity(client, result);
  console.log(`# faults: retried attempts ${JSON.stringify(retries)}; ${((Date.now() - t) / 1000).toFixed(1)} s`);
  // Every month's runMonthEtl (24 months) failed twice; every month's scoreMonth (phase 2) once.
  assert.equal(retries.runMonthEtl, 2 * 24);
  assert.equal(retries.scoreMonth, 24);
  const run = await outcome(s.config, result, history, (Date.now() - t) / 1000);
  assertSameAsReference(run);
  assert.deepEqual(run.leftovers, []);
});
