// backfillWorkflow's branches with mocked activities and the real backfill coordinator (its join and liveness
// activities run against the dev server; everything else is an in-memory datamart and model bank): the rounds of a
// backfill (plan, check again, train, the later months), a month held by another backfill awaited instead of run
// twice, a training blocked (by a failed month; until another backfill has settled the months it reads), the hand-over
// of continue-as-new, and cancellation (never a failed month: the month passes to the backfill waiting for it).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { monthRange, type Month } from '../../lib/months.js';
import { workflowIds } from '../../lib/temporal.js';
import type { BackfillInput } from '../../lib/workflow-inputs.js';
import { causes } from '../../scripts/lib/causes.js';
import { backfillCoordinatorWorkflow, backfillWorkflow, joinedBackfillsQuery, progressQuery } from '../../workflows/index.js';
import { waitUntil } from '../helpers/wait.js';
import { CallLog, coordinationActivities, inMemoryModelBank, sharedTemporal, trainingActivities, withMockedActivities, type MockActivities } from './mocks.js';

const temporal = sharedTemporal();
let env: TestWorkflowEnvironment;
before(async () => {
  env = await temporal;
});

const SOURCES = '/nowhere/sources';
const ZERO = { loan_daily: 0, clickstream: 0, attributes: 0, financials: 0 };

/**
 * An in-memory datamart: a month is current once its ETL ran (or when given as current). `hold(M)` keeps M's ETL
 * running (heartbeating, so a cancellation reaches it) until `release(M)`; `fail` months fail their ETL for good.
 */
function inMemoryDatamart(log: CallLog, options: { current?: Month[]; fail?: Month[] } = {}) {
  const current = new Set(options.current ?? []);
  const held = new Map<Month, () => void>();
  const gates = new Map<Month, Promise<void>>();
  const plan = (months: Month[]) =>
    months.map((month) => ({ month, current: current.has(month), reason: current.has(month) ? 'current' : 'missing', causes: current.has(month) ? [] : [{ kind: 'missing' as const, target: 'feature_store', partition: `gold/feature_store/${month}` }] }));
  const activities = {
    planMonths: async (input: { sourceDir: string; months: Month[] }) => {
      log.record('planMonths', input.months);
      return plan(input.months);
    },
    recheckMonths: async (input: { sourceDir: string; months: Month[] }) => {
      log.record('recheckMonths', input.months);
      return plan(input.months);
    },
    runMonthEtl: async (input: { sourceDir: string; month: Month }) => {
      const { month } = input;
      log.record('runMonthEtl', month);
      const gate = gates.get(month);
      if (gate) {
        let open = false;
        void gate.then(() => (open = true));
        while (!open) {
          Context.current().heartbeat();
          await Context.current().sleep(50);
        }
      }
      if (options.fail?.includes(month)) throw ApplicationFailure.nonRetryable(`loan_daily ${month}: 12 of 40 rows quarantined`, 'InvalidSourceData');
      current.add(month);
      log.record('monthCurrent', month);
      const rows = { ...ZERO, loan_daily: 40 };
      return { month, rows: 40, bronzeRows: rows, silverRows: rows, quarantinedRows: ZERO, featureRows: 40, labelRows: 40, defaults: 8, incomplete: [] };
    },
    inventoryMonths: async (input: { from: Month; to: Month; requirement: string }) => {
      log.record('inventoryMonths', input);
      const months = monthRange(input.from, input.to);
      return { present: months.filter((month) => current.has(month)), missing: months.filter((month) => !current.has(month)) };
    },
    latestLabelledMonth: async (input: { from: Month; to: Month }) => {
      log.record('latestLabelledMonth', input);
      return input.to;
    },
    pruneStaging: async () => ({ removed: 0 }),
    scoreMonth: async (input: { month: Month; modelId: string }) => {
      log.record('scoreMonth', input);
      return { month: input.month, modelId: input.modelId, rows: 40, path: '/nowhere/predictions', explanationsPath: '/nowhere/explanations', seconds: 0 };
    },
  } satisfies MockActivities;
  return {
    activities,
    hold(month: Month) {
      gates.set(month, new Promise<void>((resolve) => held.set(month, resolve)));
    },
    release(month: Month) {
      held.get(month)?.();
    },
  };
}

