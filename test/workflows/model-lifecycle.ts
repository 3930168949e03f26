// modelLifecycleWorkflow's branches with mocked activities: promote/rollback Updates and their validators (a
// malformed rollback is rejected and the workflow keeps running), forced retraining, and continue-as-new.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  forceRetrainSignal,
  modelLifecycleWorkflow,
  promoteModelUpdate,
  registryChangedSignal,
  rollbackModelUpdate,
  statusQuery,
} from '../../workflows/index.js';
import type { LifecycleStatus } from '../../workflows/model-lifecycle.js';
import { CallLog, inMemoryModelBank, trainingActivities, withMockedActivities, type MockActivities, sharedTemporal } from './mocks.js';
import { waitUntil } from '../helpers/wait.js';

const temporal = sharedTemporal();
let env: TestWorkflowEnvironment;
before(async () => {
  env = await temporal;
});

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  return (await waitUntil(what, probe, { timeoutMs })) as T;
}

async function rejected(update: Promise<unknown>): Promise<string> {
  try {
    await update;
  } catch (error) {
    assert.ok(error instanceof WorkflowUpdateFailedError, `expected a rejected update, got ${String(error)}`);
    return (error.cause as Error).message;
  }
  assert.fail('the update was accepted');
}

async function workflowTaskFailures(handle: WorkflowHandle): Promise<number> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).filter((event) => event.workflowTaskFailedEventAttributes).length;
}

function lifecycleActivities(log: CallLog, models: string[], latestLabelledMonth: string | null = '2024-06') {
  const bank = inMemoryModelBank(models.map((modelId) => ({ modelId, asOf: '2024-01' })), log);
  const activities: MockActivities = {
    ...trainingActivities(log, { promote: true }),
    ...bank.activities,
    latestLabelledMonth: async (input: { from: string; to: string }) => {
      log.record('latestLabelledMonth', input);
      return latestLabelledMonth;
    },
    recordForcedRetrain: async (input: { asOf: string | null; reason: string; workflowId: string; now: string }) => {
      log.record('recordForcedRetrain', input);
      return { reason: `forced retrain: ${input.reason}; no retrain within the 30-day cooldown` };
    },
  };
  return { activities, bank };
}

