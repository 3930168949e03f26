// Issue 30 on generated data (generator scenario concept-drift, drift from 2024-01), through the functions the
// activities run: what performance estimated before labels can and cannot see.
// 1. Pure concept drift (who defaults changes, the applicants and so the scores do not): the estimate stays where it
//    was, no performance_estimated finding while the drifted months are immature. CBPE reads the model's own
//    probabilities, so it is blind to this by construction. Once the labels mature, the realized AUC falls out of the
//    band (the backtest shows the gap) and the calibration test flags the months: the first label-based signal.
// 2. A covariate shift the scores do show: from 2024-01 the applicants come through a channel that admits only a narrow
//    band of interest rates and payment delays (the feature store of those months keeps only them). The scores bunch
//    in the middle, the expected AUC falls, and governance raises performance_estimated before any label matures.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { createMonitoringActivities } from '../../activities/monitoring.js';
import { readParquet, withDuckDB, writeParquetAtomic } from '../../core/duckdb.js';
import { materializeMonth } from '../../core/datamart/materialize.js';
import { generateSources } from '../../core/generator/index.js';
import { registerModel } from '../../core/models/bank.js';
import { trainCandidate } from '../../core/models/candidate.js';
import { promote } from '../../core/models/registry.js';
import { buildTrainingSet } from '../../core/models/training-set.js';
import { backtestOf, describeBacktest } from '../../core/monitoring/estimated-findings.js';
import { releaseScoringSessions } from '../../core/scoring/model-loader.js';
import { scoreMonth } from '../../core/scoring/score-month.js';
import type { MonitoringRow } from '../../lib/contracts.js';
import { datamart, partitionFile } from '../../lib/layout.js';
import { monthRange } from '../../lib/months.js';
import { scratchConfig } from '../helpers/temporal.js';

const DRIFT_FROM = '2024-01';
const MONTHS = monthRange('2023-01', '2024-06');
const DRIFTED = monthRange(DRIFT_FROM, '2024-06');
/** Labels mature by 2023-12: applications up to 2023-06, all before the drift. */
const TRAIN_AT = '2023-12';

const scratch = scratchConfig('estimated-performance');
const { config } = scratch;
let modelId = '';
let ootAuc = 0;

const fmt = (row: MonitoringRow) =>
  `${row.snapshot_date.slice(0, 7)} ${row.window} ${row.status}: n ${row.n_scored}, AUC ${row.auc?.toFixed(3) ?? '—'}, estimated ` +
  `${row.auc_estimated?.toFixed(3)} [${row.auc_estimated_low?.toFixed(3)}, ${row.auc_estimated_high?.toFixed(3)}], expected default ` +
  `${row.expected_default_rate.toFixed(3)}, observed ${row.observed_default_rate?.toFixed(3) ?? '—'}, HL p ${row.calibration_p_value?.toExponential(2) ?? '—'}`;

before(async () => {
  const sourceDir = join(scratch.dir, 'raw');
  // data to 2025-01 (ledger observed to 2024-12): the drifted months' labels exist, mature as of 2024-12
  await generateSources({ customers: 12_000, seed: 11, scenario: 'concept-drift', driftFrom: DRIFT_FROM, to: '2025-01', out: sourceDir });
  for (const month of monthRange('2023-01', '2024-12')) {
    await materializeMonth({ datamartDir: config.DATAMART_DIR, sourceDir, month, maxQuarantineShare: config.MAX_QUARANTINE_SHARE });
  }
  const trainingSet = await buildTrainingSet({ datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, asOf: TRAIN_AT });
  const candidate = await trainCandidate({ trainingSet, family: 'gblinear' });
  modelId = (await registerModel({ modelBankDir: config.MODEL_BANK_DIR, trainingSet, candidate, workflow: { workflowId: 'training-drift', runId: 'run' } })).modelId;
  ootAuc = candidate.metrics.oot_auc;
  await promote(config.MODEL_BANK_DIR, modelId, 'test');
  for (const month of MONTHS) await scoreMonth({ datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, month, modelId });
});
after(async () => {
  await releaseScoringSessions();
  scratch.cleanup();
});

