// Issues 6 and 14 on the real dev server: concept drift is caught by monitoring, governance decides 'retrain',
// model-lifecycle trains and promotes a new model that ranks the drifted defaults well again; the retired model
// monitored on request is not governed (no retrain); an operator's forced retrain inside the cooldown trains and is
// logged as bypassing it. On stable data the same flow leaves the model alone, and the monthly retrain policy trains
// nothing when no labelled month follows the model's window, and trains through the gate when two do.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Config } from '../../lib/config.js';
import { governanceDecisionSchema, monitoringRowSchema, registrySchema, type GovernanceDecision, type MonitoringRow } from '../../lib/contracts.js';
import { datamart, modelBank } from '../../lib/layout.js';
import { LIFECYCLE_WORKFLOW_ID, workflowIds } from '../../lib/temporal.js';
import { queryRows, sqlString, withDuckDB } from '../../core/duckdb.js';
import { generateSources, type Scenario } from '../../core/generator/index.js';
import { PROJECT_ROOT } from '../../workers/dev-server.js';
import {
  backfillWorkflow,
  forceRetrainSignal,
  historicalInferenceWorkflow,
  modelLifecycleWorkflow,
  monitoringWorkflow,
  retrainPolicyWorkflow,
} from '../../workflows/index.js';
import type { LifecycleStatus } from '../../workflows/model-lifecycle.js';
import type { MonitoringResult } from '../../workflows/monitoring.js';
import { scratchConfig, startTemporal, withWorker } from '../helpers/temporal.js';
import { waitUntil } from '../helpers/wait.js';

const CUSTOMERS = 12_000;
const SEED = 7;
/**
 * Drift as early as phase 1 allows (it needs five mature pre-drift application months: 2023-01..2023-05), and data
 * to 2025-07 (ledger observed to 2025-06, labels for applications up to 2024-12), so the retrain, which learns from
 * every mature month, sees mostly drifted ones (5 of 24). With the default range (labels up to 2024-06) the retrained
 * model only reaches AUC ≈ 0.71 on the drifted month: most of what it learns from is the old link.
 */
const DRIFT_FROM = '2023-06';
const GENERATE_TO = '2025-07';
const FROM = '2023-01';
const TO = '2025-06';
/** Phase 1 trains here: labels mature by 2023-11 are those of applications 2023-01..2023-05, all before the drift. */
const TRAIN_AT = '2023-11';
/** Monitoring as of the last label month: the latest mature application month is 2024-12, drifted. */
const AS_OF = '2025-06';
const LATEST_MATURE = '2024-12-01';
const AUC_CRITICAL = 0.7;
/** Set DASHBOARD_TO_DOCS=1 to refresh the README picture from the post-retrain dashboard of the concept-drift run. */
const DASHBOARD_TO_DOCS = process.env.DASHBOARD_TO_DOCS === '1';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTemporal();
});
after(async () => {
  await env?.teardown();
});

interface Run {
  config: Config;
  dir: string;
  cleanup: () => void;
}

/** A scratch datamart, model bank and task queue, removed when the test ends (pass or fail), and generated sources. */
async function prepare(t: TestContext, scenario: Scenario): Promise<Run> {
  const run = scratchConfig(`governance-${scenario}`);
  t.after(run.cleanup);
  await generateSources({ customers: CUSTOMERS, seed: SEED, scenario, driftFrom: DRIFT_FROM, to: GENERATE_TO, out: join(run.dir, 'raw') });
  return run;
}

/** Phase 1 (ETL of every month, training at TRAIN_AT) and phase 2 (every month scored by the production model). */
async function phases(run: Run): Promise<string> {
  const taskQueue = run.config.TEMPORAL_TASK_QUEUE;
  const phase1 = await env.client.workflow.execute(backfillWorkflow, {
    workflowId: workflowIds.backfill(FROM, TO),
    taskQueue,
    args: [{ from: FROM, to: TO, sourceDir: join(run.dir, 'raw'), trainAt: TRAIN_AT, parallelism: 4 }],
  });
  assert.deepEqual(phase1.failed, []);
  assert.equal(phase1.trainAt, TRAIN_AT);
  assert.ok(phase1.training?.promoted, `the pre-drift model passed the gate: ${phase1.training?.reason}`);
  const phase2 = await env.client.workflow.execute(historicalInferenceWorkflow, {
    workflowId: workflowIds.history(FROM, TO),
    taskQueue,
    args: [{ from: FROM, to: TO }],
  });
  assert.equal(phase2.modelId, phase1.training?.modelId);
  return phase2.modelId;
}

