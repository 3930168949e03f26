// Issue 30 through the governance activity: a significant estimated drop (alert by default, retrain when configured),
// a miscalibrated latest mature month (calibration: alert, recalibrate), stale data (monitoring as of 2026-12 on data
// ending 2024-12: a freshness data finding naming the gap, on the first run), and the backtest of the estimates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMonitoringActivities } from '../../activities/monitoring.js';
import { withDuckDB, writeParquetAtomic } from '../../core/duckdb.js';
import { writeMonitoringTable } from '../../core/monitoring/table.js';
import { backtestOf, describeBacktest } from '../../core/monitoring/estimated-findings.js';
import { promote } from '../../core/models/registry.js';
import { loadConfig } from '../../lib/config.js';
import type { MonitoringRow } from '../../lib/contracts.js';
import { datamart, partitionFile, SOURCES } from '../../lib/layout.js';
import { monthRange } from '../../lib/months.js';
import { makeLoans, makeTempDir, metadataFor, seeded, writeMetadata } from './fixtures.js';

/** A row of an out-of-sample month: realized AUC 0.78, estimated 0.77 [0.74, 0.80], calibrated. */
function row(month: string, overrides: Partial<MonitoringRow> = {}): MonitoringRow {
  return {
    model_id: 'm', snapshot_date: `${month}-01`, n_scored: 1000, n_labelled: 1000, observed_default_rate: 0.25,
    mean_probability: 0.26, auc: 0.78, gini: 0.56, ks: 0.4, accuracy: 0.8, precision: 0.6, recall: 0.7, f1: 0.65,
    brier: 0.15, psi: 0.02, max_csi: 0.03, max_csi_feature: 'income', status: 'stable', window: 'after',
    coverage_source: null, coverage: null, coverage_baseline: null, psi_covered: 0.02, n_covered: 1000,
    max_null_jump: null, max_null_jump_feature: null, auc_estimated: 0.77, auc_estimated_low: 0.74, auc_estimated_high: 0.8,
    expected_default_rate: 0.26, calibration_p_value: 0.4, attribution_shift: null, max_attribution_shift: null,
    max_attribution_shift_feature: null, ...overrides,
  };
}

const immature = (month: string, overrides: Partial<MonitoringRow> = {}) =>
  row(month, {
    status: 'immature', n_labelled: 0, observed_default_rate: null, auc: null, gini: null, ks: null, accuracy: null, precision: null,
    recall: null, f1: null, brier: null, calibration_p_value: null, ...overrides,
  });

/** A model trained as of 2023-06 (OOT AUC 0.77), in production, its monitoring table `rows`; bronze rows for `dataMonths`. */
async function scratch(rows: MonitoringRow[], env: Record<string, string> = {}, dataMonths: string[] = []) {
  const { dir, cleanup } = await makeTempDir();
  const datamartDir = `${dir}/datamart`;
  const modelBankDir = `${dir}/model_bank`;
  await writeMetadata(modelBankDir, metadataFor('m', '2023-06', makeLoans('b', 500, seeded(1)), 0.35));
  await promote(modelBankDir, 'm', 'test');
  await withDuckDB(async (db) => {
    await writeMonitoringTable(db, rows, datamart.monitoring(datamartDir, 'm'));
    // application month 2024-06 labelled (label month 2024-12) with features: a labelled month after the model's window
    await writeParquetAtomic(db, "SELECT 'L1' AS loan_id, DATE '2024-06-01' AS application_date, 0 AS label", partitionFile(datamart.labelStore(datamartDir), '2024-12'));
    await writeParquetAtomic(db, "SELECT 'L1' AS loan_id", partitionFile(datamart.featureStore(datamartDir), '2024-06'));
    for (const source of SOURCES) {
      for (const month of dataMonths) await writeParquetAtomic(db, 'SELECT range AS x FROM range(50)', partitionFile(datamart.sourceTable(datamartDir, 'bronze', source), month));
    }
  });
  const config = loadConfig({ DATAMART_DIR: datamartDir, MODEL_BANK_DIR: modelBankDir, ...env });
  return { activities: createMonitoringActivities(config), cleanup };
}

const decide = (activities: ReturnType<typeof createMonitoringActivities>, asOf: string, workflowId = 'w') =>
  activities.decideGovernance({ asOf, modelId: 'm', workflowId, now: '2025-01-05T06:00:00.000Z' });

