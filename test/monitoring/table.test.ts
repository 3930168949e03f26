// The monitoring table: one row per application month up to the as-of date, label maturity, atomic rewrite.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { computeMonitoringTable, readMonitoringTable, monitoringSettings } from '../../core/monitoring/table.js';
import { withDuckDB, queryRows, readParquet, writeParquetAtomic } from '../../core/duckdb.js';
import { loadConfig } from '../../lib/config.js';
import { monthRange } from '../../lib/months.js';
import { datamart, partitionFile } from '../../lib/layout.js';
import { monitoringRowSchema } from '../../lib/contracts.js';
import { makeLoans, makeTempDir, metadataFor, seeded, writeMetadata, writeMonth } from './fixtures.js';

const PERFORMANCE = ['auc', 'gini', 'ks', 'accuracy', 'precision', 'recall', 'f1', 'brier', 'observed_default_rate'] as const;

test('immature months have NULL performance and status immature but a PSI; later months are left out', async () => {
  const { dir, cleanup } = await makeTempDir();
  try {
    const datamartDir = `${dir}/datamart`;
    const modelBankDir = `${dir}/model_bank`;
    const modelId = 'maturity_model';
    await writeMetadata(modelBankDir, metadataFor(modelId, '2023-12', makeLoans('b', 3000, seeded(1)), 0.35));
    const months = monthRange('2024-01', '2024-09');
    for (const [i, month] of months.entries()) {
      // labels only exist once observed: application month + 6 must be on or before the data's end (2024-09)
      await writeMonth(datamartDir, modelId, month, makeLoans(month, 800, seeded(30 + i)), 0.35, { withLabels: i + 6 <= 8 });
    }
    const settings = monitoringSettings(loadConfig({}), { datamartDir, modelBankDir });
    const asOf = '2024-08';
    const { rows, path } = await computeMonitoringTable(settings, asOf, modelId);
    // 2024-09 is after the as-of date: not monitored
    assert.deepEqual(rows.map((row) => row.snapshot_date.slice(0, 7)), monthRange('2024-01', '2024-08'));
    for (const row of rows) {
      const mature = row.snapshot_date <= '2024-02-01'; // label month ≤ 2024-08
      assert.equal(row.n_scored, 800);
      assert.ok(Number.isFinite(row.psi) && row.psi >= 0, `${row.snapshot_date} has a PSI`);
      if (mature) {
        assert.notEqual(row.status, 'immature', row.snapshot_date);
        assert.equal(row.n_labelled, 800);
        for (const metric of PERFORMANCE) assert.equal(typeof row[metric], 'number', `${row.snapshot_date} ${metric}`);
      } else {
        assert.equal(row.status, 'immature', row.snapshot_date);
        assert.equal(row.n_labelled, 0);
        for (const metric of PERFORMANCE) assert.equal(row[metric], null, `${row.snapshot_date} ${metric} must be NULL`);
      }
    }
    // the label partition of 2024-03 (→ 2024-09) exists, but 2024-09 is after the as-of date: still immature
    assert.equal(rows.find((row) => row.snapshot_date === '2024-03-01')?.status, 'immature');

    // what is on disk: the same rows, the contract's columns, NULLs kept as NULL, snapshot_date a DATE
    const stored = await withDuckDB(async (db) => {
      const types = await queryRows<{ column_name: string; column_type: string }>(db, `DESCRIBE SELECT * FROM ${readParquet(path)}`);
      return { rows: await readMonitoringTable(db, path), types };
    });
    assert.deepEqual(stored.rows, rows);
    assert.deepEqual(stored.types.map((t) => t.column_name).sort(), Object.keys(monitoringRowSchema.shape).sort());
    assert.equal(stored.types.find((t) => t.column_name === 'snapshot_date')?.column_type, 'DATE');

    // a later as-of rewrites the whole table: months mature, nothing duplicated, no temporary file left behind
    const later = await computeMonitoringTable(settings, '2024-09', modelId);
    assert.equal(later.rows.length, 9);
    assert.equal(later.rows.find((row) => row.snapshot_date === '2024-03-01')?.status !== 'immature', true);
    assert.equal(later.rows.find((row) => row.snapshot_date === '2024-03-01')?.n_labelled, 800);
    assert.deepEqual(await readdir(dirname(path)), ['data.parquet']);
  } finally {
    await cleanup();
  }
});

