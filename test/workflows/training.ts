// trainingWorkflow's branches with mocked activities: the gate promotes or keeps a candidate; a model already trained
// on the same data is reused instead of training again; a libxgboost failure (a real one, through the real activity
// adapter) fails the workflow on the first attempt instead of after three, and posts a pipeline alert.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { adaptActivity } from '../../activities/failures.js';
import { Booster } from '../../core/xgboost/index.js';
import { progressQuery, trainingWorkflow } from '../../workflows/index.js';
import { CallLog, inMemoryModelBank, trainingActivities, withMockedActivities, sharedTemporal, TRAINING_DATA_SHA256 } from './mocks.js';

const temporal = sharedTemporal();
let env: TestWorkflowEnvironment;
before(async () => {
  env = await temporal;
});

test('the gate promotes: the best candidate on the test months (simplest within the AUC tie) goes to production', async () => {
  const log = new CallLog();
  const bank = inMemoryModelBank([], log);
  // gblinear is best on the OOT months, which take no part in the choice.
  const testAucs = { gbtree: 0.8, rf: 0.7995, gblinear: 0.7 };
  const ootAucs = { gbtree: 0.78, rf: 0.77, gblinear: 0.85 };
  const { result, progress } = await withMockedActivities(
    env,
    { ...bank.activities, ...trainingActivities(log, { promote: true, testAucs, ootAucs }) },
    async (taskQueue) => {
      const handle = await env.client.workflow.start(trainingWorkflow, { taskQueue, workflowId: 'training-promote', args: [{ asOf: '2024-06', reason: 'test' }] });
      return { result: await handle.result(), progress: await handle.query(progressQuery) };
    },
  );
  assert.deepEqual(progress, { total: 3, done: 3, failed: 0, running: 0, step: 'rf-2024-06-abc (trained as of 2024-06 on 2023-01..2023-06, test 2023-01..2023-06, OOT 2023-01..2023-06) promoted: better than production' });
  assert.equal(result.family, 'rf');
  assert.equal(result.modelId, 'rf-2024-06-abc');
  assert.equal(result.promoted, true);
  assert.equal(result.metrics.oot_auc, 0.77);
  assert.deepEqual(
    [...result.candidates].sort((a, b) => a.family.localeCompare(b.family)),
    [
      { family: 'gblinear', testAuc: 0.7, ootAuc: 0.85 },
      { family: 'gbtree', testAuc: 0.8, ootAuc: 0.78 },
      { family: 'rf', testAuc: 0.7995, ootAuc: 0.77 },
    ],
  );
  assert.deepEqual(log.inputs('trainCandidate').sort(), ['gblinear', 'gbtree', 'rf']);
  assert.equal(bank.registry().production, 'rf-2024-06-abc');
  assert.match((log.inputs('promoteModel')[0] as { reason: string }).reason, /^test: better than production$/);
  assert.equal(log.count('recordCandidate'), 0);
  assert.equal(log.count('notifyRegistryChanged'), 1);
  // No model was trained on this data before: the bank was asked once, by the training set's hash.
  assert.deepEqual(log.inputs('findModelsByTrainingData'), [{ trainingDataSha256: TRAINING_DATA_SHA256 }]);
  assert.equal(log.count('sendPipelineAlert'), 0);
});

test('the gate refuses: the model stays a candidate and production is unchanged', async () => {
  const log = new CallLog();
  const bank = inMemoryModelBank([], log);
  const result = await withMockedActivities(env, { ...bank.activities, ...trainingActivities(log, { promote: false }) }, (taskQueue) =>
    env.client.workflow.execute(trainingWorkflow, { taskQueue, workflowId: 'training-candidate', args: [{ asOf: '2024-06', promotionMinAuc: 0.75 }] }),
  );
  assert.equal(result.promoted, false);
  assert.equal(result.family, 'gbtree');
  assert.equal(bank.registry().production, null);
  const [recorded] = log.inputs('recordCandidate') as Array<{ modelId: string; reason: string; decision: { decidedAt: string; decidedBy: string; action: string; evidence: unknown } }>;
  assert.equal(recorded.modelId, 'gbtree-2024-06-abc');
  assert.equal(recorded.reason, 'worse than production');
  // The gate's decision and its paired evidence travel with the registry change to promotions.parquet.
  assert.equal(recorded.decision.decidedBy, 'gate');
  assert.equal(recorded.decision.action, 'reject');
  assert.equal((recorded.decision.evidence as { months_compared: string }).months_compared, '2024-05..2024-06');
  assert.deepEqual(log.inputs('evaluatePromotionGate'), [{ modelId: 'gbtree-2024-06-abc', minAuc: 0.75 }]);
  assert.equal(log.count('promoteModel'), 0);
  assert.equal(log.count('sendPipelineAlert'), 0);
});