/** The mocked activities of a backfill, with the real join and liveness activities of the coordinator. */
function backfillActivities(log: CallLog, datamart: ReturnType<typeof inMemoryDatamart>): MockActivities {
  const bank = inMemoryModelBank([], log);
  return { ...bank.activities, ...trainingActivities(log, { promote: true }), ...datamart.activities, ...coordinationActivities(env) };
}

function startBackfill(taskQueue: string, workflowId: string, input: Partial<BackfillInput> & Pick<BackfillInput, 'from' | 'to'>) {
  return env.client.workflow.start(backfillWorkflow, { taskQueue, workflowId, args: [{ sourceDir: SOURCES, parallelism: 2, ...input }] });
}

const WAIT = { timeoutMs: 30_000 };
const failureTypes = (error: unknown) => causes(error).map((cause) => (cause as { type?: unknown }).type);

/** The backfills still joined to the coordinator of `taskQueue`. */
const joined = (taskQueue: string) => env.client.workflow.getHandle(workflowIds.backfillCoordinator(taskQueue)).query(joinedBackfillsQuery);

test('rounds: the plan skips current months, later months are checked again, training between the two groups', async () => {
  const log = new CallLog();
  const datamart = inMemoryDatamart(log, { current: ['2024-01'] });
  const result = await withMockedActivities(env, backfillActivities(log, datamart), async (taskQueue) => {
    const handle = await startBackfill(taskQueue, 'backfill-rounds', { from: '2024-01', to: '2024-05', trainAt: '2024-04', parallelism: 1 });
    const result = await handle.result();
    assert.deepEqual(await joined(taskQueue), [], 'the backfill left the coordinator');
    return result;
  });
  assert.deepEqual(result.skipped, ['2024-01']);
  assert.deepEqual(result.done, ['2024-02', '2024-03', '2024-04', '2024-05']);
  assert.deepEqual(result.failed, []);
  assert.equal(result.training?.modelId, 'gbtree-2024-04-abc');
  // One plan per group of months (up to the training month, after it); with one month at a time, the months that
  // start after the first are checked again right before they start.
  assert.deepEqual(log.inputs('planMonths'), [['2024-01', '2024-02', '2024-03', '2024-04'], ['2024-05']]);
  assert.deepEqual(log.inputs('recheckMonths'), [['2024-03'], ['2024-04']]);
  assert.deepEqual(log.inputs('runMonthEtl'), ['2024-02', '2024-03', '2024-04', '2024-05']);
  // The training ran between the two groups.
  const order = log.calls.map((call) => (call.name === 'runMonthEtl' ? call.input : call.name)).filter((name) => name === 'buildTrainingSet' || typeof name === 'string' && name.startsWith('2024'));
  assert.deepEqual(order, ['2024-02', '2024-03', '2024-04', 'buildTrainingSet', '2024-05']);
});

test("a month another backfill holds is awaited, then checked again, not run twice; the second backfill reports the first's training", async () => {
  const log = new CallLog();
  const datamart = inMemoryDatamart(log);
  datamart.hold('2024-02');
  const [wide, narrow] = await withMockedActivities(env, backfillActivities(log, datamart), async (taskQueue) => {
    // One month at a time: the wide backfill holds 2024-03 while its 2024-02 runs.
    const wide = await startBackfill(taskQueue, 'backfill-wide', { from: '2024-01', to: '2024-03', trainAt: '2024-03', parallelism: 1 });
    await waitUntil("the wide backfill's 2024-02 to run", () => log.inputs('runMonthEtl').includes('2024-02'), WAIT);
    const narrow = await startBackfill(taskQueue, 'backfill-narrow', { from: '2024-02', to: '2024-03', trainAt: '2024-03' });
    await waitUntil('the narrow backfill to wait for its months', async () => (await joined(taskQueue)).length === 2 && (await narrow.query(progressQuery)).running === 0, WAIT);
    datamart.release('2024-02');
    return [await wide.result(), await narrow.result()];
  });
  // Every month's ETL ran once, in the backfill that held it.
  assert.deepEqual(log.inputs('runMonthEtl'), ['2024-01', '2024-02', '2024-03']);
  assert.deepEqual(wide.done, ['2024-01', '2024-02', '2024-03']);
  // The narrow backfill awaited both months and, checking them again, found them current.
  assert.deepEqual([...narrow.done].sort(), ['2024-02', '2024-03']);
  assert.deepEqual(log.inputs('recheckMonths').flat().sort(), ['2024-02', '2024-02', '2024-03', '2024-03'], 'checked by each backfill');
  // One training for both: the narrow backfill got the wide one's result with the claim.
  assert.equal(log.count('buildTrainingSet'), 1);
  assert.deepEqual(narrow.training, wide.training);
});