test('a mature month whose label partition is missing has NULL performance, judged on PSI alone', async () => {
  const { dir, cleanup } = await makeTempDir();
  try {
    const datamartDir = `${dir}/datamart`;
    const modelBankDir = `${dir}/model_bank`;
    await writeMetadata(modelBankDir, metadataFor('m2', '2023-12', makeLoans('b', 2000, seeded(2)), 0.35));
    await writeMonth(datamartDir, 'm2', '2024-01', makeLoans('x', 500, seeded(3)), 0.35, { withLabels: false, withFeatures: false });
    const { rows } = await computeMonitoringTable(
      monitoringSettings(loadConfig({}), { datamartDir, modelBankDir }),
      '2024-12',
      'm2',
    );
    assert.equal(rows.length, 1);
    assert.equal(rows[0].n_labelled, 0);
    assert.equal(rows[0].auc, null);
    assert.equal(rows[0].max_csi, null, 'no feature partition: no CSI');
    assert.equal(rows[0].status, rows[0].psi >= 0.1 ? (rows[0].psi >= 0.2 ? 'critical' : 'warning') : 'stable');
  } finally {
    await cleanup();
  }
});

test('bad metadata is an InvalidModelArtifact naming the file', async () => {
  const { dir, cleanup } = await makeTempDir();
  try {
    const settings = monitoringSettings(loadConfig({}), { datamartDir: `${dir}/datamart`, modelBankDir: `${dir}/model_bank` });
    await assert.rejects(computeMonitoringTable(settings, '2024-01', 'absent'), (error: Error) => {
      assert.equal(error.name, 'InvalidModelArtifact');
      assert.match(error.message, /absent\/metadata\.json/);
      return true;
    });
  } finally {
    await cleanup();
  }
});

test('a month that cannot be read fails the table, and the table already written stays as it was', async () => {
  const { dir, cleanup } = await makeTempDir();
  try {
    const datamartDir = `${dir}/datamart`;
    const modelBankDir = `${dir}/model_bank`;
    await writeMetadata(modelBankDir, metadataFor('m3', '2023-12', makeLoans('b', 2000, seeded(4)), 0.35));
    const months = monthRange('2024-01', '2024-06');
    for (const [i, month] of months.entries()) await writeMonth(datamartDir, 'm3', month, makeLoans(month, 300, seeded(40 + i)), 0.35);
    const settings = monitoringSettings(loadConfig({}), { datamartDir, modelBankDir });
    const { path } = await computeMonitoringTable(settings, '2024-06', 'm3');
    const before = await readFile(path);

    // Months are monitored two at a time: one lane fails on 2024-03, whatever the other is doing.
    await writeFile(partitionFile(datamart.predictions(datamartDir, 'm3'), '2024-03'), 'not parquet');
    const progress: string[] = [];
    await assert.rejects(computeMonitoringTable(settings, '2024-06', 'm3', ({ month }) => progress.push(month)), (error: Error) => {
      assert.match(error.message, /snapshot_date=2024-03-01/);
      return true;
    });
    assert.ok(!progress.includes('2024-03'));
    // Both lanes had stopped when it failed: no month finishes after it.
    const monthsWhenFailed = progress.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(progress.length, monthsWhenFailed);
    assert.deepEqual(await readFile(path), before);
    assert.deepEqual(await readdir(dirname(path)), ['data.parquet']);
  } finally {
    await cleanup();
  }
});

