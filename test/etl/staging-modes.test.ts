// Staging holds a small source file in memory and hashes its months in one pass, and sends a large one through a
// DuckDB file of its own, hashed back month by month (core/etl/staging.ts). Lineage rests on those hashes, so both
// ways must give the same manifest and the same partitions: checked here on every source of the real sample.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SOURCES } from '../../lib/layout.js';
import { queryRows, sqlString, withDuckDB } from '../../core/duckdb.js';
import { stageSource, stagedMonthFile, type StagedSource } from '../../core/etl/staging.js';
import { FIXTURE_DIR } from '../helpers/fixture.js';

/**
 * Every row of a staged month as text, in file order, without ingested_at (when that staging read the CSV: the two
 * stagings compared here read it at different times); that column must hold one time for the whole month.
 */
async function monthRows(staged: StagedSource, month: string): Promise<string[]> {
  const file = stagedMonthFile(staged, month);
  assert.ok(file, `${staged.source} ${month} staged`);
  const monthFile = `read_parquet(${sqlString(file)})`;
  const rows = await withDuckDB(async (db) => {
    const times = await queryRows<{ n: number }>(db, `SELECT count(DISTINCT ingested_at) AS n FROM ${monthFile} WHERE ingested_at IS NOT NULL`);
    assert.equal(times[0].n, 1, `${staged.source} ${month}: one ingested_at`);
    return queryRows<{ row: string }>(db, `SELECT CAST(t AS VARCHAR) AS row FROM (SELECT * EXCLUDE (ingested_at) FROM ${monthFile}) AS t ORDER BY source_line`);
  });
  return rows.map(({ row }) => row);
}

test('in-memory and file-backed staging give the same manifest and partitions for every source', async () => {
  const root = mkdtempSync(join(tmpdir(), 'staging-modes-'));
  try {
    for (const source of SOURCES) {
      const inMemory = await stageSource(join(root, 'memory'), FIXTURE_DIR, source, undefined, Number.MAX_SAFE_INTEGER);
      const onDisk = await stageSource(join(root, 'disk'), FIXTURE_DIR, source, undefined, 0);
      const { dir: _memoryDir, ...memoryManifest } = inMemory;
      const { dir: _diskDir, ...diskManifest } = onDisk;
      assert.deepEqual(memoryManifest, diskManifest, source);
      assert.ok(Object.keys(inMemory.slices).length >= 20, `${source}: months with rows`);
      assert.ok(Object.values(inMemory.slices).every((sha) => /^[0-9a-f]{64}$/.test(sha)));
      const month = Object.keys(inMemory.months).sort().at(-1)!;
      const rows = await monthRows(inMemory, month);
      assert.equal(rows.length, inMemory.months[month]);
      assert.deepEqual(await monthRows(onDisk, month), rows, `${source} ${month} rows`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