function monitor(config: Config, input: { asOf: string; modelId?: string }): Promise<MonitoringResult> {
  return env.client.workflow.execute(monitoringWorkflow, {
    workflowId: workflowIds.monitoring(input.asOf),
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    args: [input],
  });
}

async function monitoringRows(config: Config, modelId: string): Promise<MonitoringRow[]> {
  const rows = await withDuckDB((db) =>
    queryRows(db, `SELECT * FROM read_parquet(${sqlString(datamart.monitoring(config.DATAMART_DIR, modelId))}) ORDER BY snapshot_date`),
  );
  return rows.map((row) => monitoringRowSchema.parse({ ...row, snapshot_date: String(row.snapshot_date).slice(0, 10) }));
}

function aucOf(rows: MonitoringRow[], snapshotDate: string): number {
  const row = rows.find((candidate) => candidate.snapshot_date === snapshotDate);
  assert.ok(row && row.auc !== null, `a mature AUC for ${snapshotDate}`);
  return row.auc;
}

async function decisions(config: Config): Promise<GovernanceDecision[]> {
  const rows = await withDuckDB((db) =>
    queryRows(
      db,
      `SELECT * EXCLUDE (file_row_number) FROM read_parquet(${sqlString(datamart.decisionLog(config.DATAMART_DIR))}, file_row_number = true) ORDER BY file_row_number`,
    ),
  );
  return rows.map((row) => governanceDecisionSchema.parse(row));
}

function registry(config: Config) {
  return registrySchema.parse(JSON.parse(readFileSync(modelBank.registry(config.MODEL_BANK_DIR), 'utf8')));
}

async function lifecycleStatus(): Promise<LifecycleStatus> {
  return env.client.workflow.getHandle(LIFECYCLE_WORKFLOW_ID).query<LifecycleStatus>('status');
}

/** Polls model-lifecycle's `status` until `count` trainings are recorded and the lifecycle is idle again. */
async function waitForTraining(timeoutMs: number, count = 1): Promise<LifecycleStatus> {
  let status: LifecycleStatus | undefined;
  return waitUntil(`${count} training(s) recorded by model-lifecycle, which is idle again`, async () => {
    status = await lifecycleStatus();
    return status.trainings.length >= count && !status.training && status.pendingRetrains.length === 0 ? status : undefined;
  }, { timeoutMs, intervalMs: 500, lastSeen: () => status });
}

/** model-lifecycle is long-lived: end it so the next scenario (and the server teardown) starts clean. */
async function endLifecycle(): Promise<void> {
  try {
    await env.client.workflow.getHandle(LIFECYCLE_WORKFLOW_ID).terminate('test over');
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
  }
}

