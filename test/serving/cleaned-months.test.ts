// Online scoring cleans the clickstream rows of all lookback months in one query (cleanedSelect's monthColumn); the
// batch path cleans one month per query. On rows with identical and conflicting repeats within a month, a customer
// seen in several months and dirty values, the one query gives exactly the rows and reasons of the per-month queries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { queryRows, sqlIdent, sqlString, withDuckDB } from '../../core/duckdb.js';
import { defineCleaningMacros } from '../../core/etl/cleaning-sql.js';
import { cleanedSelect } from '../../core/etl/silver.js';
import { REQUIRED_COLUMNS } from '../../core/etl/source-columns.js';
import { snapshotDate, type Month } from '../../lib/months.js';

const columns = REQUIRED_COLUMNS.clickstream;
const MONTHS: Month[] = ['2024-04', '2024-05', '2024-06'];

/** A clickstream row of `customer` in `month` whose features are `value` (text, as in the CSV). */
function click(customer: string, month: Month, value: string): Record<string, string | null> {
  return Object.fromEntries(
    columns.map((column) => [column, column === 'Customer_ID' ? customer : column === 'snapshot_date' ? snapshotDate(month) : column === 'fe_3' ? null : value]),
  );
}

const rows: Array<{ month: Month; record: Record<string, string | null> }> = [
  { month: '2024-04', record: click('CUS_0x1', '2024-04', '10') },
  { month: '2024-05', record: click('CUS_0x1', '2024-05', '11') },
  { month: '2024-06', record: click('CUS_0x1', '2024-06', '12_') },
  { month: '2024-05', record: click('CUS_0x2', '2024-05', '5') }, // identical repeat in May: the first line is kept
  { month: '2024-05', record: click('CUS_0x2', '2024-05', '5') },
  { month: '2024-06', record: click('CUS_0x2', '2024-06', '5') }, // the same customer in June is no repeat
  { month: '2024-06', record: click('CUS_0x3', '2024-06', '7') }, // conflicting repeat in June: both rejected
  { month: '2024-06', record: click('CUS_0x3', '2024-06', '8') },
  { month: '2024-04', record: click('CUS_0x3', '2024-04', 'inf') },
  { month: '2024-04', record: click('not a customer', '2024-04', '1') },
];

test('clickstream of several months cleaned in one query (monthColumn) equals one query per month', async () => {
  await withDuckDB(async (db) => {
    await defineCleaningMacros(db);
    await db.run(`CREATE TEMP TABLE months_bronze (${columns.map((c) => `${sqlIdent(c)} VARCHAR`).join(', ')}, source_line BIGINT, row_snapshot_date DATE)`);
    for (const [line, { month, record }] of rows.entries()) {
      const values = columns.map((column) => (record[column] === null ? 'NULL' : sqlString(record[column]!)));
      await db.run(`INSERT INTO months_bronze VALUES (${values.join(', ')}, ${line}, DATE ${sqlString(snapshotDate(month))})`);
    }
    const context = (month: Month) => ({ snapshotDate: snapshotDate(month), dateSpelling: 'YYYY-MM-DD' as const });
    const ordered = (sql: string) => `SELECT * REPLACE (CAST(snapshot_date AS VARCHAR) AS snapshot_date) FROM (${sql}) ORDER BY source_line`;
    const perMonth = [];
    for (const month of MONTHS) {
      const bronze = `SELECT * EXCLUDE (row_snapshot_date) FROM months_bronze WHERE row_snapshot_date = DATE ${sqlString(snapshotDate(month))}`;
      perMonth.push(...(await queryRows(db, ordered(`WITH bronze AS (${bronze}) SELECT * FROM (${cleanedSelect('clickstream', context(month), columns)})`))));
    }
    perMonth.sort((a, b) => Number(a.source_line) - Number(b.source_line));
    const oneQuery = await queryRows(
      db,
      ordered(`WITH bronze AS (SELECT * FROM months_bronze)
        SELECT * FROM (${cleanedSelect('clickstream', context('2024-06'), columns, { monthColumn: 'row_snapshot_date' })})`),
    );
    assert.equal(perMonth.length, rows.length);
    assert.deepEqual(oneQuery, perMonth);
    const reasons = oneQuery.map((row) => row.reason);
    assert.deepEqual(reasons, [
      null,
      null,
      null,
      null,
      'duplicate of line 3',
      null,
      'conflicting duplicate Customer_ID in the month',
      'conflicting duplicate Customer_ID in the month',
      null,
      'Customer_ID missing or invalid',
    ]);
    assert.deepEqual(oneQuery.map((row) => row.snapshot_date), rows.map((row) => snapshotDate(row.month)));
    assert.equal(oneQuery[2].fe_1, 12);
    assert.equal(oneQuery[8].fe_1, null, "'inf' is no number");
  });
  assert.throws(() => cleanedSelect('loan_daily', { snapshotDate: '2024-06-01', dateSpelling: 'YYYY-MM-DD' }, REQUIRED_COLUMNS.loan_daily, { monthColumn: 'm' }), /across months/);
});

test('keysUnique (a micro-batch without repeated keys) gives the rows and reasons of the full cleaning', async () => {
  await withDuckDB(async (db) => {
    await defineCleaningMacros(db);
    await db.run(`CREATE TEMP TABLE months_bronze (${columns.map((c) => `${sqlIdent(c)} VARCHAR`).join(', ')}, source_line BIGINT, row_snapshot_date DATE)`);
    // The rows above without their repeats: one row per customer and month, dirty values and a missing key kept.
    const distinct = rows.filter((_, line) => line !== 4 && line !== 7);
    for (const [line, { month, record }] of distinct.entries()) {
      const values = columns.map((column) => (record[column] === null ? 'NULL' : sqlString(record[column]!)));
      await db.run(`INSERT INTO months_bronze VALUES (${values.join(', ')}, ${line}, DATE ${sqlString(snapshotDate(month))})`);
    }
    const context = { snapshotDate: snapshotDate('2024-06'), dateSpelling: 'YYYY-MM-DD' as const };
    const cleaned = (keysUnique: boolean) =>
      queryRows(
        db,
        `WITH bronze AS (SELECT * FROM months_bronze)
         SELECT * REPLACE (CAST(snapshot_date AS VARCHAR) AS snapshot_date)
         FROM (${cleanedSelect('clickstream', context, columns, { monthColumn: 'row_snapshot_date', keysUnique })}) ORDER BY source_line`,
      );
    const full = await cleaned(false);
    assert.equal(full.length, distinct.length);
    assert.deepEqual(await cleaned(true), full);
    assert.deepEqual(full.map((row) => row.reason), [null, null, null, null, null, null, null, 'Customer_ID missing or invalid']);
  });
});
