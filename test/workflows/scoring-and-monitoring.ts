// historicalInferenceWorkflow, scoreMonthWorkflow and monitoringWorkflow with mocked activities: failures collected
// across months, a corrupt model artifact failing on the first attempt, and monitoring's decisions.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { adaptActivity } from '../../activities/failures.js';
import { InvalidModelArtifact } from '../../lib/errors.js';
import { monthRange } from '../../lib/months.js';
import { GOVERNANCE_ACTIONS } from '../../lib/contracts.js';
import { historicalInferenceWorkflow, monitoringWorkflow, progressQuery, scoreMonthWorkflow } from '../../workflows/index.js';
import type { HistoryResult } from '../../workflows/historical-inference.js';
import { CallLog, inMemoryModelBank, withMockedActivities, type MockActivities, sharedTemporal } from './mocks.js';

const temporal = sharedTemporal();
let env: TestWorkflowEnvironment;
before(async () => {
  env = await temporal;
});

/** Scoring that fails (non-retryably, as a corrupt artifact does) for the months in `broken`. */
function scoringActivities(log: CallLog, broken: string[] = []) {
  return {
    scoreMonth: adaptActivity(async (input: { month: string; modelId: string }) => {
      log.record('scoreMonth', input.month);
      if (broken.includes(input.month)) {
        throw new InvalidModelArtifact(`model_bank/${input.modelId}/model.onnx: sha256 does not match metadata.json`);
      }
      return { month: input.month, modelId: input.modelId, rows: 10, path: `/nowhere/${input.month}`, explanationsPath: `/nowhere/explanations/${input.month}`, seconds: 0.1 };
    }),
  } satisfies MockActivities;
}

function inventory(present: string[], missing: string[]): MockActivities['inventoryMonths'] {
  return async () => ({ present, missing });
}