test('promote and rollback through validated Updates; malformed or impossible requests are rejected, the workflow keeps running', async () => {
  const log = new CallLog();
  const { activities, bank } = lifecycleActivities(log, ['m-1', 'm-2']);
  await withMockedActivities(env, activities, async (taskQueue) => {
    const handle = await env.client.workflow.start(modelLifecycleWorkflow, { taskQueue, workflowId: 'lifecycle-updates', args: [{}] });
    await until('the first refresh', async () => (await handle.query(statusQuery)).knownModels.length === 2);

    const why = { reason: 'reviewed', by: 'alice' };
    assert.match(await rejected(handle.executeUpdate(promoteModelUpdate, { args: [{ modelId: 'nope', ...why }] })), /unknown model id 'nope'; known models: m-1, m-2/);
    assert.match(await rejected(handle.executeUpdate(promoteModelUpdate, { args: [{ modelId: '../m-1', ...why }] })), /invalid promoteModel input: modelId: a model id is/);
    assert.match(await rejected(handle.executeUpdate(promoteModelUpdate, { args: [{ modelId: 'm-1' }] })), /promoteModel: a reason is required/);
    assert.match(await rejected(handle.executeUpdate(rollbackModelUpdate, { args: [{}] })), /rollbackModel: a reason is required/);
    assert.match(await rejected(handle.executeUpdate(rollbackModelUpdate, { args: [{ reason: 'x' }] })), /no earlier production model to roll back to/);
    assert.equal(log.count('promoteModel') + log.count('rollbackModel'), 0);

    await handle.executeUpdate(promoteModelUpdate, { args: [{ modelId: 'm-1', ...why }] });
    const promoted: LifecycleStatus = await handle.executeUpdate(promoteModelUpdate, { args: [{ modelId: 'm-2', reason: 'better', by: 'bob' }] });
    assert.equal(promoted.production, 'm-2');
    assert.equal(promoted.previousProduction, 'm-1');
    // Who and why reach the activity, with the workflow's clock for promotions.parquet.
    const forwarded = log.inputs('promoteModel')[1] as { modelId: string; reason: string; decision: { decidedAt: string; decidedBy: string }; operator: unknown };
    assert.deepEqual({ ...forwarded, decision: { ...forwarded.decision, decidedAt: 'x' } }, {
      modelId: 'm-2',
      reason: 'better',
      decision: { decidedAt: 'x', decidedBy: 'bob' },
      operator: { by: 'bob', force: false },
    });
    assert.ok(!Number.isNaN(Date.parse(forwarded.decision.decidedAt)));

    // A malformed rollback: rejected by the validator, nothing written, no failed workflow task, still answering.
    const malformed = { reason: 42 } as unknown as { reason?: string };
    assert.match(await rejected(handle.executeUpdate(rollbackModelUpdate, { args: [malformed] })), /invalid rollbackModel input: reason: /);
    assert.equal(log.count('rollbackModel'), 0);
    assert.equal(bank.registry().production, 'm-2');
    assert.equal((await handle.describe()).status.name, 'RUNNING');
    assert.equal(await workflowTaskFailures(handle), 0);

    const rolledBack = await handle.executeUpdate(rollbackModelUpdate, { args: [{ reason: 'bad week', by: 'carol' }] });
    assert.equal(rolledBack.production, 'm-1');
    const rollbackInput = log.inputs('rollbackModel')[0] as { reason: string; decision: { decidedBy: string } };
    assert.equal(rollbackInput.reason, 'bad week [operator carol]');
    assert.equal(rollbackInput.decision.decidedBy, 'carol');
    assert.deepEqual(bank.registry().history.slice(-2).map((e) => [e.model_id, e.stage]), [['m-2', 'rejected'], ['m-1', 'production']]);
    // Coherent: m-2 was rolled back, so status names no rollback target, as the rollback itself would refuse.
    const after = await handle.query(statusQuery);
    assert.equal(after.production, 'm-1');
    assert.equal(after.previousProduction, null);
    assert.match(await rejected(handle.executeUpdate(rollbackModelUpdate, { args: [{ reason: 'again' }] })), /no earlier production model to roll back to/);

    // The rolled-back model again: the gate refuses it and the operator reads why; --force promotes it.
    assert.match(
      await rejected(handle.executeUpdate(promoteModelUpdate, { args: [{ modelId: 'm-2', reason: 'retry', by: 'dave' }] })),
      /refused: m-2 was rolled back before and does not pass the gate now/,
    );
    assert.equal(bank.registry().production, 'm-1');
    const forced = await handle.executeUpdate(promoteModelUpdate, { args: [{ modelId: 'm-2', reason: 'retry', by: 'dave', force: true }] });
    assert.equal(forced.production, 'm-2');
    assert.equal((await handle.describe()).status.name, 'RUNNING');
    await handle.terminate('test done');
  });
});