test('attribution drift: each month against the training shares; a contributions row that lacks a feature is bad input naming the explanations', async () => {
  const { dir, cleanup } = await makeTempDir();
  try {
    const datamartDir = `${dir}/datamart`;
    const modelBankDir = `${dir}/model_bank`;
    const metadata = metadataFor('m4', '2023-12', makeLoans('b', 2000, seeded(5)), 0.35);
    metadata.attribution = { rows: { train: 100, oot: 50 }, train: { income: 3, occupation: 1 }, oot: { income: 3, occupation: 1 } };
    await writeMetadata(modelBankDir, metadata);
    const months = monthRange('2024-01', '2024-03');
    for (const [i, month] of months.entries()) await writeMonth(datamartDir, 'm4', month, makeLoans(month, 300, seeded(50 + i)), 0.35);
    const explanations = (month: string, rows: string[]) =>
      withDuckDB((db) =>
        writeParquetAtomic(
          db,
          `SELECT 'L' || i AS loan_id, CAST(c AS JSON) AS contributions FROM (SELECT unnest([${rows.map((row) => `'${row}'`).join(', ')}]) AS c, unnest(range(${rows.length})) AS i)`,
          partitionFile(datamart.explanations(datamartDir, 'm4'), month),
        ),
      );
    // 2024-01: |income| 1 on average, |occupation| 1 (shares ½, ½ against ¾, ¼ at training); 2024-02: as at training;
    // 2024-03: none
    await explanations('2024-01', ['{"income": 2, "occupation": -1}', '{"income": 0, "occupation": 1}']);
    await explanations('2024-02', ['{"income": -0.3, "occupation": 0.1}']);
    const settings = monitoringSettings(loadConfig({}), { datamartDir, modelBankDir });
    const { rows } = await computeMonitoringTable(settings, '2024-03', 'm4');
    const byMonth = new Map(rows.map((row) => [row.snapshot_date.slice(0, 7), row]));
    assert.ok(Math.abs(byMonth.get('2024-01')!.attribution_shift! - 0.25) < 1e-12);
    assert.equal(byMonth.get('2024-01')!.max_attribution_shift_feature, 'income');
    assert.ok(Math.abs(byMonth.get('2024-01')!.max_attribution_shift! + 0.25) < 1e-12);
    assert.ok(Math.abs(byMonth.get('2024-02')!.attribution_shift!) < 1e-12);
    assert.equal(byMonth.get('2024-03')!.attribution_shift, null);

    await explanations('2024-03', ['{"income": 1}']);
    await assert.rejects(computeMonitoringTable(settings, '2024-03', 'm4'), (error: Error) => {
      assert.equal(error.name, 'MonitoringInputError');
      assert.match(error.message, /gold\/explanations\/model_id=m4: contributions of 2024-03: .*does not have key "occupation"/);
      return true;
    });
  } finally {
    await cleanup();
  }
});

test('a predictions partition without a column the table needs is a MonitoringInputError naming the file and the column', async () => {
  const { dir, cleanup } = await makeTempDir();
  try {
    const datamartDir = `${dir}/datamart`;
    const modelBankDir = `${dir}/model_bank`;
    await writeMetadata(modelBankDir, metadataFor('m5', '2023-12', makeLoans('b', 2000, seeded(6)), 0.35));
    for (const [i, month] of monthRange('2024-01', '2024-02').entries()) await writeMonth(datamartDir, 'm5', month, makeLoans(month, 200, seeded(60 + i)), 0.35);
    const file = partitionFile(datamart.predictions(datamartDir, 'm5'), '2024-02');
    await withDuckDB((db) => writeParquetAtomic(db, `SELECT * EXCLUDE (predicted_default) FROM ${readParquet(file)}`, file));
    const settings = monitoringSettings(loadConfig({}), { datamartDir, modelBankDir });
    await assert.rejects(computeMonitoringTable(settings, '2024-08', 'm5'), (error: Error) => {
      assert.equal(error.name, 'MonitoringInputError');
      assert.equal(error.message, `${file}: missing column(s) predicted_default`);
      return true;
    });
  } finally {
    await cleanup();
  }
});