test('a model trained on the same data is reused: nothing trained, registered or promoted; the production one is preferred', async () => {
  const log = new CallLog();
  const bank = inMemoryModelBank([], log);
  await bank.activities.promoteModel({ modelId: 'rf-2024-03-old', reason: 'setup' });
  const activities = { ...bank.activities, ...trainingActivities(log, { promote: true, sameData: ['gbtree-2024-03-old', 'rf-2024-03-old'] }) };
  await withMockedActivities(env, activities, async (taskQueue) => {
    const result = await env.client.workflow.execute(trainingWorkflow, { taskQueue, workflowId: 'training-reuse', args: [{ asOf: '2024-06' }] });
    assert.deepEqual(
      { modelId: result.modelId, family: result.family, reused: result.reused, promoted: result.promoted, created: result.created, candidates: result.candidates },
      { modelId: 'rf-2024-03-old', family: 'rf', reused: true, promoted: false, created: false, candidates: [] },
    );
    assert.match(result.reason, /^not retrained: rf-2024-03-old was trained on the same data \(training_data_sha256 aaaaaaaaaaaa…\) and is the production model$/);
    assert.deepEqual(log.inputs('findModelsByTrainingData'), [{ trainingDataSha256: TRAINING_DATA_SHA256 }]);
    for (const name of ['trainCandidate', 'registerModel', 'evaluatePromotionGate', 'recordCandidate', 'notifyRegistryChanged', 'sendPipelineAlert']) {
      assert.equal(log.count(name), 0, `${name} was called`);
    }
    assert.equal(log.count('promoteModel'), 1); // the setup's only
    assert.equal(bank.registry().production, 'rf-2024-03-old');

    // A forced training does not look for a model to reuse: it trains, and goes through the gate.
    const forced = await env.client.workflow.execute(trainingWorkflow, { taskQueue, workflowId: 'training-reuse-forced', args: [{ asOf: '2024-06', forced: true }] });
    assert.equal(forced.reused, undefined);
    assert.equal(forced.promoted, true);
    assert.equal(log.count('findModelsByTrainingData'), 1);
    assert.deepEqual(log.inputs('trainCandidate').sort(), ['gblinear', 'gbtree', 'rf']);
    assert.equal(bank.registry().production, forced.modelId);
  });
});

test('a model trained on the same data but not in production, beside a current production model, is reused and said to be so', async () => {
  const log = new CallLog();
  const bank = inMemoryModelBank([], log);
  await bank.activities.promoteModel({ modelId: 'rf-2024-01-prod', reason: 'setup' });
  const activities = { ...bank.activities, ...trainingActivities(log, { promote: true, sameData: ['gblinear-2024-03-old'] }) };
  const result = await withMockedActivities(env, activities, (taskQueue) =>
    env.client.workflow.execute(trainingWorkflow, { taskQueue, workflowId: 'training-reuse-candidate', args: [{ asOf: '2024-06' }] }),
  );
  assert.deepEqual([result.modelId, result.family, result.reused, result.promoted], ['gblinear-2024-03-old', 'gblinear', true, false]);
  assert.match(result.reason, /gblinear-2024-03-old was trained on the same data .* and is not in production$/);
  assert.equal(result.production, 'rf-2024-01-prod', 'the result names the model in production');
  assert.equal(log.count('trainCandidate') + log.count('evaluatePromotionGate'), 0);
  assert.equal(log.count('promoteModel'), 1); // the setup's only
});

test('production follows the data: a model of the current data goes through the gate when production is stale or absent', async () => {
  for (const [productionStale, promote] of [[true, true], [true, false], [false, true]] as const) {
    const log = new CallLog();
    const bank = inMemoryModelBank([], log);
    if (productionStale) await bank.activities.promoteModel({ modelId: 'rf-2024-01-stale', reason: 'setup' });
    const activities = { ...bank.activities, ...trainingActivities(log, { promote, productionStale, sameData: ['gblinear-2024-03-clean'], productionModelId: productionStale ? 'rf-2024-01-stale' : undefined }) };
    const result = await withMockedActivities(env, activities, (taskQueue) =>
      env.client.workflow.execute(trainingWorkflow, { taskQueue, workflowId: `training-follows-${productionStale}-${promote}`, args: [{ asOf: '2024-06' }] }),
    );
    const label = `stale ${productionStale}, gate ${promote}`;
    assert.deepEqual([result.modelId, result.reused, result.promoted], ['gblinear-2024-03-clean', true, promote], label);
    assert.equal(log.count('trainCandidate'), 0, `${label}: not trained again`);
    assert.deepEqual(log.inputs('evaluatePromotionGate'), [{ modelId: 'gblinear-2024-03-clean' }], label);
    assert.match(result.reason, productionStale ? /production was trained on data no longer current/ : /no production model/, label);
    const expected = promote ? 'gblinear-2024-03-clean' : productionStale ? 'rf-2024-01-stale' : null;
    assert.equal(bank.registry().production, expected, label);
    assert.equal(result.production, expected, label);
    // Not promoted while production is stale: an alert says production stays on a model of data no longer current.
    assert.equal(log.count('sendPipelineAlert'), promote ? 0 : 1, label);
  }
});

