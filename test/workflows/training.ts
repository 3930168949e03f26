// trainingWorkflow's branches with mocked activities: the gate promotes or keeps a candidate; a libxgboost failure
// (a real one, through the real activity adapter) fails the workflow on the first attempt instead of after three.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { adaptActivity } from '../../activities/failures.js';
import { Booster } from '../../core/xgboost/index.js';
import { trainingWorkflow } from '../../workflows/index.js';
import { CallLog, inMemoryModelBank, trainingActivities, withMockedActivities, sharedTemporal } from './mocks.js';

const temporal = sharedTemporal();
let env: TestWorkflowEnvironment;
before(async () => {
  env = await temporal;
});

test('the gate promotes: the best candidate (simplest within the AUC tie) goes to production', async () => {
  const log = new CallLog();
  const bank = inMemoryModelBank([], log);
  const result = await withMockedActivities(
    env,
    { ...bank.activities, ...trainingActivities(log, { promote: true, aucs: { gbtree: 0.8, rf: 0.7995, gblinear: 0.7 } }) },
    (taskQueue) => env.client.workflow.execute(trainingWorkflow, { taskQueue, workflowId: 'training-promote', args: [{ asOf: '2024-06', reason: 'test' }] }),
  );
  assert.equal(result.family, 'rf');
  assert.equal(result.modelId, 'rf-2024-06-abc');
  assert.equal(result.promoted, true);
  assert.deepEqual(log.inputs('trainCandidate').sort(), ['gblinear', 'gbtree', 'rf']);
  assert.equal(bank.registry().production, 'rf-2024-06-abc');
  assert.match((log.inputs('promoteModel')[0] as { reason: string }).reason, /^test: better than production$/);
  assert.equal(log.count('recordCandidate'), 0);
  assert.equal(log.count('notifyRegistryChanged'), 1);
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
  assert.deepEqual(log.inputs('recordCandidate'), [{ modelId: 'gbtree-2024-06-abc', reason: 'worse than production' }]);
  assert.deepEqual(log.inputs('evaluatePromotionGate'), [{ modelId: 'gbtree-2024-06-abc', minAuc: 0.75 }]);
  assert.equal(log.count('promoteModel'), 0);
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
});