test("a month that failed in the backfill holding it is the waiting backfill's failure too (MonthFailedElsewhere), not a second run", async () => {
  const log = new CallLog();
  const datamart = inMemoryDatamart(log, { fail: ['2024-02'] });
  datamart.hold('2024-02');
  const [wide, narrow] = await withMockedActivities(env, backfillActivities(log, datamart), async (taskQueue) => {
    const wide = await startBackfill(taskQueue, 'backfill-wide-failing', { from: '2024-01', to: '2024-02', trainAt: '2024-02' });
    await waitUntil("the wide backfill's 2024-02 to run", () => log.inputs('runMonthEtl').includes('2024-02'), WAIT);
    const narrow = await startBackfill(taskQueue, 'backfill-narrow-failing', { from: '2024-02', to: '2024-02', trainAt: '2024-02' });
    await waitUntil('the narrow backfill to join', async () => (await joined(taskQueue)).length === 2, WAIT);
    datamart.release('2024-02');
    return Promise.all([wide.result().catch((error: unknown) => error), narrow.result().catch((error: unknown) => error)]);
  });
  assert.deepEqual([...log.inputs('runMonthEtl')].sort(), ['2024-01', '2024-02']);
  for (const failure of [wide, narrow]) {
    assert.ok(failure instanceof WorkflowFailedError);
    assert.ok(failureTypes(failure).includes('BackfillIncomplete'));
    assert.match(causes(failure).at(-1)!.message, /2024-02 \(.*loan_daily 2024-02: 12 of 40 rows quarantined\)/);
    assert.match(causes(failure).at(-1)!.message, /no training as of 2024-02: month\(s\) 2024-02 feed the training set and failed/);
  }
  assert.match(causes(narrow).at(-1)!.message, /2024-02 \(in backfill-wide-failing: /);
  assert.equal(log.count('buildTrainingSet'), 0);
});

test('a training waits until no other backfill owes a month it reads, then runs once for both', async () => {
  const log = new CallLog();
  const datamart = inMemoryDatamart(log);
  datamart.hold('2024-01');
  const [narrow, wide, waitingStep] = await withMockedActivities(env, backfillActivities(log, datamart), async (taskQueue) => {
    // The narrow backfill joins first and holds 2024-03..04; the wide one holds 2024-01..02 (its 2024-01 kept running).
    const narrow = await startBackfill(taskQueue, 'backfill-narrow-first', { from: '2024-03', to: '2024-04', trainAt: '2024-04' });
    await waitUntil('the narrow backfill to join', async () => (await joined(taskQueue).catch(() => [])).length === 1, WAIT);
    const wide = await startBackfill(taskQueue, 'backfill-wide-later', { from: '2024-01', to: '2024-04', trainAt: '2024-04' });
    const step = await waitUntil('the narrow backfill to wait for the training claim', async () => {
      const { step } = await narrow.query(progressQuery);
      return step?.startsWith('training as of 2024-04: waiting') && step;
    }, WAIT);
    // Blocked: 2024-01 is still owed by the wide backfill, so no training set was built yet.
    assert.equal(log.count('buildTrainingSet'), 0);
    datamart.release('2024-01');
    return [await narrow.result(), await wide.result(), step];
  });
  assert.equal(waitingStep, 'training as of 2024-04: waiting until no other backfill owes a month up to 2024-04 or trains as of it');
  assert.deepEqual([...log.inputs('runMonthEtl')].sort(), ['2024-01', '2024-02', '2024-03', '2024-04']);
  // The training read the months the wide backfill computed: it ran after both were current.
  const names = log.calls.map((call) => `${call.name}${call.name === 'monthCurrent' ? ` ${call.input}` : ''}`);
  assert.ok(names.indexOf('buildTrainingSet') > names.indexOf('monthCurrent 2024-01'));
  assert.ok(names.indexOf('buildTrainingSet') > names.indexOf('monthCurrent 2024-02'));
  assert.equal(log.count('buildTrainingSet'), 1);
  assert.deepEqual(wide.training, narrow.training);
});

test('while a backfill trains as of M, another gets no month up to M: nothing changes under the training', async () => {
  const log = new CallLog();
  const datamart = inMemoryDatamart(log);
  let openTraining!: () => void;
  const trainingGate = new Promise<void>((resolve) => (openTraining = resolve));
  const activities = backfillActivities(log, datamart);
  const buildTrainingSet = activities.buildTrainingSet!;
  activities.buildTrainingSet = async (input) => {
    log.record('trainingStarted');
    // Held until opened; a cancellation (the worker shutting down after a failed assertion) ends the wait.
    await Promise.race([trainingGate, Context.current().cancelled]);
    const built = await buildTrainingSet(input);
    log.record('trainingSetBuilt');
    return built;
  };
  const forced = await withMockedActivities(env, activities, async (taskQueue) => {
    const training = await startBackfill(taskQueue, 'backfill-training', { from: '2024-01', to: '2024-02', trainAt: '2024-02' });
    await waitUntil('the training to read the months', () => log.count('trainingStarted') === 1, WAIT);
    // Reprocessing 2024-02 (forced) while the training reads it: it waits for the claim.
    const reprocess = await startBackfill(taskQueue, 'backfill-reprocess', { from: '2024-02', to: '2024-02', months: ['2024-02'], force: true });
    await waitUntil('the reprocessing backfill to join', async () => (await joined(taskQueue)).length === 2, WAIT);
    assert.deepEqual(log.inputs('runMonthEtl').filter((month) => month === '2024-02'), ['2024-02'], 'not run again during the training');
    openTraining();
    await training.result();
    return reprocess.result();
  });
  assert.deepEqual(forced.done, ['2024-02']);
  const names = log.calls.map((call) => `${call.name}${call.name === 'runMonthEtl' ? ` ${call.input}` : ''}`);
  assert.ok(names.lastIndexOf('runMonthEtl 2024-02') > names.indexOf('trainingSetBuilt'), names.join(', '));
});

test('a training blocked by a failed month: no training, the backfill fails naming the month, an alert is posted', async () => {
  const log = new CallLog();
  const datamart = inMemoryDatamart(log, { fail: ['2024-02'] });
  const failure = await withMockedActivities(env, backfillActivities(log, datamart), async (taskQueue) =>
    (await startBackfill(taskQueue, 'backfill-blocked', { from: '2024-01', to: '2024-03', trainAt: '2024-03' })).result().catch((error: unknown) => error),
  );
  assert.ok(failure instanceof WorkflowFailedError);
  assert.match(causes(failure).at(-1)!.message, /^1 of 3 months failed: 2024-02 \(.*\)\. no training as of 2024-03: month\(s\) 2024-02 feed the training set and failed/);
  assert.equal(log.count('buildTrainingSet'), 0);
  assert.deepEqual(
    log.inputs('sendPipelineAlert').map((alert) => (alert as { kind: string }).kind),
    ['month', 'backfill'],
  );
});

test('continue-as-new: the next run joins again, keeps the claims and finishes the months', async () => {
  const log = new CallLog();
  const datamart = inMemoryDatamart(log);
  const months = monthRange('2024-01', '2024-10');
  const { result, firstRun } = await withMockedActivities(env, backfillActivities(log, datamart), async (taskQueue) => {
    const handle = await startBackfill(taskQueue, 'backfill-continued', { from: '2024-01', to: '2024-10', trainAt: '2024-10', maxHistoryEvents: 50 });
    const result = await handle.result();
    const firstRun = await env.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId).describe();
    assert.deepEqual(await joined(taskQueue), []);
    return { result, firstRun };
  });
  assert.equal(firstRun.status.name, 'CONTINUED_AS_NEW');
  assert.deepEqual([...result.done].sort(), months);
  assert.deepEqual([...log.inputs('runMonthEtl')].sort(), months, 'every month once across the runs');
  assert.equal(result.training?.modelId, 'gbtree-2024-10-abc');
});