test('pure concept drift: the estimate cannot see it before the labels; the mature labels show the gap and a calibration finding', async (t) => {
  const activities = createMonitoringActivities(config);
  const early = (await activities.computeMonitoring({ asOf: '2024-06', modelId })).rows;
  for (const row of early) t.diagnostic(`as of 2024-06 ${fmt(row)}`);
  const drifted = early.filter((row) => DRIFTED.includes(row.snapshot_date.slice(0, 7)));
  assert.equal(drifted.length, 6);
  assert.ok(drifted.every((row) => row.status === 'immature' && row.auc_estimated_high !== null));
  const decision = await activities.decideGovernance({ asOf: '2024-06', modelId, workflowId: 'monitoring-2024-06', now: '2024-06-09T06:00:00.000Z' });
  t.diagnostic(`as of 2024-06 (OOT AUC ${ootAuc.toFixed(4)}): ${decision.action}: ${decision.reason}`);
  assert.deepEqual(decision.findings.filter((f) => f.kind === 'performance_estimated'), [], 'the scores did not move: nothing to estimate a drop from');

  const late = (await activities.computeMonitoring({ asOf: '2024-12', modelId })).rows;
  const matured = late.filter((row) => DRIFTED.includes(row.snapshot_date.slice(0, 7)));
  for (const row of late) t.diagnostic(`as of 2024-12 ${fmt(row)}`);
  const before = backtestOf(late.filter((row) => row.snapshot_date < `${DRIFT_FROM}-01`));
  const afterDrift = backtestOf(matured);
  t.diagnostic(`before the drift: ${describeBacktest(before)}`);
  t.diagnostic(`drifted months: ${describeBacktest(afterDrift)}`);
  for (const row of matured) {
    assert.ok(row.auc !== null && row.auc < row.auc_estimated_low!, `${row.snapshot_date}: realized ${row.auc} below the band ${row.auc_estimated_low}`);
  }
  assert.equal(afterDrift.inside_band, 0);
  assert.ok(before.share_inside_band! >= 0.7, `before the drift the band holds the realized AUC: ${describeBacktest(before)}`);
  const matureDecision = await activities.decideGovernance({ asOf: '2024-12', modelId, workflowId: 'monitoring-2024-12', now: '2024-12-08T06:00:00.000Z' });
  t.diagnostic(`as of 2024-12: ${matureDecision.action}: ${matureDecision.reason}`);
  const calibration = matureDecision.findings.find((f) => f.kind === 'calibration');
  assert.ok(calibration, `the drifted labels no longer match the probabilities: ${JSON.stringify(matureDecision.findings)}`);
  assert.equal(calibration.snapshot_date, '2024-06-01');
  assert.match(calibration.message, /recalibrate/);
});

test('a covariate shift the scores show: performance_estimated before any label matures', async (t) => {
  // From 2024-01 a pre-screen decides the clear cases itself (declines the riskiest, approves the safest): only borderline
  // applicants, scored 0.22–0.42 by this model, still reach it. The feature store of those months keeps only them.
  await withDuckDB(async (db) => {
    for (const month of DRIFTED) {
      const file = partitionFile(datamart.featureStore(config.DATAMART_DIR), month);
      const scores = partitionFile(datamart.predictions(config.DATAMART_DIR, modelId), month);
      const narrow = `${file}.narrow.parquet`;
      await writeParquetAtomic(
        db,
        `SELECT f.* FROM ${readParquet(file)} f SEMI JOIN (SELECT loan_id FROM ${readParquet(scores)} WHERE default_probability BETWEEN 0.22 AND 0.42) USING (loan_id)`,
        narrow,
      );
      await writeParquetAtomic(db, `SELECT * FROM ${readParquet(narrow)}`, file);
      await rm(narrow);
    }
  });
  for (const month of DRIFTED) await scoreMonth({ datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, month, modelId });
  const activities = createMonitoringActivities(config);
  const rows = (await activities.computeMonitoring({ asOf: '2024-06', modelId })).rows;
  for (const row of rows) t.diagnostic(fmt(row));
  const latest = rows.at(-1)!;
  assert.equal(latest.status, 'immature');
  const decision = await activities.decideGovernance({ asOf: '2024-06', modelId, workflowId: 'monitoring-narrow', now: '2024-06-16T06:00:00.000Z' });
  t.diagnostic(`${decision.action}: ${decision.reason}`);
  const estimated = decision.findings.find((f) => f.kind === 'performance_estimated');
  assert.ok(estimated, JSON.stringify(decision.findings));
  assert.equal(estimated.snapshot_date, '2024-06-01');
  assert.match(estimated.message, /\(labels not mature yet; 90% band/);
  assert.ok(latest.auc_estimated_high! < ootAuc - config.ESTIMATED_AUC_MARGIN);
});
