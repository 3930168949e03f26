// A packed query (core/serving/packed-rows.ts) reads the same rows as the query itself read by plainRows: every value
// bit for bit (-0, NaN, infinities, subnormals, NULLs, BIGINTs past 2^53, FLOATs, dates, texts) and in column order,
// with columns of other types left as they are.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plainRows, withDuckDB } from '../../core/duckdb.js';
import { packQuery, unpackRows } from '../../core/serving/packed-rows.js';

async function bothWays(sql: string) {
  return withDuckDB(async (db) => {
    const plain = plainRows(await db.runAndReadAll(sql));
    const prepared = await db.prepare(sql);
    const packed = packQuery(sql, prepared);
    prepared.destroySync();
    const statement = await db.prepare(packed.sql);
    const result = await statement.run();
    const unpacked = unpackRows(result, packed);
    statement.destroySync();
    return { plain, unpacked, resultColumns: result.columnCount, packed };
  });
}

test('packed rows equal plainRows, value for value and in column order', async () => {
  const sql = `
    SELECT * FROM (VALUES
      ('L1', -0.0::DOUBLE, 'nan'::DOUBLE, 9007199254740993::BIGINT, 0.1::FLOAT, DATE '2024-06-01', 'Zoë ✓', 7::INTEGER, TRUE, TIMESTAMP '2024-06-01 12:34:56'),
      ('L2', 'inf'::DOUBLE, '-inf'::DOUBLE, -42::BIGINT, NULL::FLOAT, NULL::DATE, '', NULL::INTEGER, NULL::BOOLEAN, NULL::TIMESTAMP),
      (NULL, 5e-324::DOUBLE, 0.30000000000000004::DOUBLE, NULL::BIGINT, 3.4e38::FLOAT, DATE '1999-12-31', NULL, -1::INTEGER, FALSE, TIMESTAMP '1999-12-31 23:59:59')
    ) AS t(loan_id, a, b, big, f, snapshot_date, note, small, flag, seen_at)`;
  const { plain, unpacked, resultColumns } = await bothWays(sql);
  assert.equal(unpacked.length, 3);
  assert.deepStrictEqual(unpacked, plain); // Object.is per value: -0 is not 0, NaN is NaN
  for (const [index, row] of unpacked.entries()) assert.deepEqual(Object.keys(row), Object.keys(plain[index]));
  assert.ok(Object.is(unpacked[0].a, -0));
  assert.equal(unpacked[0].big, 9007199254740992); // rounded as Number(9007199254740993n) rounds it
  assert.equal(unpacked[0].f, Math.fround(0.1));
  assert.equal(unpacked[0].snapshot_date, '2024-06-01');
  // numbers, texts, then the BOOLEAN and the TIMESTAMP as columns of their own
  assert.equal(resultColumns, 4);
});

test('a query without numbers or without texts, without rows or over several chunks packs too', async () => {
  const onlyTexts = await bothWays(`SELECT 'a' AS x, DATE '2024-01-01' AS d`);
  assert.deepStrictEqual(onlyTexts.unpacked, onlyTexts.plain);
  const onlyNumbers = await bothWays(`SELECT 1.5::DOUBLE AS x, NULL::DOUBLE AS y FROM range(2)`);
  assert.deepStrictEqual(onlyNumbers.unpacked, [
    { x: 1.5, y: null },
    { x: 1.5, y: null },
  ]);
  assert.deepStrictEqual(onlyNumbers.unpacked, onlyNumbers.plain);
  const noRows = await bothWays(`SELECT 1.0::DOUBLE AS x WHERE false`);
  assert.deepStrictEqual(noRows.unpacked, []);
  // Several chunks (2,048 rows each), in order.
  const manyRows = await bothWays(`SELECT range / 7 AS x, 'row ' || range AS t FROM range(5000)`);
  assert.equal(manyRows.unpacked.length, 5000);
  assert.deepStrictEqual(manyRows.unpacked, manyRows.plain);
});
