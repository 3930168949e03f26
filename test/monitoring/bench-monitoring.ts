// Timing of a monitoring run at the size of the demo: `npx tsx test/monitoring/bench-monitoring.ts [months] [rows]`.
// Builds 25 months × 12,500 scored loans (with labels and 30 features) in a temporary datamart, then times
// computeMonitoring and renderDashboard. Not a test (no assertions): prints the figures.
import { rm } from 'node:fs/promises';
import { computeBaseline } from '../../core/statistics/drift.js';
import { withDuckDB, writeParquetAtomic, sqlString } from '../../core/duckdb.js';
import { computeMonitoringTable, monitoringSettings } from '../../core/monitoring/table.js';
import { renderDashboardFiles } from '../../core/monitoring/report.js';
import { loadConfig } from '../../lib/config.js';
import { datamart, partitionFile } from '../../lib/layout.js';
import { addMonths, monthRange, snapshotDate } from '../../lib/months.js';
import { makeTempDir, metadataFor, makeLoans, seeded, writeMetadata } from './fixtures.js';

const monthCount = Number(process.argv[2] ?? 25);
const rowsPerMonth = Number(process.argv[3] ?? 12_500);
const FEATURE_COUNT = 30;
const features = Array.from({ length: FEATURE_COUNT }, (_, i) => `f${i}`);

const { dir, cleanup } = await makeTempDir();
try {
  const datamartDir = `${dir}/datamart`;
  const modelBankDir = `${dir}/model_bank`;
  const modelId = 'bench_model';
  const baselineLoans = makeLoans('b', 20_000, seeded(1));
  const random = seeded(2);
  const metadata = metadataFor(modelId, '2023-01', baselineLoans, 0.35);
  metadata.features = features;
  metadata.baseline = computeBaseline(
    baselineLoans.map((loan) => loan.probability),
    Object.fromEntries(features.map((f) => [f, baselineLoans.map(() => random() * 100)])),
  );
  await writeMetadata(modelBankDir, metadata);
  const months = monthRange('2023-01', addMonths('2023-01', monthCount - 1));
  const build = Date.now();
  await withDuckDB(async (db) => {
    for (const [i, month] of months.entries()) {
      const base = `SELECT 'L' || '${month}-' || range AS loan_id, 'C' || range AS Customer_ID,
        round(least(0.999, greatest(0.001, random() * 0.6 + 0.01 * ${i})), 3) AS p FROM range(${rowsPerMonth})`;
      await db.run(`CREATE OR REPLACE TABLE m AS SELECT *, CAST(random() < p AS INTEGER) AS label FROM (${base})`);
      const date = sqlString(snapshotDate(month));
      await writeParquetAtomic(db, `SELECT loan_id, Customer_ID, DATE ${date} AS snapshot_date, '${modelId}' AS model_id,
        p AS default_probability, CAST(p >= 0.35 AS INTEGER) AS predicted_default, 'Low' AS risk_band, now() AS scored_at FROM m`,
        partitionFile(datamart.predictions(datamartDir, modelId), month));
      await writeParquetAtomic(db, `SELECT loan_id, Customer_ID, DATE ${date} AS application_date,
        DATE ${sqlString(snapshotDate(addMonths(month, 6)))} AS snapshot_date, label * 40 AS dpd, label, '30dpd_6mob' AS label_def FROM m`,
        partitionFile(datamart.labelStore(datamartDir), addMonths(month, 6)));
      await writeParquetAtomic(db, `SELECT loan_id, Customer_ID, DATE ${date} AS snapshot_date,
        ${features.map((f) => `random() * ${100 + i} AS ${f}`).join(', ')} FROM m`,
        partitionFile(datamart.featureStore(datamartDir), month));
    }
  });
  console.log(`built ${monthCount} months × ${rowsPerMonth} rows × ${FEATURE_COUNT} features in ${Date.now() - build} ms`);
  const asOf = months.at(-1)!;
  let start = Date.now();
  const { rows } = await computeMonitoringTable(monitoringSettings(loadConfig({}), { datamartDir, modelBankDir }), asOf, modelId);
  console.log(`computeMonitoring: ${rows.length} months, ${rows.reduce((s, r) => s + r.n_scored, 0)} predictions in ${Date.now() - start} ms`);
  start = Date.now();
  await renderDashboardFiles({ ...monitoringSettings(loadConfig({}), { datamartDir, modelBankDir }), reportsDir: `${dir}/reports` }, asOf, modelId);
  console.log(`renderDashboard: ${Date.now() - start} ms`);
} finally {
  await cleanup();
  await rm(dir, { recursive: true, force: true });
}