test('historical inference scores every month with features, collects the failed ones and fails once at the end', async () => {
  const log = new CallLog();
  const bank = inMemoryModelBank([{ modelId: 'm-1', asOf: '2024-01' }], log);
  await bank.activities.promoteModel({ modelId: 'm-1', reason: 'setup' });
  const present = monthRange('2024-01', '2024-06');
  const activities: MockActivities = {
    ...bank.activities,
    ...scoringActivities(log, ['2024-02', '2024-05']),
    inventoryMonths: inventory(present, ['2024-07']),
  };
  await assert.rejects(
    withMockedActivities(env, activities, (taskQueue) =>
      env.client.workflow.execute(historicalInferenceWorkflow, { taskQueue, workflowId: 'history-failures', args: [{ from: '2024-01', to: '2024-07', parallelism: 2 }] }),
    ),
    (error: unknown) => {
      assert.ok(error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure);
      assert.equal(error.cause.type, 'HistoryIncomplete');
      assert.match(error.cause.message, /^2 of 6 months failed: 2024-0[25] \(.*model\.onnx: sha256 does not match/);
      const result = error.cause.details?.[0] as HistoryResult;
      assert.equal(result.modelId, 'm-1');
      assert.deepEqual(result.failed.map((f) => f.month).sort(), ['2024-02', '2024-05']);
      assert.deepEqual(result.scored.map((s) => s.month).sort(), ['2024-01', '2024-03', '2024-04', '2024-06']);
      assert.deepEqual(result.withoutFeatures, ['2024-07']);
      return true;
    },
  );
  // Every month tried exactly once: the corrupt artifact was not retried.
  assert.deepEqual(log.inputs('scoreMonth').sort(), present);
});

test('historical inference scores the challengers in shadow on every month production scored; a failing challenger fails nothing', async () => {
  const log = new CallLog();
  const bank = inMemoryModelBank([{ modelId: 'm-1', asOf: '2024-01' }, { modelId: 'c-1', asOf: '2023-10' }, { modelId: 'c-2', asOf: '2023-11' }], log);
  await bank.activities.promoteModel({ modelId: 'm-1', reason: 'setup' });
  await bank.activities.recordCandidate({ modelId: 'c-1', reason: 'kept: evidence too thin' });
  await bank.activities.recordCandidate({ modelId: 'c-2', reason: 'kept: no_fair_comparison' });
  const present = monthRange('2024-01', '2024-03');
  const scored: Array<[string, string]> = [];
  const activities: MockActivities = {
    ...bank.activities,
    scoreMonth: adaptActivity(async (input: { month: string; modelId: string }) => {
      scored.push([input.modelId, input.month]);
      if (input.modelId === 'c-1' && input.month === '2024-02') throw new InvalidModelArtifact('c-1 cannot read 2024-02');
      return { month: input.month, modelId: input.modelId, rows: 10, path: `/nowhere/${input.month}`, explanationsPath: `/nowhere/explanations/${input.month}`, seconds: 0.1 };
    }),
    inventoryMonths: inventory(present, []),
  };
  const result = await withMockedActivities(env, activities, (taskQueue) =>
    env.client.workflow.execute(historicalInferenceWorkflow, { taskQueue, workflowId: 'history-shadow', args: [{ from: '2024-01', to: '2024-03' }] }),
  );
  assert.deepEqual(result.scored.map((s) => s.month).sort(), present);
  // The newest challenger first; each scored the months production scored, as its own score-<month>-<model> child.
  assert.deepEqual(result.shadow?.map((shadow) => [shadow.modelId, [...shadow.months].sort(), shadow.failed.map((f) => f.month)]), [
    ['c-2', present, []],
    ['c-1', ['2024-01', '2024-03'], ['2024-02']],
  ]);
  for (const model of ['m-1', 'c-1', 'c-2']) assert.deepEqual(scored.filter(([id]) => id === model).map(([, month]) => month).sort(), present, model);
});

test('historical inference without a production model fails with NoProductionModel before scoring anything', async () => {
  const log = new CallLog();
  const activities: MockActivities = {
    ...inMemoryModelBank([], log).activities,
    ...scoringActivities(log),
    inventoryMonths: inventory(['2024-01', '2024-02'], []),
  };
  await assert.rejects(
    withMockedActivities(env, activities, (taskQueue) =>
      env.client.workflow.execute(historicalInferenceWorkflow, { taskQueue, workflowId: 'history-no-model', args: [{ from: '2024-01', to: '2024-02' }] }),
    ),
    (error: unknown) => error instanceof WorkflowFailedError && (error.cause as ApplicationFailure).type === 'NoProductionModel',
  );
  assert.equal(log.count('scoreMonth'), 0);
});

test('a corrupt model artifact fails scoreMonthWorkflow on the first attempt', async () => {
  const log = new CallLog();
  await assert.rejects(
    withMockedActivities(env, scoringActivities(log, ['2024-03']), (taskQueue) =>
      env.client.workflow.execute(scoreMonthWorkflow, { taskQueue, workflowId: 'score-corrupt', args: [{ month: '2024-03', modelId: 'm-1' }] }),
    ),
    (error: unknown) => error instanceof WorkflowFailedError && (error.cause?.cause as ApplicationFailure).type === 'InvalidModelArtifact',
  );
  assert.equal(log.count('scoreMonth'), 1);
});

type GovernanceAction = (typeof GOVERNANCE_ACTIONS)[number];

function monitoringActivities(log: CallLog, action: GovernanceAction, findings = 0) {
  const finding = { severity: 'critical' as const, kind: 'drift' as const, metric: 'psi', snapshot_date: '2024-05-01', value: 0.3, threshold: 0.2, message: 'PSI 0.3' };
  return {
    computeMonitoring: async (input: { asOf: string; modelId: string }) => {
      log.record('computeMonitoring', input);
      return { ...input, rows: [], path: '/nowhere/monitoring.parquet' };
    },
    renderDashboard: async () => {
      log.record('renderDashboard');
      return { png: 'a.png', html: 'a.html', latestPng: 'l.png', latestHtml: 'l.html' };
    },
    decideGovernance: async (input: { asOf: string; modelId: string; workflowId: string; now: string }) => {
      log.record('decideGovernance', input);
      return { action, reason: `decided ${action}`, findings: Array.from({ length: findings }, () => finding) };
    },
    sendAlerts: async (input: { findings: unknown[] }) => {
      log.record('sendAlerts', input.findings.length);
      return { logged: input.findings.length, posted: false };
    },
    requestRetrain: async (input: { reason: string; forced?: boolean }) => {
      log.record('requestRetrain', input);
      return { workflowId: 'model-lifecycle' };
    },
    decideModels: async (input: { asOf: string; modelId: string; workflowId: string; now: string }) => {
      log.record('decideModels', input);
      return { decisions: [], alerts: [], registryChanged: false };
    },
    notifyRegistryChanged: async () => {
      log.record('notifyRegistryChanged');
      return { notified: false };
    },
  } satisfies MockActivities;
}

test('monitoring scores the unscored months with features, alerts on findings and asks for a retrain on a critical one', async () => {
  const log = new CallLog();
  const bank = inMemoryModelBank([{ modelId: 'm-1', asOf: '2024-01' }], log);
  await bank.activities.promoteModel({ modelId: 'm-1', reason: 'setup' });
  const activities: MockActivities = {
    ...bank.activities,
    ...scoringActivities(log),
    ...monitoringActivities(log, 'retrain', 2),
    inventoryMonths: async (input) => {
      log.record('inventoryMonths', input.requirement);
      return input.requirement === 'features'
        ? { present: ['2024-04', '2024-05', '2024-06'], missing: [] }
        : { present: ['2024-04'], missing: ['2024-05', '2024-06'] };
    },
  };
  const { result, progress } = await withMockedActivities(env, activities, async (taskQueue) => {
    const handle = await env.client.workflow.start(monitoringWorkflow, { taskQueue, workflowId: 'monitoring-retrain', args: [{ asOf: '2024-06', from: '2024-04' }] });
    return { result: await handle.result(), progress: await handle.query(progressQuery) };
  });
  assert.deepEqual(progress, { total: 4, done: 4, failed: 0, running: 0, step: 'decision retrain: 2 findings' });
  assert.deepEqual(log.inputs('scoreMonth').sort(), ['2024-05', '2024-06']);
  assert.deepEqual(log.inputs('computeMonitoring'), [{ asOf: '2024-06', modelId: 'm-1' }]);
  assert.deepEqual(log.inputs('sendAlerts'), [2]);
  // Not forced: the decision just logged checked the cooldown.
  assert.deepEqual(log.inputs('requestRetrain'), [{ reason: 'monitoring 2024-06: decided retrain', forced: false }]);
  assert.equal((log.inputs('decideGovernance')[0] as { workflowId: string }).workflowId, 'monitoring-retrain');
  // Which model should be in production is decided after the findings, on paired evidence (automatic rollback, challengers).
  assert.equal((log.inputs('decideModels')[0] as { modelId: string }).modelId, 'm-1');
  assert.deepEqual(
    { action: result.action, findings: result.findings, retrainRequested: result.retrainRequested, modelId: result.modelId },
    { action: 'retrain', findings: 2, retrainRequested: true, modelId: 'm-1' },
  );
});

test('monitoring with nothing to report neither alerts nor retrains; without a production model it does nothing', async () => {
  const log = new CallLog();
  const bank = inMemoryModelBank([{ modelId: 'm-1', asOf: '2024-01' }], log);
  const activities: MockActivities = {
    ...bank.activities,
    ...scoringActivities(log),
    ...monitoringActivities(log, 'no_action'),
    inventoryMonths: inventory(['2024-06'], []),
  };
  await withMockedActivities(env, activities, async (taskQueue) => {
    const idle = await env.client.workflow.execute(monitoringWorkflow, { taskQueue, workflowId: 'monitoring-no-model', args: [{ asOf: '2024-06' }] });
    assert.deepEqual([idle.modelId, idle.action, idle.reason], [null, 'no_action', 'no production model yet']);
    assert.equal(log.count('computeMonitoring'), 0);

    await bank.activities.promoteModel({ modelId: 'm-1', reason: 'setup' });
    const quiet = await env.client.workflow.execute(monitoringWorkflow, { taskQueue, workflowId: 'monitoring-quiet', args: [{ asOf: '2024-06' }] });
    assert.deepEqual([quiet.action, quiet.retrainRequested, quiet.findings], ['no_action', false, 0]);
    assert.equal(log.count('scoreMonth'), 0); // 2024-06 already scored
    assert.equal(log.count('sendAlerts') + log.count('requestRetrain'), 0);
  });
});

test('monitoring a model not in production (monitor_only) neither alerts nor retrains; retrain_not_useful alerts only', async () => {
  const log = new CallLog();
  const bank = inMemoryModelBank([{ modelId: 'm-1', asOf: '2024-01' }], log);
  await bank.activities.promoteModel({ modelId: 'm-1', reason: 'setup' });
  const common: MockActivities = { ...bank.activities, ...scoringActivities(log), inventoryMonths: inventory(['2024-06'], []) };
  await withMockedActivities(env, { ...common, ...monitoringActivities(log, 'monitor_only', 2) }, async (taskQueue) => {
    const candidate = await env.client.workflow.execute(monitoringWorkflow, {
      taskQueue,
      workflowId: 'monitoring-candidate',
      args: [{ asOf: '2024-06', modelId: 'cand-1' }],
    });
    assert.deepEqual(
      [candidate.modelId, candidate.action, candidate.findings, candidate.retrainRequested],
      ['cand-1', 'monitor_only', 2, false],
    );
    assert.deepEqual(log.inputs('computeMonitoring'), [{ asOf: '2024-06', modelId: 'cand-1' }]);
    assert.equal(log.count('readRegistry'), 0); // the model named is monitored, whatever production is
  });
  assert.equal(log.count('sendAlerts') + log.count('requestRetrain'), 0);

  await withMockedActivities(env, { ...common, ...monitoringActivities(log, 'retrain_not_useful', 1) }, async (taskQueue) => {
    const stale = await env.client.workflow.execute(monitoringWorkflow, { taskQueue, workflowId: 'monitoring-not-useful', args: [{ asOf: '2024-06' }] });
    assert.deepEqual([stale.modelId, stale.action, stale.findings, stale.retrainRequested], ['m-1', 'retrain_not_useful', 1, false]);
  });
  assert.deepEqual(log.inputs('sendAlerts'), [1]);
  assert.equal(log.count('requestRetrain'), 0);
});
