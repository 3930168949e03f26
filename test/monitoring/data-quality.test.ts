// Data-quality findings by hand: NULL shares and source coverage of a few rows, the comparison with a training
// baseline (which rows drift is judged on), the findings of a monitoring table, and volume and freshness of bronze.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withDuckDB, writeParquetAtomic } from '../../core/duckdb.js';
import { compareWithBaseline, dataFindingsOf, dataQualityThresholdsFrom, sourceFindings } from '../../core/monitoring/data-quality.js';
import { dataProfile } from '../../core/features/profile.js';
import { loadConfig } from '../../lib/config.js';
import type { MonitoringRow } from '../../lib/contracts.js';
import { datamart, partitionFile } from '../../lib/layout.js';
import { makeTempDir } from './fixtures.js';

const thresholds = dataQualityThresholdsFrom(loadConfig({}));
const FEATURES = {
  fe_1: [1, null, 2, null],
  clickstream_months_since: [0, null, 1, null],
  Age: [30, null, 40, 50],
  Occupation: ['Lawyer', null, null, 'Doctor'],
  income: [1, 2, null, 4], // a feature of no known source: null rate only
};

test('dataProfile: NULL share per feature, coverage per source (a row is covered when any of its features is set)', () => {
  const profile = dataProfile(FEATURES, 4);
  assert.deepEqual(profile.null_rate, { fe_1: 0.5, clickstream_months_since: 0.5, Age: 0.25, Occupation: 0.5, income: 0.25 });
  assert.deepEqual(profile.coverage, { clickstream: 0.5, attributes: 0.75 });
  assert.equal(profile.rows, 4);
});

test('compareWithBaseline: the worst coverage drop, the worst NULL jump, and the rows drift is judged on', () => {
  const baseline = { rows: 100, null_rate: { fe_1: 0, clickstream_months_since: 0, Age: 0.25, Occupation: 0.5, income: 0 }, coverage: { clickstream: 1, attributes: 0.8 } };
  const quality = compareWithBaseline(FEATURES, 4, baseline, thresholds);
  assert.deepEqual(
    [quality.coverage_source, quality.coverage, quality.coverage_baseline, quality.gapSources],
    ['clickstream', 0.5, 1, ['clickstream']],
    'attributes fell 0.05, under the 0.1 warning: not a gap',
  );
  assert.deepEqual(quality.covered, [true, false, true, false]);
  assert.deepEqual([quality.max_null_jump_feature, quality.max_null_jump], ['clickstream_months_since', 0.5], 'ties go to the first name');
  const none = compareWithBaseline(FEATURES, 4, undefined, thresholds);
  assert.deepEqual([none.coverage_source, none.covered], [null, [true, true, true, true]], 'no baseline (an older model): nothing to compare');
});

function row(month: string, overrides: Partial<MonitoringRow>): MonitoringRow {
  return {
    model_id: 'm', snapshot_date: `${month}-01`, n_scored: 100, n_labelled: 0, observed_default_rate: null, mean_probability: 0.3,
    auc: null, gini: null, ks: null, accuracy: null, precision: null, recall: null, f1: null, brier: null, psi: 0.05,
    max_csi: null, max_csi_feature: null, status: 'immature', window: 'after', coverage_source: null, coverage: null,
    coverage_baseline: null, psi_covered: 0.05, n_covered: 100, max_null_jump: null, max_null_jump_feature: null, auc_estimated: null, auc_estimated_low: null,
    auc_estimated_high: null, expected_default_rate: 0.3, calibration_p_value: null, attribution_shift: null,
    max_attribution_shift: null, max_attribution_shift_feature: null, ...overrides,
  };
}

test('dataFindingsOf: a coverage gap (warning or critical by the drop) and a NULL jump the gap does not explain', () => {
  const findings = dataFindingsOf(
    [
      row('2024-05', {}),
      row('2024-06', { coverage_source: 'financials', coverage: 0.8, coverage_baseline: 1, n_covered: 80, max_null_jump: 0.3, max_null_jump_feature: 'Age' }),
    ],
    thresholds,
  );
  assert.deepEqual(findings.map((f) => [f.kind, f.severity, f.metric]), [['data', 'warning', 'coverage:financials'], ['data', 'warning', 'null_rate:Age']]);
  assert.match(findings[0].message, /^financials: 80% of 2024-06 applications covered, baseline 100%; .* judged on the 80 covered row\(s\)$/);
  assert.match(findings[1].message, /^feature Age: NULL share up 30% in 2024-06/);
  // the gap's own features going NULL is the gap, not a second finding
  const explained = dataFindingsOf([row('2024-06', { coverage_source: 'clickstream', coverage: 0, coverage_baseline: 1, n_covered: 0, max_null_jump: 1, max_null_jump_feature: 'fe_1' })], thresholds);
  assert.deepEqual(explained.map((f) => [f.severity, f.metric]), [['critical', 'coverage:clickstream']]);
});

test('sourceFindings: a thin month and a stale source in bronze', async () => {
  const { dir, cleanup } = await makeTempDir();
  try {
    const counts: Record<string, number[]> = { attributes: [100, 110, 90, 30], financials: [100, 100, 100, 100], clickstream: [50, 50], loan_daily: [200, 200, 200, 0] };
    const months = ['2024-03', '2024-04', '2024-05', '2024-06'];
    await withDuckDB(async (db) => {
      for (const [source, perMonth] of Object.entries(counts)) {
        for (const [i, n] of perMonth.entries()) {
          await writeParquetAtomic(db, `SELECT range AS x FROM range(${n})`, partitionFile(datamart.sourceTable(dir, 'bronze', source as 'attributes'), months[i]));
        }
      }
      const findings = await sourceFindings(db, dir, '2024-06', thresholds);
      assert.deepEqual(findings.map((f) => [f.metric, f.severity, f.value]), [
        ['volume:attributes', 'warning', 30],
        ['freshness:clickstream', 'warning', 2],
        ['freshness:loan_daily', 'warning', 1],
        ['volume:loan_daily', 'critical', 0],
      ]);
      assert.ok(findings.every((f) => f.kind === 'data'));
      assert.match(findings[1].message, /^clickstream: latest month with rows 2024-04, 2 month\(s\) behind the freshest source \(2024-06\)$/);
      assert.match(findings[0].message, /^attributes: 30 row\(s\) in 2024-06, against a median of 100 over the 3 month\(s\) before$/);
    });
  } finally {
    await cleanup();
  }
});
