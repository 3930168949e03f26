// Backfills a data team can trust (issue 12), on the real dev server over 2023-01..2023-12 of the real sample with
// training as of 2023-12: two overlapping backfills at once run each month once and train once (through the
// datamart's backfill coordinator: test/workflows/backfill.ts has each of its branches); a changed source
// slice recomputes only its month; --months … --force recomputes exactly those; a broken month blocks training until
// it is fixed, after which the same backfill trains the clean run's model.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Config } from '../../lib/config.js';
import { datamart, SOURCE_FILES } from '../../lib/layout.js';
import { monthRange } from '../../lib/months.js';
import { workflowIds } from '../../lib/temporal.js';
import { readRegistry } from '../../core/models/registry.js';
import { backfillWorkflow, type BackfillResult } from '../../workflows/backfill.js';
import type { BackfillInput } from '../../lib/workflow-inputs.js';
import { goldTableHash } from '../helpers/gold.js';
import { changeOneLedgerRow, copySources, editLedger } from '../helpers/sources.js';
import { FIXTURE_DIR, scratchConfig, startTemporal, withWorker } from '../helpers/temporal.js';

const FROM = '2023-01';
const TO = '2023-12';
const TRAIN_AT = '2023-12';
const MONTHS = monthRange(FROM, TO);
let env: TestWorkflowEnvironment;
const scratches: Array<ReturnType<typeof scratchConfig>> = [];
let reference: { modelId: string; gold: string[] } | undefined;

before(async () => {
  env = await startTemporal();
});
after(async () => {
  await env?.teardown();
  for (const scratch of scratches) scratch.cleanup();
});

function scratch(name: string) {
  const created = scratchConfig(name);
  scratches.push(created);
  return created;
}

async function gold(config: Config): Promise<string[]> {
  return [await goldTableHash(datamart.featureStore(config.DATAMART_DIR)), await goldTableHash(datamart.labelStore(config.DATAMART_DIR))];
}

function backfill(config: Config, input: Partial<BackfillInput> & { sourceDir: string }, id?: string): Promise<BackfillResult> {
  const args: BackfillInput = { from: FROM, to: TO, trainAt: TRAIN_AT, ...input };
  return env.client.workflow.execute(backfillWorkflow, {
    workflowId: id ?? workflowIds.backfill(args.from, args.to, input.sourceDir),
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    args: [args],
  });
}

/** Executions of month-<M> on this test's task queue, counted from the server's visibility. */
async function monthRuns(config: Config, month: string): Promise<number> {
  const { count } = await env.client.workflow.count(`WorkflowId = '${workflowIds.month(month)}' AND TaskQueue = '${config.TEMPORAL_TASK_QUEUE}'`);
  return count;
}

test('reference: one clean backfill of 2023-01..2023-12 trains and promotes a model', async () => {
  const { config } = scratch('trust-reference');
  await withWorker(env, config, async () => {
    const result = await backfill(config, { sourceDir: FIXTURE_DIR }, workflowIds.backfill(FROM, TO));
    assert.deepEqual(result.failed, []);
    assert.deepEqual([...result.done].sort(), MONTHS);
    assert.ok(result.training?.promoted, result.training?.reason);
    reference = { modelId: result.training!.modelId, gold: await gold(config) };
  });
});

