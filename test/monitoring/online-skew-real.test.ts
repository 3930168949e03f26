// Issue 17's monitoring side end to end on the real sample and the real dev server: the applications of 2024-12 are
// scored by the scoring API (their online scores land in gold/predictions_online), the weekly monitoring workflow
// then finds online and batch scores of the month alike (PSI ≈ 0, no skew finding). Scored again by a broken serving
// path (the financials features lost, the model's preprocessor imputing them, ONNX scoring what is left), the same
// workflow raises a skew finding: the decision is an alert with the skew in its reason, no retrain is requested.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { queryRows, readParquet, sqlString, withDuckDB } from '../../core/duckdb.js';
import { FEATURE_SOURCES } from '../../core/etl/feature-store.js';
import { readDecisionLog } from '../../core/monitoring/governance.js';
import { readOnlineSkewTable } from '../../core/monitoring/online-skew.js';
import { startScoringServer, serveOptionsFrom } from '../../core/serving/app.js';
import { writeOnlinePredictions } from '../../core/serving/online-predictions.js';
import { loadScoringModel, releaseScoringSessions } from '../../core/scoring/model-loader.js';
import { scoreRows } from '../../core/scoring/score-rows.js';
import { predictedDefault, riskBand } from '../../core/scoring/risk-bands.js';
import { datamart, partitionDir, partitionFile } from '../../lib/layout.js';
import { workflowIds } from '../../lib/temporal.js';
import { monitoringWorkflow } from '../../workflows/index.js';
import type { MonitoringResult } from '../../workflows/monitoring.js';
import { FIXTURE_DIR, scratchConfig, startTemporal, withWorker } from '../helpers/temporal.js';
import { rawApplications } from '../../tools/bench/sample-applications.js';
import { batchPredictions, type BatchPrediction } from '../../tools/bench/sample-models.js';
import { sampleModels } from '../helpers/sample-cache.js';

const MONTH = '2024-12';
const AS_OF = '2024-12';
// The sample has 66 applications in 2024-12: judged from 50 online scores here (the default, 200, suits real volumes).
const scratch = scratchConfig('online-skew', { ONLINE_PSI_MIN_ROWS: '50' });
const { config } = scratch;
let env: TestWorkflowEnvironment;
let modelId = '';
let monthBatch: BatchPrediction[] = [];

before(async () => {
  env = await startTemporal();
  modelId = (await sampleModels(config)).gbtree; // ETL of every month, gbtree in production, batch scores
  monthBatch = (await batchPredictions(config, modelId)).filter((prediction) => prediction.snapshot_date === `${MONTH}-01`);
});
after(async () => {
  await releaseScoringSessions();
  await env?.teardown();
  scratch.cleanup();
});

function monitor(now: string): Promise<MonitoringResult> {
  return withWorker(env, config, () =>
    env.client.workflow.execute(monitoringWorkflow, {
      workflowId: `${workflowIds.monitoring(AS_OF)}-${now.slice(0, 10)}`,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      args: [{ asOf: AS_OF }],
    }),
  );
}

const onlineRows = () => withDuckDB((db) => readOnlineSkewTable(db, datamart.monitoringOnline(config.DATAMART_DIR, modelId)));
const decisions = () => withDuckDB((db) => readDecisionLog(db, datamart.decisionLog(config.DATAMART_DIR)));