test('an estimated drop before the labels: performance_estimated, alerted by default, a retrain when configured', async () => {
  // 2024-06 is mature and fine; 2024-12 has no labels yet and its whole band lies below OOT AUC 0.77 − 0.05
  const rows = [row('2024-06'), immature('2024-12', { auc_estimated: 0.66, auc_estimated_low: 0.63, auc_estimated_high: 0.69 })];
  const run = await scratch(rows);
  try {
    const decision = await decide(run.activities, '2024-12');
    assert.deepEqual(decision.findings.map((f) => [f.kind, f.severity, f.metric, f.snapshot_date, f.value]), [
      ['performance_estimated', 'warning', 'auc_estimated', '2024-12-01', 0.66],
    ]);
    assert.ok(Math.abs(decision.findings[0].threshold - 0.72) < 1e-12);
    assert.match(decision.findings[0].message, /^estimated AUC 0\.6600 of 2024-12 \(labels not mature yet; 90% band 0\.6300–0\.6900\) is wholly below the OOT AUC 0\.7700 minus 0\.05/);
    assert.equal(decision.action, 'alert', decision.reason);
  } finally {
    await run.cleanup();
  }
  const retrain = await scratch(rows, { ESTIMATED_PERFORMANCE_ACTION: 'retrain' });
  try {
    const decision = await decide(retrain.activities, '2024-12');
    assert.deepEqual(decision.findings.map((f) => [f.kind, f.severity]), [['performance_estimated', 'critical']]);
    assert.equal(decision.action, 'retrain', decision.reason);
  } finally {
    await retrain.cleanup();
  }
  // a band that reaches the floor is not significant: the drop may be the month's luck
  const within = await scratch([row('2024-06'), immature('2024-12', { auc_estimated: 0.7, auc_estimated_low: 0.66, auc_estimated_high: 0.73 })]);
  try {
    const decision = await decide(within.activities, '2024-12');
    assert.deepEqual(decision.findings, []);
    assert.equal(decision.action, 'no_action');
  } finally {
    await within.cleanup();
  }
});

test('a miscalibrated latest mature month is a calibration finding: alerted, recalibrate, never a retrain', async () => {
  const run = await scratch([
    row('2024-05', { calibration_p_value: 0.0001 }), // older: history
    row('2024-06', { calibration_p_value: 0.0004, observed_default_rate: 0.34, expected_default_rate: 0.26 }),
    immature('2024-12'),
  ]);
  try {
    const decision = await decide(run.activities, '2024-12');
    assert.deepEqual(decision.findings.map((f) => [f.kind, f.severity, f.snapshot_date, f.value, f.threshold]), [['calibration', 'warning', '2024-06-01', 0.0004, 0.01]]);
    assert.match(decision.findings[0].message, /^2024-06 is miscalibrated: expected default rate 26\.0%, observed 34\.0%, Hosmer–Lemeshow p 4\.00e-4 < 0\.01; recalibrate/);
    assert.equal(decision.action, 'alert');
    assert.match(decision.reason, /^calibration: .*; no retrain: the ranking may hold, the probabilities need a recalibration on recent labelled months$/);
  } finally {
    await run.cleanup();
  }
  // the same p-value on an in-sample (OOT) month is not judged
  const inSample = await scratch([row('2023-06', { window: 'oot', calibration_p_value: 0.0001 }), immature('2024-12')]);
  try {
    assert.deepEqual((await decide(inSample.activities, '2024-12')).findings, []);
  } finally {
    await inSample.cleanup();
  }
});

test('monitoring as of 2026-12 on data ending 2024-12: a freshness data finding naming the gap, on the first run', async () => {
  const run = await scratch([row('2024-06'), immature('2024-12')], {}, monthRange('2024-01', '2024-12'));
  try {
    const stale = await decide(run.activities, '2026-12', 'monitoring-2026-12');
    const freshness = stale.findings.filter((f) => f.metric === 'freshness:as_of');
    assert.deepEqual(freshness.map((f) => [f.kind, f.severity, f.snapshot_date, f.value, f.threshold]), [['data', 'critical', '2024-12-01', 24, 1]]);
    assert.equal(
      freshness[0].message,
      'stale data: monitoring as of 2026-12, but the newest month with source rows is 2024-12, 24 month(s) earlier (no data for 2025-01..2026-12); ' +
        'nothing after 2024-12 is monitored: load the missing months (monthly pipeline or backfill)',
    );
    assert.equal(stale.action, 'alert', 'alerted, never "no finding"');
    assert.match(stale.reason, /^data: stale data: monitoring as of 2026-12/);
    // as of the newest month, and one month later (the monthly pipeline's normal lag), the data is fresh
    for (const asOf of ['2024-12', '2025-01']) {
      const fresh = await decide(run.activities, asOf, `monitoring-${asOf}`);
      assert.deepEqual(fresh.findings.filter((f) => f.metric.startsWith('freshness')), [], asOf);
    }
    const twoBehind = await decide(run.activities, '2025-02', 'monitoring-2025-02');
    assert.deepEqual(twoBehind.findings.map((f) => [f.metric, f.severity, f.value]), [['freshness:as_of', 'warning', 2]]);
  } finally {
    await run.cleanup();
  }
});

test('the backtest: mean absolute error and the share of mature months inside the band; immature months do not count', () => {
  const backtest = backtestOf([
    row('2024-01', { auc: 0.78, auc_estimated: 0.77 }), // inside [0.74, 0.80]
    row('2024-02', { auc: 0.83, auc_estimated: 0.77 }), // outside
    row('2024-03', { auc: 0.75, auc_estimated: 0.76, auc_estimated_low: null, auc_estimated_high: null }), // no band
    immature('2024-12'),
  ]);
  assert.equal(backtest.months, 3);
  assert.ok(Math.abs(backtest.mean_absolute_error! - (0.01 + 0.06 + 0.01) / 3) < 1e-12);
  assert.deepEqual([backtest.inside_band, backtest.banded_months, backtest.share_inside_band], [1, 2, 0.5]);
  assert.equal(describeBacktest(backtest), 'backtest of the estimated AUC on 3 mature month(s): mean |realized − estimated| 0.0267, 1/2 (50.0%) inside the 90% band');
  assert.equal(describeBacktest(backtestOf([immature('2024-12')])), 'backtest of the estimated AUC: no mature month with labels yet');
});