test('cancellation: the month passes unsettled to the backfill waiting for it, which runs it; no month is recorded failed', async () => {
  const log = new CallLog();
  const datamart = inMemoryDatamart(log);
  datamart.hold('2024-02');
  const [cancelled, narrow] = await withMockedActivities(env, backfillActivities(log, datamart), async (taskQueue) => {
    const wide = await startBackfill(taskQueue, 'backfill-cancelled', { from: '2024-01', to: '2024-02', trainAt: '2024-02' });
    await waitUntil("the wide backfill's 2024-02 to run", () => log.inputs('runMonthEtl').includes('2024-02'), WAIT);
    const narrow = await startBackfill(taskQueue, 'backfill-after-cancel', { from: '2024-02', to: '2024-02', trainAt: '2024-02' });
    await waitUntil('the narrow backfill to join', async () => (await joined(taskQueue)).length === 2, WAIT);
    await wide.cancel();
    const cancelled = await wide.result().catch((error: unknown) => error);
    // The narrow backfill's run of 2024-02 is held as well until the cancelled one is seen to have stopped.
    await waitUntil('the narrow backfill to run 2024-02', () => log.inputs('runMonthEtl').length === 3, WAIT);
    datamart.release('2024-02');
    return [cancelled, await narrow.result()];
  });
  assert.ok(cancelled instanceof WorkflowFailedError && cancelled.cause instanceof CancelledFailure, String(cancelled));
  assert.deepEqual(narrow.failed, []);
  assert.deepEqual(narrow.done, ['2024-02']);
  assert.deepEqual([...log.inputs('runMonthEtl')].sort(), ['2024-01', '2024-02', '2024-02'], 'the cancelled run of 2024-02, then the waiting backfill\'s');
  // Neither the cancelled month nor the cancelled backfill posted a failure alert.
  assert.deepEqual(log.inputs('sendPipelineAlert'), []);
});