test('online scores from the scoring API agree with the batch: the monitoring workflow stores PSI ≈ 0 and raises no skew finding', async (t) => {
  const server = await startScoringServer({ ...serveOptionsFrom(config), port: 0, logLevel: 'silent' });
  const byLoan = new Map(rawApplications(FIXTURE_DIR).map((application) => [application.loan.loan_id.trim(), application]));
  try {
    for (const prediction of monthBatch) {
      // as a client should: a 503 (load shedding, e.g. while the machine is busy with other tests) is retried
      let response: Response;
      for (let attempt = 1; ; attempt++) {
        response = await fetch(`${server.url}/v1/score`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ application: byLoan.get(prediction.loan_id) }),
        });
        if (response.status !== 503 || attempt === 20) break;
        await response.arrayBuffer();
        await new Promise((wait) => setTimeout(wait, 250));
      }
      assert.equal(response.status, 200, await response.clone().text());
    }
  } finally {
    await server.close(); // writes the buffered online scores
  }

  const result = await monitor('2025-01-05');
  const rows = await onlineRows();
  t.diagnostic(`online ${JSON.stringify(rows)}; decision ${result.action}: ${result.reason}`);
  assert.deepEqual(rows.map((row) => [row.snapshot_date, row.n_online, row.n_batch]), [[`${MONTH}-01`, monthBatch.length, monthBatch.length]]);
  assert.ok(rows[0].online_psi !== null && rows[0].online_psi < 1e-9, `online vs batch PSI ${rows[0].online_psi}`);
  const log = await decisions();
  const findings = JSON.parse(log.at(-1)!.findings_json) as { kind: string }[];
  assert.deepEqual(findings.filter((finding) => finding.kind === 'skew'), [], 'no skew finding');
  assert.doesNotMatch(result.reason, /skew/);
  assert.equal(result.retrainRequested, false);
  const html = await readFile(result.dashboard!.html, 'utf8');
  assert.ok(html.includes(`<tr class="stable"><td>${MONTH}-01</td><td class="num">${monthBatch.length}</td>`), 'the dashboard lists the month as without skew');
});

test('online scores from a serving path that lost the financials features: skew finding, alert, no retrain', async (t) => {
  // what a broken serving path would have scored: the month's feature rows with every financials feature NULL
  const featureRows = await withDuckDB((db) =>
    queryRows(db, `SELECT * FROM ${readParquet(partitionFile(datamart.featureStore(config.DATAMART_DIR), MONTH))}
      WHERE loan_id IN (${monthBatch.map((prediction) => sqlString(prediction.loan_id)).join(', ')}) ORDER BY loan_id`),
  );
  assert.equal(featureRows.length, monthBatch.length);
  const broken = featureRows.map((row) => Object.fromEntries(Object.entries(row).map(([name, value]) => [name, FEATURE_SOURCES[name] === 'financials' ? null : value])));
  const model = await loadScoringModel(config.MODEL_BANK_DIR, modelId);
  const scores = await scoreRows(model, broken);
  const threshold = model.model.metadata.threshold;
  await rm(partitionDir(datamart.predictionsOnline(config.DATAMART_DIR), MONTH), { recursive: true, force: true });
  const at = new Date('2024-12-15T10:00:00.000Z');
  await writeOnlinePredictions(
    config.DATAMART_DIR,
    featureRows.map((row, index) => ({
      loanId: String(row.loan_id),
      customerId: String(row.Customer_ID),
      month: MONTH,
      modelId,
      probability: scores[index],
      predictedDefault: predictedDefault(scores[index], threshold),
      riskBand: riskBand(scores[index], threshold),
      requestedAt: at,
      scoredAt: at,
    })),
  );

  const result = await monitor('2025-01-12');
  const [row] = await onlineRows();
  t.diagnostic(`online ${JSON.stringify(row)}; decision ${result.action}: ${result.reason}`);
  assert.ok(row.online_psi !== null && row.online_psi >= 0.1, `online vs batch PSI ${row.online_psi}`);
  const decision = (await decisions()).at(-1)!;
  const skew = (JSON.parse(decision.findings_json) as { kind: string; severity: string; metric: string; value: number }[]).filter((finding) => finding.kind === 'skew');
  assert.deepEqual(skew.map((finding) => [finding.severity, finding.metric, finding.value]), [['warning', 'online_psi', row.online_psi]]);
  assert.equal(decision.action, 'alert');
  assert.equal(result.action, 'alert');
  assert.match(decision.reason, /skew: online scores of 2024-12 \(\d+\) against its batch scores \(\d+\) by the same model: PSI [\d.]+, at or above 0\.1: training-serving skew \(alerted, never retrained on\)$/);
  assert.equal(result.retrainRequested, false);
  const html = await readFile(result.dashboard!.html, 'utf8');
  assert.ok(html.includes(`<tr class="warning"><td>${MONTH}-01</td>`), 'the dashboard marks the month');
});