test('forceRetrain trains as of the month asked (or the latest labelled one), records the outcome, ignores a bad request', async () => {
  const log = new CallLog();
  const { activities, bank } = lifecycleActivities(log, [], null);
  await withMockedActivities(env, activities, async (taskQueue) => {
    const handle = await env.client.workflow.start(modelLifecycleWorkflow, { taskQueue, workflowId: 'lifecycle-retrain', args: [{}] });
    await handle.signal(forceRetrainSignal, { reason: '' }); // invalid: ignored with a warning
    await handle.signal(forceRetrainSignal, { reason: 'drift', asOf: '2024-06' });
    const trained = await until('the forced training', async () => {
      const status = await handle.query(statusQuery);
      return status.trainings.length === 1 && !status.training && status;
    });
    assert.deepEqual(trained.trainings[0], {
      workflowId: 'training-2024-06-1',
      asOf: '2024-06',
      reason: 'drift',
      modelId: 'gbtree-2024-06-abc',
      promoted: true,
      outcome: 'better than production',
    });
    assert.equal(trained.currentTraining, null);
    assert.equal(bank.registry().production, 'gbtree-2024-06-abc');
    // An operator's retrain bypasses the cooldown: the decision log and the registry event both say so, and the
    // training does not reuse a model trained on the same data.
    assert.match((log.inputs('promoteModel')[0] as { reason: string }).reason, /^forced retrain: drift \[forced: cooldown bypassed\]: better than production$/);
    const logged = log.inputs('recordForcedRetrain') as Array<{ asOf: string; reason: string; workflowId: string }>;
    assert.deepEqual(logged.map(({ asOf, reason, workflowId }) => ({ asOf, reason, workflowId })), [{ asOf: '2024-06', reason: 'drift', workflowId: 'lifecycle-retrain' }]);
    assert.equal(log.count('findModelsByTrainingData'), 0);

    // No month given and none with mature labels: recorded, nothing trained.
    await handle.signal(forceRetrainSignal, { reason: 'operator' });
    const skipped = await until('the second request', async () => {
      const status = await handle.query(statusQuery);
      return status.trainings.length === 2 && status;
    });
    assert.equal(skipped.trainings[1].outcome, 'no month with mature labels');
    assert.equal(log.count('buildTrainingSet'), 1);
    assert.equal(log.count('latestLabelledMonth'), 1);
    assert.equal(log.count('recordForcedRetrain'), 1); // nothing to train: no forced retrain logged
    assert.deepEqual(skipped.pendingRetrains, []);

    // Monitoring's request (forced: false) passed the cooldown already: not logged as forced, and reuse is looked for.
    await handle.signal(forceRetrainSignal, { reason: 'critical drift', asOf: '2024-06', forced: false });
    const requested = await until('the requested training', async () => {
      const status = await handle.query(statusQuery);
      return status.trainings.length === 3 && !status.training && status;
    });
    assert.deepEqual([requested.trainings[2].workflowId, requested.trainings[2].promoted], ['training-2024-06-2', true]);
    assert.equal(log.count('recordForcedRetrain'), 1);
    assert.equal(log.count('findModelsByTrainingData'), 1);
    assert.match((log.inputs('promoteModel')[1] as { reason: string }).reason, /^retrain requested: critical drift: better than production$/);
    await handle.terminate('test done');
  });
});

test('continues as new once its history is large, carrying the production model and the trainings', async () => {
  const log = new CallLog();
  const { activities } = lifecycleActivities(log, ['m-1']);
  await withMockedActivities(env, activities, async (taskQueue) => {
    const handle = await env.client.workflow.start(modelLifecycleWorkflow, {
      taskQueue,
      workflowId: 'lifecycle-continue-as-new',
      args: [{ maxHistoryEvents: 60 }],
    });
    const firstRun = handle.firstExecutionRunId;
    await until('the first refresh', async () => (await handle.query(statusQuery)).knownModels.length === 1);
    await handle.executeUpdate(promoteModelUpdate, { args: [{ modelId: 'm-1', reason: 'setup', by: 'test' }] });
    await handle.signal(forceRetrainSignal, { reason: 'before the hand-over', asOf: '2024-06' });
    await until('the training', async () => (await handle.query(statusQuery)).trainings.length === 1);

    const latest = env.client.workflow.getHandle(handle.workflowId);
    const newRun = await until('continue-as-new', async () => {
      await latest.signal(registryChangedSignal); // each refresh adds events
      const { runId } = await latest.describe();
      return runId !== firstRun && runId;
    });
    const status = await until('the new run answering', async () => {
      const current = await latest.query(statusQuery);
      return current.knownModels.length > 0 && current;
    });
    assert.notEqual(newRun, firstRun);
    assert.equal(status.production, 'gbtree-2024-06-abc');
    assert.equal(status.trainings.length, 1);
    assert.equal(status.trainings[0].reason, 'before the hand-over');
    const firstHistory = await env.client.workflow.getHandle(handle.workflowId, firstRun).fetchHistory();
    const closing = firstHistory.events?.at(-1);
    assert.ok(closing?.workflowExecutionContinuedAsNewEventAttributes, 'the first run closed by continuing as new');
    await latest.terminate('test done');
  });
});