describe('governance on the real dev server', () => {
  test('concept drift: retrain, recovery, then a suppressed retrain inside the cooldown', async (t) => {
    const started = Date.now();
    const run = await prepare(t, 'concept-drift');
    const { config } = run;
    await withWorker(env, config, async () => {
      try {
        const oldModel = await phases(run);

        // 1. Monitoring as of AS_OF: the pre-drift model's AUC on the latest mature (drifted) month is critical.
        const first = await monitor(config, { asOf: AS_OF });
        const oldRows = await monitoringRows(config, oldModel);
        const preDriftAuc = aucOf(oldRows, '2023-05-01');
        const driftedAuc = aucOf(oldRows, LATEST_MATURE);
        t.diagnostic(`old model ${oldModel}: AUC 2023-05 ${preDriftAuc.toFixed(4)}, ${LATEST_MATURE} ${driftedAuc.toFixed(4)}`);
        assert.equal(first.modelId, oldModel);
        assert.ok(preDriftAuc >= AUC_CRITICAL, `pre-drift AUC ${preDriftAuc}`);
        assert.ok(driftedAuc < AUC_CRITICAL, `drifted AUC ${driftedAuc}`);
        assert.equal(first.action, 'retrain', first.reason);
        assert.match(first.reason, new RegExp(`AUC [0-9.]+ of ${LATEST_MATURE} \\(latest mature month\\) is below 0.7`));
        assert.equal(first.retrainRequested, true);

        // 2. model-lifecycle (signal-with-started by the monitoring run) trains as of the latest labelled month and
        // promotes the new model.
        const status = await waitForTraining(120_000);
        assert.equal(status.trainings.length, 1);
        const [training] = status.trainings;
        t.diagnostic(`lifecycle training: ${JSON.stringify(training)}`);
        assert.equal(training.asOf, AS_OF);
        assert.ok(training.modelId && training.modelId !== oldModel);
        assert.equal(training.promoted, true, training.outcome);
        assert.match(training.reason, new RegExp(`^monitoring ${AS_OF}: critical: AUC`));
        const newModel = training.modelId;
        assert.equal(status.production, newModel);
        const afterRetrain = registry(config);
        assert.equal(afterRetrain.production, newModel);
        assert.deepEqual(
          afterRetrain.history.filter((event) => event.stage === 'production').map((event) => event.model_id),
          [oldModel, newModel],
        );

        // 3. The next run (same id, the first is closed) monitors the new production model: AUC back above 0.70.
        const second = await monitor(config, { asOf: AS_OF });
        assert.equal(second.modelId, newModel);
        const newRows = await monitoringRows(config, newModel);
        const recoveredAuc = aucOf(newRows, LATEST_MATURE);
        t.diagnostic(`new model ${newModel}: AUC ${LATEST_MATURE} ${recoveredAuc.toFixed(4)}; decision ${second.action}: ${second.reason}`);
        assert.ok(recoveredAuc >= AUC_CRITICAL, `recovered AUC ${recoveredAuc}`);
        assert.ok(recoveredAuc > driftedAuc + 0.05, `recovered ${recoveredAuc} vs drifted ${driftedAuc}`);
        assert.ok(['no_action', 'alert'].includes(second.action), `${second.action}: ${second.reason}`);
        assert.equal(second.retrainRequested, false);
        if (DASHBOARD_TO_DOCS && second.dashboard) copyFileSync(second.dashboard.png, join(PROJECT_ROOT, 'docs', 'dashboard.png'));
        assert.ok(second.dashboard && existsSync(second.dashboard.png) && statSync(second.dashboard.png).size > 10_000);

        // 4. The retired model, still drifted, monitored on request (`monitor --model`): its table is written, but
        // governance acts on the production model only: no retrain request.
        const third = await monitor(config, { asOf: AS_OF, modelId: oldModel });
        assert.equal(third.action, 'monitor_only', third.reason);
        assert.match(third.reason, new RegExp(`^${oldModel} is not the production model \\(${newModel}\\)`));
        assert.equal(third.retrainRequested, false);
        assert.ok((await monitoringRows(config, oldModel)).length > 0);
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const quiet = await lifecycleStatus();
        assert.equal(quiet.trainings.length, 1, 'no second training');
        assert.equal(quiet.pendingRetrains.length, 0);
        assert.equal(registry(config).production, newModel);

        // 5. An operator's forced retrain inside the cooldown trains anyway; the log says it bypassed the cooldown.
        await env.client.workflow.getHandle(LIFECYCLE_WORKFLOW_ID).signal(forceRetrainSignal, { reason: 'operator check', asOf: AS_OF });
        const forced = await waitForTraining(120_000, 2);
        const [, forcedTraining] = forced.trainings;
        t.diagnostic(`forced training: ${JSON.stringify(forcedTraining)}`);
        assert.equal(forcedTraining.reason, 'operator check');
        assert.ok(forcedTraining.modelId, forcedTraining.outcome);

        const log = await decisions(config);
        assert.deepEqual(
          log.map((row) => [row.as_of, row.model_id, row.action]),
          [
            [AS_OF, oldModel, 'retrain'],
            [AS_OF, newModel, second.action],
            [AS_OF, oldModel, 'monitor_only'],
            [AS_OF, newModel, 'retrain_forced'],
          ],
        );
        assert.ok(log.slice(0, 3).every((row) => row.workflow_id === workflowIds.monitoring(AS_OF)));
        assert.equal(log[3].workflow_id, LIFECYCLE_WORKFLOW_ID);
        assert.match(log[3].reason, new RegExp(`^forced retrain: operator check; cooldown bypassed: a retrain was decided at ${log[0].decided_at.replace(/[.]/g, '\\.')}`));
        const critical = JSON.parse(log[0].findings_json) as Array<{ severity: string; metric: string; value: number }>;
        assert.ok(critical.some((finding) => finding.severity === 'critical' && finding.metric === 'auc' && Math.abs(finding.value - driftedAuc) < 1e-9));
      } finally {
        await endLifecycle();
      }
    });
    t.diagnostic(`concept-drift flow took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  test('stable: monitoring finds nothing to retrain and the lifecycle trains nothing', async (t) => {
    const started = Date.now();
    const run = await prepare(t, 'stable');
    const { config } = run;
    await withWorker(env, config, async () => {
      try {
        const model = await phases(run);
        // The lifecycle runs, as in production, so a retrain request would reach it.
        await env.client.workflow.start(modelLifecycleWorkflow, {
          workflowId: LIFECYCLE_WORKFLOW_ID,
          taskQueue: config.TEMPORAL_TASK_QUEUE,
          args: [{}],
        });
        const result = await monitor(config, { asOf: AS_OF });
        const rows = await monitoringRows(config, model);
        const latestAuc = aucOf(rows, LATEST_MATURE);
        const latest = rows.at(-1)!;
        t.diagnostic(`stable model ${model}: AUC ${LATEST_MATURE} ${latestAuc.toFixed(4)}, PSI ${latest.snapshot_date} ${latest.psi.toFixed(4)}; decision ${result.action}: ${result.reason}`);
        assert.ok(latestAuc >= AUC_CRITICAL, `stable AUC ${latestAuc}`);
        assert.ok(['no_action', 'alert'].includes(result.action), `${result.action}: ${result.reason}`);
        assert.equal(result.retrainRequested, false);
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const status = await lifecycleStatus();
        assert.deepEqual(status.trainings, []);
        assert.equal(status.production, model);
        assert.equal(registry(config).production, model);
        const log = await decisions(config);
        assert.deepEqual(log.map((row) => [row.as_of, row.model_id, row.action]), [[AS_OF, model, result.action]]);

        // Scheduled retraining (the credit-monthly-retrain schedule's workflow): as of the training month nothing new
        // follows the model's window (OOT ends 2023-05): nothing is trained, and the log says so.
        const retrainPolicy = (asOf: string) =>
          env.client.workflow.execute(retrainPolicyWorkflow, { workflowId: workflowIds.retrainPolicy(asOf), taskQueue: config.TEMPORAL_TASK_QUEUE, args: [{ asOf }] });
        const nothing = await retrainPolicy(TRAIN_AT);
        assert.equal(nothing.action, 'nothing_new', nothing.reason);
        assert.equal(nothing.training, null);
        assert.match(nothing.reason, new RegExp(`^nothing new: 0 labelled application month\\(s\\) after production ${model}'s window \\(ends 2023-05\\) as of ${TRAIN_AT}; the policy retrains from 2$`));
        // By 2024-01 the labels of applications 2023-06 and 2023-07 are in: two new months, a training through the gate.
        const scheduled = await retrainPolicy('2024-01');
        t.diagnostic(`scheduled retrain: ${scheduled.reason}`);
        assert.equal(scheduled.action, 'scheduled_retrain', scheduled.reason);
        assert.deepEqual(scheduled.newLabelledMonths, ['2023-06', '2023-07']);
        assert.ok(scheduled.training?.modelId, scheduled.training?.outcome);
        assert.match(scheduled.training.outcome, /^(promoted|kept as candidate): OOT AUC [0-9.]+ on OOT months 2023-06\.\.2023-07/);
        assert.equal(registry(config).production, scheduled.training.promoted ? scheduled.training.modelId : model);
        const policyLog = (await decisions(config)).slice(1);
        assert.deepEqual(policyLog.map((row) => [row.as_of, row.action, row.workflow_id]), [
          [TRAIN_AT, 'nothing_new', workflowIds.retrainPolicy(TRAIN_AT)],
          ['2024-01', 'scheduled_retrain', workflowIds.retrainPolicy('2024-01')],
        ]);
        assert.equal(policyLog[1].reason, scheduled.reason);
      } finally {
        await endLifecycle();
      }
    });
    t.diagnostic(`stable flow took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
});