test('no training from incomplete source data: the training fails naming source, month and counts, before building anything', async () => {
  const log = new CallLog();
  const bank = inMemoryModelBank([], log);
  const incomplete = [{ source: 'clickstream' as const, month: '2024-03', rows: 0, expected: 1341, basis: 'the median of 2023-12..2024-02' }];
  const activities = { ...bank.activities, ...trainingActivities(log, { promote: true, incomplete }) };
  await assert.rejects(
    withMockedActivities(env, activities, (taskQueue) =>
      env.client.workflow.execute(trainingWorkflow, { taskQueue, workflowId: 'training-incomplete', args: [{ asOf: '2024-06' }] }),
    ),
    (error: unknown) => {
      assert.ok(error instanceof WorkflowFailedError);
      assert.ok(error.cause instanceof ApplicationFailure);
      assert.equal(error.cause.type, 'IncompleteSourceData');
      assert.match(error.cause.message, /^no training as of 2024-06: incomplete source data: clickstream 2024-03: 0 rows against 1341 \(the median of 2023-12\.\.2024-02\)/);
      return true;
    },
  );
  assert.equal(log.count('buildTrainingSet') + log.count('trainCandidate'), 0);
});

test('a libxgboost error fails training on the first attempt, not after three', async () => {
  const log = new CallLog();
  const bank = inMemoryModelBank([], log);
  const activities = {
    ...bank.activities,
    ...trainingActivities(log, { promote: true }),
    // A real libxgboost failure (XGBoosterLoadModelFromBuffer on a truncated model) through the real adapter.
    trainCandidate: adaptActivity(async () => {
      log.record('trainCandidate');
      Booster.fromJson('{"learner": 3');
      throw new Error('unreachable: libxgboost accepted a truncated model');
    }),
  };
  const started = Date.now();
  await assert.rejects(
    withMockedActivities(env, activities, (taskQueue) =>
      env.client.workflow.execute(trainingWorkflow, { taskQueue, workflowId: 'training-xgboost-error', args: [{ asOf: '2024-06' }] }),
    ),
    (error: unknown) => {
      assert.ok(error instanceof WorkflowFailedError);
      assert.ok(error.cause instanceof ActivityFailure);
      assert.ok(error.cause.cause instanceof ApplicationFailure);
      assert.equal(error.cause.cause.type, 'XGBoostError');
      assert.equal(error.cause.cause.nonRetryable, true);
      return true;
    },
  );
  // One attempt per family (three families run in parallel), no retry: a retry would come after ≥ 1 s of backoff.
  assert.equal(log.count('trainCandidate'), 3);
  assert.equal(log.count('registerModel'), 0);
  assert.ok(Date.now() - started < 10_000);
  assertOneTrainingAlert(log, 'training-xgboost-error');
});

test('an XGBoostError thrown without the adapter is still not retried: the retry policy names the type', async () => {
  const log = new CallLog();
  const { XGBoostError } = await import('../../lib/errors.js');
  const activities = {
    ...trainingActivities(log, { promote: true }),
    buildTrainingSet: async () => {
      log.record('buildTrainingSet');
      throw new XGBoostError('corrupt DMatrix', 'XGDMatrixCreateFromMat');
    },
  };
  await assert.rejects(
    withMockedActivities(env, activities, (taskQueue) =>
      env.client.workflow.execute(trainingWorkflow, { taskQueue, workflowId: 'training-plain-xgboost-error', args: [{ asOf: '2024-06' }] }),
    ),
    (error: unknown) => error instanceof WorkflowFailedError && (error.cause?.cause as ApplicationFailure).type === 'XGBoostError',
  );
  assert.equal(log.count('buildTrainingSet'), 1);
  assertOneTrainingAlert(log, 'training-plain-xgboost-error');
});

/** A failed training posts exactly one alert, naming the run, the month and the failure. */
function assertOneTrainingAlert(log: CallLog, workflowId: string): void {
  const alerts = log.inputs('sendPipelineAlert') as Array<{ kind: string; workflowId: string; summary: string }>;
  assert.equal(alerts.length, 1);
  assert.deepEqual([alerts[0].kind, alerts[0].workflowId], ['training', workflowId]);
  assert.match(alerts[0].summary, /^training as of 2024-06 failed: .*(XGB|DMatrix|learner)/);
}