test('two overlapping backfills at once both succeed; every month pipeline runs once; gold equals a single run', async () => {
  assert.ok(reference);
  const { config, dir } = scratch('trust-overlap');
  const sourceDir = copySources(dir);
  await withWorker(env, config, async () => {
    const [wide, narrow] = await Promise.all([
      backfill(config, { sourceDir, from: '2023-01', to: '2023-12' }),
      backfill(config, { sourceDir, from: '2023-03', to: '2023-12' }),
    ]);
    for (const result of [wide, narrow]) {
      assert.deepEqual(result.failed, []);
      assert.equal(result.training?.modelId, reference!.modelId, 'both report the one model trained from the same data');
    }
    for (const month of MONTHS) assert.equal(await monthRuns(config, month), 1, `month-${month} executions`);
    // One model trained for both. The second backfill either awaits the first's training run or, when that run ended
    // before it got there, starts one that finds the model trained on the same data and reuses it (trains nothing).
    const registry = await readRegistry(config.MODEL_BANK_DIR);
    assert.deepEqual(registry.history.filter((event) => event.stage === 'candidate').map((event) => event.model_id), [reference!.modelId]);
    const trainings = await env.client.workflow.count(`WorkflowId = '${workflowIds.training(TRAIN_AT, 1)}' AND TaskQueue = '${config.TEMPORAL_TASK_QUEUE}'`);
    assert.equal([wide, narrow].filter((result) => result.training?.reused).length, trainings.count - 1, 'every training run after the first reused the model');
    assert.deepEqual(await gold(config), reference!.gold);

    // A changed slice of one month (one ledger row of 2023-10): the rerun recomputes 2023-10 only, the rest is current.
    changeOneLedgerRow(sourceDir, '2023-10');
    const rerun = await backfill(config, { sourceDir });
    assert.deepEqual(rerun.done, ['2023-10']);
    assert.deepEqual([...rerun.skipped].sort(), MONTHS.filter((month) => month !== '2023-10'));
    assert.equal(await monthRuns(config, '2023-10'), 2);
    assert.equal(await monthRuns(config, '2023-09'), 1);

    // Explicit reprocessing: exactly the chosen months, whatever their lineage says.
    const forced = await backfill(config, { sourceDir, from: '2023-05', to: '2023-06', trainAt: undefined, months: ['2023-05', '2023-06'], force: true });
    assert.deepEqual([...forced.done].sort(), ['2023-05', '2023-06']);
    assert.deepEqual([...forced.skipped].sort(), ['2023-07', '2023-08', '2023-09'], 'the months reading their clickstream are checked and current');
    assert.equal(forced.training, null);
    for (const month of MONTHS) assert.equal(await monthRuns(config, month), ['2023-05', '2023-06', '2023-10'].includes(month) ? 2 : 1, month);
  });
});

test('a broken month blocks training; after the fix the same backfill completes and trains the clean run model', async () => {
  assert.ok(reference);
  const { config, dir } = scratch('trust-broken');
  const sourceDir = copySources(dir);
  const original = readFileSync(join(sourceDir, SOURCE_FILES.loan_daily));
  const broken = editLedger(sourceDir, '2023-03', (row) => {
    row.loan_id = '';
  });
  assert.ok(broken > 10);
  await withWorker(env, config, async () => {
    const failure = await backfill(config, { sourceDir }).then(
      () => assert.fail('the backfill succeeded with a broken month'),
      (error: unknown) => error,
    );
    assert.ok(failure instanceof WorkflowFailedError);
    const message = (failure.cause as Error).message;
    assert.match(message, /2023-03 \(loan_daily 2023-03: \d+ of \d+ rows quarantined/);
    assert.match(message, /no training as of 2023-12: month\(s\) 2023-03 feed the training set and failed/);
    const registry = await readRegistry(config.MODEL_BANK_DIR);
    assert.equal(registry.production, null, 'nothing promoted');
    assert.equal(registry.history.length, 0, 'nothing trained');

    writeFileSync(join(sourceDir, SOURCE_FILES.loan_daily), original);
    const fixed = await backfill(config, { sourceDir });
    assert.deepEqual(fixed.failed, []);
    assert.deepEqual(fixed.done, ['2023-03'], 'only the fixed month is recomputed');
    assert.equal(fixed.training?.modelId, reference!.modelId);
    assert.ok(fixed.training?.promoted);
    assert.ok(existsSync(join(config.MODEL_BANK_DIR, reference!.modelId, 'metadata.json')));
  });
});
