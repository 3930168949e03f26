// Phase 1 then phase 2 over the real sample (2023-01..2024-12) on the real dev server: every month's partitions, one
// production model, predictions for every month with applications, `progress` reaching its total, and the backfill
// continuing as new when its history budget runs out.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { registrySchema } from '../../lib/contracts.js';
import { datamart, modelBank, partitionFile } from '../../lib/layout.js';
import { monthRange } from '../../lib/months.js';
import { workflowIds, type Progress } from '../../lib/temporal.js';
import { backfillWorkflow, historicalInferenceWorkflow } from '../../workflows/index.js';
import { FIXTURE_DIR, scratchConfig, startTemporal, withWorker } from '../helpers/temporal.js';
import { workflowTasks } from '../helpers/workflow-tasks.js';

let env: TestWorkflowEnvironment;
const scratch = scratchConfig('e2e');
const FROM = '2023-01';
const TO = '2024-12';

before(async () => {
  env = await startTemporal();
});
after(async () => {
  await env?.teardown();
  scratch.cleanup();
});

test('phase 1 and phase 2 over the real sample', async () => {
  const { config } = scratch;
  const months = monthRange(FROM, TO);
  await withWorker(env, config, async () => {
    const backfill = await env.client.workflow.start(backfillWorkflow, {
      workflowId: workflowIds.backfill(FROM, TO),
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      // A small history budget makes it continue as new mid-way, as a 120-month backfill would.
      args: [{ from: FROM, to: TO, sourceDir: FIXTURE_DIR, parallelism: 4, maxHistoryEvents: 80 }],
    });
    const phase1 = await backfill.result();
    const runs: string[] = [];
    for await (const execution of env.client.workflow.list({ query: `WorkflowId = '${backfill.workflowId}'` })) runs.push(execution.runId);
    assert.ok(runs.length >= 2, `continued as new: ${runs.length} runs`);
    assert.deepEqual(phase1.failed, []);
    assert.equal(phase1.done.length, months.length);
    assert.equal(phase1.trainAt, '2024-12', 'default training month: the last with mature labels');
    assert.ok(phase1.training?.promoted, `the model passed the gate: ${phase1.training?.reason}`);
    const { step, ...counts } = await backfill.query<Progress>('progress');
    assert.deepEqual(counts, { total: months.length, done: months.length, failed: 0, running: 0 });
    assert.equal(step, 'finished', 'progress says what the backfill does now');

    const history = await env.client.workflow.start(historicalInferenceWorkflow, {
      workflowId: workflowIds.history(FROM, TO),
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      args: [{ from: FROM, to: TO }],
    });
    const phase2 = await history.result();
    assert.equal(phase2.modelId, phase1.training?.modelId);
    assert.equal(phase2.scored.length, months.length);
    const { step: historyStep, ...historyCounts } = await history.query<Progress>('progress');
    assert.deepEqual(historyCounts, { total: months.length, done: months.length, failed: 0, running: 0 });
    assert.match(historyStep ?? '', new RegExp(`scoring ${months.length} months with ${phase2.modelId}`));

    for (const month of months) {
      assert.ok(existsSync(partitionFile(datamart.featureStore(config.DATAMART_DIR), month)), `features ${month}`);
      assert.ok(existsSync(partitionFile(datamart.labelStore(config.DATAMART_DIR), month)), `labels ${month}`);
      assert.ok(existsSync(partitionFile(datamart.predictions(config.DATAMART_DIR, phase2.modelId), month)), `predictions ${month}`);
    }
    const registry = registrySchema.parse(JSON.parse(readFileSync(modelBank.registry(config.MODEL_BANK_DIR), 'utf8')));
    assert.equal(registry.production, phase1.training?.modelId);
    assert.equal(registry.history.filter((event) => event.stage === 'production').length, 1);

    // The same backfill again redoes only what is missing: here, one month whose feature partition was lost.
    rmSync(partitionFile(datamart.featureStore(config.DATAMART_DIR), '2023-07'));
    const again = await env.client.workflow.execute(backfillWorkflow, {
      workflowId: workflowIds.backfill(FROM, TO),
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      args: [{ from: FROM, to: TO, sourceDir: FIXTURE_DIR }],
    });
    assert.deepEqual(again.done, ['2023-07']);
    assert.equal(again.skipped.length, months.length - 1);
    assert.equal(again.training?.modelId, phase1.training?.modelId, 'no second training for the same month');
    assert.ok(existsSync(partitionFile(datamart.featureStore(config.DATAMART_DIR), '2023-07')));
  });

  // A workflow task is orchestration only: milliseconds. One over the workflow task timeout (10 s) times out: the
  // worker's event loop was blocked (synchronous native work in an activity) or the workflow code is heavy. How long
  // they take is a speed figure (npm run bench), so the test holds the behaviour: every task completed, none timed out.
  const { durations, incomplete } = await workflowTasks(env.client, config.TEMPORAL_TASK_QUEUE);
  assert.ok(durations.length > 100, `${durations.length} workflow tasks read`);
  console.log(`longest workflow tasks: ${durations.slice(0, 5).map((t) => `${t.workflowId} #${t.startedEventId} ${t.ms.toFixed(0)} ms`).join(', ')}`);
  assert.deepEqual(incomplete, [], 'every workflow task completed the first time');
});
