// End to end on the real dev server: one month of the real sample through monthPipelineWorkflow (real DuckDB,
// real Parquet), then found again in visibility by its search attributes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import { datamart, partitionFile } from '../../lib/layout.js';
import { workflowIds } from '../../lib/temporal.js';
import { monthPipelineWorkflow } from '../../workflows/index.js';
import { FIXTURE_DIR, scratchConfig, startTemporal, withWorker } from '../helpers/temporal.js';

let env: TestWorkflowEnvironment;
const scratch = scratchConfig('month-pipeline');

before(async () => {
  env = await startTemporal();
});
after(async () => {
  await env?.teardown();
  scratch.cleanup();
});

/** Loans applied for in a month, counted straight from the raw ledger: rows with installment_num 0 in that month. */
function applicationsInRawLedger(month: string): number {
  const lines = readFileSync(join(FIXTURE_DIR, 'lms_loan_daily.csv'), 'utf8').trim().split('\n').slice(1);
  return lines.filter((line) => {
    const cells = line.split(',');
    return cells[4] === '0' && cells[10].startsWith(month);
  }).length;
}

test('monthPipelineWorkflow runs one month of the real sample on the dev server', async () => {
  const { config } = scratch;
  const month = '2023-06';
  const result = await withWorker(env, config, () =>
    env.client.workflow.execute(monthPipelineWorkflow, {
      workflowId: workflowIds.month(month),
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      args: [{ month, sourceDir: FIXTURE_DIR, modelId: null }],
    }),
  );

  const expected = applicationsInRawLedger(month);
  assert.ok(expected > 50, `the sample has loans applied for in ${month}`);
  assert.equal(result.featureRows, expected);
  assert.equal(result.scoredWith, null);
  assert.ok(result.bronzeRows.clickstream > 0 && result.bronzeRows.attributes > 0);
  assert.ok(existsSync(partitionFile(datamart.featureStore(config.DATAMART_DIR), month)));
  assert.ok(existsSync(partitionFile(datamart.labelStore(config.DATAMART_DIR), month)));

  // Visibility: an operator finds the run by phase and month (list is eventually consistent).
  let found: string[] = [];
  for (let attempt = 0; attempt < 50 && found.length === 0; attempt++) {
    found = [];
    for await (const execution of env.client.workflow.list({ query: `PipelinePhase = 'etl' AND SnapshotMonth = '${month}'` })) {
      found.push(execution.workflowId);
    }
    if (found.length === 0) await new Promise((wait) => setTimeout(wait, 200));
  }
  assert.deepEqual(found, [workflowIds.month(month)]);

  // The month's ETL is one activity (bronze, silver and gold on one DuckDB connection), not one per step.
  const history = await env.client.workflow.getHandle(workflowIds.month(month)).fetchHistory();
  const activities = (history.events ?? []).flatMap((event) => event.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
  assert.deepEqual(activities, ['runMonthEtl']);
});

test('a month without any source row fails with NoSourceData and leaves no silver or gold', async () => {
  const { config } = scratch;
  const month = '2031-01';
  const failure = await withWorker(env, config, () =>
    env.client.workflow
      .execute(monthPipelineWorkflow, {
        workflowId: workflowIds.month(month),
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        args: [{ month, sourceDir: FIXTURE_DIR, modelId: null }],
      })
      .then(() => undefined, (error: unknown) => error),
  );
  assert.ok(failure instanceof WorkflowFailedError, `expected the workflow to fail, got ${String(failure)}`);
  assert.ok(failure.cause instanceof ApplicationFailure);
  assert.equal(failure.cause.type, 'NoSourceData');
  assert.equal(failure.cause.nonRetryable, true);
  // Its bronze (empty) is written; nothing after it, so the month stays not current and is tried again next time.
  assert.ok(existsSync(partitionFile(datamart.sourceTable(config.DATAMART_DIR, 'bronze', 'loan_daily'), month)));
  assert.ok(!existsSync(partitionFile(datamart.sourceTable(config.DATAMART_DIR, 'silver', 'loan_daily'), month)));
  assert.ok(!existsSync(partitionFile(datamart.featureStore(config.DATAMART_DIR), month)));
  assert.ok(!existsSync(partitionFile(datamart.labelStore(config.DATAMART_DIR), month)));
});
