// The whole ETL over the real sample, 2023-01..2025-01, checked against independent computations from the raw CSVs.
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { queryRows, readParquet, withDuckDB, writeParquetAtomic } from '../../core/duckdb.js';
import { featureStoreFile, FEATURE_COLUMNS, FEATURE_KEYS } from '../../core/etl/feature-store.js';
import { labelStoreFile } from '../../core/etl/label-store.js';
import { suspectedLeaks } from '../../core/etl/leakage.js';
import { materializeMonth } from '../../core/datamart/materialize.js';
import { quarantineFile, silverFile } from '../../core/etl/silver.js';
import { datamart, SOURCE_FILES, SOURCES } from '../../lib/layout.js';
import { addMonths, monthRange } from '../../lib/months.js';
import { copySample, hashTree, removeDir, SAMPLE_DIR, tempDir } from './helpers.js';

const MONTHS = monthRange('2023-01', '2025-01');
const PLACEHOLDER = /^(_+|!@9#%8|#F%\$D@\*&8|__10000__|\s*)$/;
let root: string;
let dm: string;

/** Month of a raw snapshot_date, parsed here independently of the ETL (ISO or M/d/yy in the sample). */
function rawMonth(value: string): string {
  const iso = /^(\d{4})-(\d{2})-01$/.exec(value);
  if (iso) return `${iso[1]}-${iso[2]}`;
  const us = /^(\d{1,2})\/1\/(\d{2})$/.exec(value);
  assert.ok(us, `unexpected sample date '${value}'`);
  return `20${us[2]}-${us[1].padStart(2, '0')}`;
}

async function rawRows(file: string): Promise<Record<string, string>[]> {
  return withDuckDB((db) => queryRows(db, `SELECT * FROM read_csv('${join(SAMPLE_DIR, file)}', all_varchar = true)`)) as Promise<
    Record<string, string>[]
  >;
}

before(async () => {
  root = await tempDir('pipeline');
  dm = join(root, 'datamart');
  for (const month of MONTHS) {
    await materializeMonth({ datamartDir: dm, sourceDir: SAMPLE_DIR, month, maxQuarantineShare: 0.2 });
  }
});
after(() => removeDir(root));

describe('ETL of the real sample, every month', () => {
  it('loads every source of every month: bronze = raw rows of the month, silver + quarantine = bronze', async () => {
    for (const source of SOURCES) {
      const expected = new Map<string, number>();
      for (const row of await rawRows(SOURCE_FILES[source])) {
        const month = rawMonth(row.snapshot_date);
        expected.set(month, (expected.get(month) ?? 0) + 1);
      }
      await withDuckDB(async (db) => {
        for (const month of MONTHS) {
          const count = (path: string) => queryRows<{ n: number }>(db, `SELECT count(*) AS n FROM ${readParquet(path)}`);
          const bronze = (await count(join(datamart.sourceTable(dm, 'bronze', source), `snapshot_date=${month}-01`, 'data.parquet')))[0].n;
          const silver = (await count(silverFile(dm, source, month)))[0].n;
          const quarantined = (await count(quarantineFile(dm, source, month)))[0].n;
          assert.equal(bronze, expected.get(month) ?? 0, `${source} ${month} bronze rows`);
          assert.equal(silver + quarantined, bronze, `${source} ${month} silver + quarantine`);
        }
      });
    }
    // The month with no loans is a partition of 0 rows, not an error.
    assert.equal((await rawRows(SOURCE_FILES.loan_daily)).filter((r) => rawMonth(r.snapshot_date) === '2025-01').length, 0);
  });

  it('lets no placeholder survive into silver or gold as a value, and types numbers as numbers', async () => {
    const tables = [
      ...SOURCES.map((source) => join(datamart.sourceTable(dm, 'silver', source), '*', 'data.parquet')),
      join(datamart.featureStore(dm), '*', 'data.parquet'),
      join(datamart.labelStore(dm), '*', 'data.parquet'),
    ];
    await withDuckDB(async (db) => {
      for (const glob of tables) {
        const columns = await queryRows<{ name: string; type: string }>(
          db,
          `SELECT column_name AS name, column_type AS type FROM (DESCRIBE SELECT * FROM ${readParquet(glob)})`,
        );
        for (const { name, type } of columns.filter((c) => c.type === 'VARCHAR')) {
          const values = await queryRows<{ v: string }>(db, `SELECT DISTINCT "${name}" AS v FROM ${readParquet(glob)} WHERE "${name}" IS NOT NULL`);
          const bad = values.filter(({ v }) => PLACEHOLDER.test(v) || /_$/.test(v));
          assert.deepEqual(bad, [], `${glob} ${name} (${type}) holds placeholders`);
        }
      }
      const financials = await queryRows<{ name: string; type: string }>(
        db,
        `SELECT column_name AS name, column_type AS type FROM (DESCRIBE SELECT * FROM ${readParquet(join(datamart.sourceTable(dm, 'silver', 'financials'), '*', 'data.parquet'))})`,
      );
      const typeOf = new Map(financials.map((c) => [c.name, c.type]));
      for (const column of ['Annual_Income', 'Num_of_Loan', 'Num_of_Delayed_Payment', 'Credit_History_Age_months', 'debt_to_income']) {
        assert.match(typeOf.get(column) ?? 'missing', /DOUBLE|INTEGER/, column);
      }
      // Dirt that must have become NULL rather than a number: '-500'/'8678' ages, -100 loans, '__10000__'.
      const [dirt] = await queryRows<Record<string, number>>(
        db,
        `SELECT count(*) FILTER (WHERE Age < 18 OR Age > 100) AS ages FROM ${readParquet(join(datamart.sourceTable(dm, 'silver', 'attributes'), '*', 'data.parquet'))}`,
      );
      assert.equal(dirt.ages, 0);
      const [fin] = await queryRows<Record<string, number>>(
        db,
        `SELECT count(*) FILTER (WHERE Num_of_Loan < 0) AS loans, count(*) FILTER (WHERE Amount_invested_monthly = 10000) AS invested,
                count(*) FILTER (WHERE Credit_History_Age_months IS NOT NULL) AS history, count(*) AS n
         FROM ${readParquet(join(datamart.sourceTable(dm, 'silver', 'financials'), '*', 'data.parquet'))}`,
      );
      assert.equal(fin.loans, 0);
      assert.equal(fin.invested, 0);
      assert.equal(fin.history, fin.n, 'every sample row has a parseable Credit_History_Age');
    });
  });

  it('label store equals SPEC §2 computed here straight from the raw ledger', async () => {
    const expected = new Map<string, { dpd: number; label: number; month: string; application: string }>();
    for (const row of await rawRows(SOURCE_FILES.loan_daily)) {
      if (Number(row.installment_num) !== 6) continue;
      const [year, month] = row.snapshot_date.split('-').map(Number);
      const overdue = Number(row.overdue_amt);
      const due = Number(row.due_amt);
      const missed = due === 0 ? 0 : Math.ceil(overdue / due);
      const snapshot = Date.UTC(year, month - 1, 1);
      const dpd = overdue > 0 ? Math.round((snapshot - Date.UTC(year, month - 1 - missed, 1)) / 86_400_000) : 0;
      expected.set(row.loan_id, { dpd, label: dpd >= 30 ? 1 : 0, month: rawMonth(row.snapshot_date), application: row.loan_start_date });
    }
    const actual = await withDuckDB((db) =>
      queryRows<{ loan_id: string; dpd: number; label: number; snapshot_date: string; application_date: string; label_def: string }>(
        db,
        `SELECT * FROM ${readParquet(join(datamart.labelStore(dm), '*', 'data.parquet'))}`,
      ),
    );
    assert.equal(actual.length, expected.size);
    for (const month of MONTHS) {
      const want = [...expected.values()].filter((e) => e.month === month);
      const got = actual.filter((a) => a.snapshot_date === `${month}-01`);
      assert.equal(got.length, want.length, `${month} labelled loans`);
      assert.equal(got.filter((a) => a.label === 1).length, want.filter((e) => e.label === 1).length, `${month} defaults`);
    }
    for (const row of actual) {
      const want = expected.get(row.loan_id);
      assert.ok(want, row.loan_id);
      assert.equal(row.dpd, want.dpd, `${row.loan_id} dpd`);
      assert.equal(row.label, want.label, `${row.loan_id} label`);
      assert.equal(row.application_date, want.application);
      assert.equal(row.snapshot_date, `${addMonths(want.application.slice(0, 7), 6)}-01`);
      assert.equal(row.label_def, '30dpd_6mob');
    }
    const rate = actual.filter((a) => a.label === 1).length / actual.length;
    assert.ok(rate > 0.2 && rate < 0.4, `default rate ${rate}`);
  });

  it('feature store has exactly one row per loan application, typed keys and DOUBLE/VARCHAR features, no PII', async () => {
    const applications = (await rawRows(SOURCE_FILES.loan_daily)).filter((r) => Number(r.installment_num) === 0);
    await withDuckDB(async (db) => {
      for (const month of MONTHS) {
        const rows = await queryRows<{ loan_id: string; Customer_ID: string }>(
          db,
          `SELECT loan_id, Customer_ID FROM ${readParquet(featureStoreFile(dm, month))} ORDER BY loan_id`,
        );
        const want = applications.filter((r) => rawMonth(r.snapshot_date) === month).map((r) => r.loan_id).sort();
        assert.deepEqual(rows.map((r) => r.loan_id), want, `${month} applications`);
      }
      const columns = await queryRows<{ name: string; type: string }>(
        db,
        `SELECT column_name AS name, column_type AS type FROM (DESCRIBE SELECT * FROM ${readParquet(featureStoreFile(dm, '2024-01'))})`,
      );
      assert.deepEqual(columns.slice(0, 3), [
        { name: 'loan_id', type: 'VARCHAR' },
        { name: 'Customer_ID', type: 'VARCHAR' },
        { name: 'snapshot_date', type: 'DATE' },
      ]);
      assert.deepEqual(columns.slice(3), FEATURE_COLUMNS.map((c) => ({ name: c.name, type: c.type })));
      assert.ok(!columns.some((c) => /^(Name|SSN)$/.test(c.name)));
      assert.deepEqual([...FEATURE_KEYS], ['loan_id', 'Customer_ID', 'snapshot_date']);
      const [click] = await queryRows<{ none: number }>(
        db,
        `SELECT count(*) FILTER (WHERE fe_1 IS NULL) AS none
         FROM ${readParquet(join(datamart.featureStore(dm), '*', 'data.parquet'))}`,
      );
      assert.ok(click.none > 0, 'customers without clickstream keep NULL features');
      assert.equal(
        (await queryRows<{ n: number }>(db, `SELECT count(*) AS n FROM ${readParquet(join(datamart.featureStore(dm), '*', 'data.parquet'))} WHERE clickstream_months_since NOT BETWEEN 0 AND 3`))[0].n,
        0,
      );
    });
  });

  it('detects leakage: the real store passes, a store with an LMS column of month 6 fails', async () => {
    const features = MONTHS.map((m) => featureStoreFile(dm, m));
    const labels = MONTHS.map((m) => labelStoreFile(dm, m));
    await withDuckDB(async (db) => {
      assert.deepEqual(await suspectedLeaks(db, features, labels), []);
      // Test-only leaky store: the loan's overdue amount at MOB 6 (the label month) joined in as a "feature".
      const leaky: string[] = [];
      for (const month of monthRange('2023-01', '2024-06')) {
        const path = join(root, 'leaky', `snapshot_date=${month}-01`, 'data.parquet');
        await writeParquetAtomic(
          db,
          `SELECT f.*, CAST(l.overdue_amt AS DOUBLE) AS overdue_amt_mob6
           FROM ${readParquet(featureStoreFile(dm, month))} AS f
           LEFT JOIN ${readParquet(silverFile(dm, 'loan_daily', addMonths(month, 6)))} AS l
             ON l.loan_id = f.loan_id AND l.installment_num = 6`,
          path,
        );
        leaky.push(path);
      }
      const leaks = await suspectedLeaks(db, leaky, labels);
      assert.deepEqual(leaks.map((l) => l.feature), ['overdue_amt_mob6']);
    });
  });

  it('uses no information after the application month: sources cut after it give the identical partition', async () => {
    const cutoff = '2023-09';
    const cut = await copySample('cut');
    try {
      for (const name of Object.values(SOURCE_FILES)) {
        const lines = (await readFile(join(SAMPLE_DIR, name), 'utf8')).split('\n');
        const kept = lines.filter((line, index) => {
          if (index === 0 || line === '') return true;
          return rawMonth(line.slice(line.lastIndexOf(',') + 1).trim()) <= cutoff;
        });
        await writeFile(join(cut, name), kept.join('\n'));
      }
      const cutDm = join(cut, 'datamart');
      await materializeMonth({ datamartDir: cutDm, sourceDir: cut, month: cutoff, maxQuarantineShare: 0.2 });
      const content = (path: string) =>
        withDuckDB((db) => queryRows(db, `SELECT * FROM ${readParquet(path)} ORDER BY loan_id`));
      const full = await content(featureStoreFile(dm, cutoff));
      assert.ok(full.length > 0);
      assert.deepEqual(await content(featureStoreFile(cutDm, cutoff)), full);
    } finally {
      await removeDir(cut);
    }
  });

  it('running a month twice gives identical gold content and lineage, one data file per partition', async () => {
    const month = '2024-01';
    const goldDirs = [datamart.featureStore(dm), datamart.labelStore(dm)];
    const before = await Promise.all(goldDirs.map(hashTree));
    await materializeMonth({ datamartDir: dm, sourceDir: SAMPLE_DIR, month, maxQuarantineShare: 0.2 });
    const afterRerun = await Promise.all(goldDirs.map(hashTree));
    assert.deepEqual(afterRerun, before);
    for (const layer of ['bronze', 'silver', 'quarantine'] as const) {
      for (const source of SOURCES) {
        for (const partition of await readdir(datamart.sourceTable(dm, layer, source))) {
          const expected = layer === 'quarantine' ? ['data.parquet'] : ['_lineage.json', 'data.parquet'];
          assert.deepEqual((await readdir(join(datamart.sourceTable(dm, layer, source), partition))).sort(), expected);
        }
      }
    }
    for (const dir of goldDirs) {
      const partitions = await readdir(dir);
      assert.equal(partitions.length, MONTHS.length);
      for (const partition of partitions) assert.deepEqual((await readdir(join(dir, partition))).sort(), ['_lineage.json', 'data.parquet']);
    }
  });
});