test('a backfill terminated (it cannot leave) is found by the liveness check; the month passes to the one waiting', async () => {
  const log = new CallLog();
  const datamart = inMemoryDatamart(log);
  datamart.hold('2024-02');
  const narrow = await withMockedActivities(env, backfillActivities(log, datamart), async (taskQueue) => {
    // The coordinator checks every second here (a minute by default); the backfills' joins attach to it.
    await env.client.workflow.start(backfillCoordinatorWorkflow, {
      taskQueue,
      workflowId: workflowIds.backfillCoordinator(taskQueue),
      args: [{ livenessCheck: '1 second', idleFor: '1 minute' }],
    });
    const wide = await startBackfill(taskQueue, 'backfill-terminated', { from: '2024-01', to: '2024-02', trainAt: '2024-02' });
    await waitUntil("the wide backfill's 2024-02 to run", () => log.inputs('runMonthEtl').includes('2024-02'), WAIT);
    const narrow = await startBackfill(taskQueue, 'backfill-survivor', { from: '2024-02', to: '2024-02', trainAt: '2024-02' });
    await waitUntil('the narrow backfill to join', async () => (await joined(taskQueue)).length === 2, WAIT);
    await wide.terminate('test: a backfill that cannot leave');
    await waitUntil('the narrow backfill to run 2024-02', () => log.inputs('runMonthEtl').length === 3, WAIT);
    datamart.release('2024-02');
    return narrow.result();
  });
  assert.deepEqual(narrow.failed, []);
  assert.deepEqual(narrow.done, ['2024-02']);
});

test('a backfill of another source folder is refused while one runs; not once that one was terminated without leaving', async () => {
  const log = new CallLog();
  const datamart = inMemoryDatamart(log);
  datamart.hold('2024-01');
  const [refused, admitted] = await withMockedActivities(env, backfillActivities(log, datamart), async (taskQueue) => {
    const first = await startBackfill(taskQueue, 'backfill-first-folder', { from: '2024-01', to: '2024-01', trainAt: '2024-01' });
    await waitUntil("the first backfill's 2024-01 to run", () => log.inputs('runMonthEtl').includes('2024-01'), WAIT);
    const other = { from: '2024-02', to: '2024-02', trainAt: '2024-02', sourceDir: '/nowhere/other-sources' } as const;
    const refused = await (await startBackfill(taskQueue, 'backfill-other-folder', other)).result().catch((error: unknown) => error);
    await first.terminate('test: a backfill that cannot leave');
    const admitted = await (await startBackfill(taskQueue, 'backfill-other-folder-again', other)).result();
    datamart.release('2024-01');
    return [refused, admitted];
  });
  assert.ok(refused instanceof WorkflowFailedError);
  assert.ok(failureTypes(refused).includes('SourceFolderBusy'));
  assert.match(causes(refused).at(-1)!.message, /^another backfill, backfill-first-folder \(source \/nowhere\/sources\), is running on this datamart/);
  assert.deepEqual(admitted.failed, []);
  assert.deepEqual(admitted.done, ['2024-02']);
});
