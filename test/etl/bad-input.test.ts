// Defective sources: each is refused with an error naming file, column and line (or its rows are quarantined with a
// reason), and no partition written by an earlier good run is damaged.
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { queryRows, readParquet, withDuckDB } from '../../core/duckdb.js';
import { materialize, materializeMonth } from '../../core/datamart/materialize.js';
import { quarantineFile } from '../../core/etl/silver.js';
import { DataQualityError, InvalidSourceData } from '../../lib/errors.js';
import { SOURCE_FILES, type Source } from '../../lib/layout.js';
import { copySample, hashTree, removeDir, SAMPLE_DIR, tempDir } from './helpers.js';

const MONTH = '2023-07';
let root: string;
let dm: string;
let good: Map<string, string>;

before(async () => {
  root = await tempDir('bad-input');
  dm = join(root, 'datamart');
  await materializeMonth({ datamartDir: dm, sourceDir: SAMPLE_DIR, month: MONTH, maxQuarantineShare: 0.2 });
  good = await hashTree(dm);
});
after(() => removeDir(root));

/** A copy of the sample with one file rewritten by `edit` (null deletes it). */
async function defective(source: Source, edit: (text: string) => string | null): Promise<string> {
  const dir = await copySample('defect');
  const path = join(dir, SOURCE_FILES[source]);
  const edited = edit(await readFile(path, 'utf8'));
  if (edited === null) await rm(path);
  else await writeFile(path, edited);
  return dir;
}

async function assertRefused(source: Source, edit: (text: string) => string | null, message: RegExp): Promise<void> {
  const sourceDir = await defective(source, edit);
  try {
    await assert.rejects(materialize(`bronze/${source}`, MONTH, { datamartDir: dm, sourceDir, maxQuarantineShare: 0.2 }), (error: unknown) => {
      assert.ok(error instanceof InvalidSourceData, `expected InvalidSourceData, got ${String(error)}`);
      assert.ok(error.message.includes(join(sourceDir, SOURCE_FILES[source])), error.message);
      assert.match(error.message, message);
      return true;
    });
    assert.deepEqual(await hashTree(dm), good, 'the earlier good run is untouched');
  } finally {
    await removeDir(sourceDir);
  }
}

const lines = (text: string) => text.split('\n');

describe('defective sources are refused with file, column and line', () => {
  it('missing file', () => assertRefused('loan_daily', () => null, /source file not found/));

  it('missing required column', () =>
    assertRefused('loan_daily', (t) => t.replace('overdue_amt', 'overdue'), /column 'overdue_amt', line 1: required column is missing/));

  it('empty file', () => assertRefused('attributes', () => '', /line 1: file is empty/));

  it('header only', () => assertRefused('attributes', (t) => `${lines(t)[0]}\n`, /line 2: file has a header but no data rows/));

  // The sample has 1,865 data rows, so its last line is line 1,866.
  it('truncated last line', () =>
    assertRefused('financials', (t) => t.trimEnd().slice(0, -60), /line 1866: unreadable CSV: .*Expected Number of Columns/));

  it('non-UTF-8 bytes', async () => {
    const sourceDir = await copySample('latin1');
    try {
      const path = join(sourceDir, SOURCE_FILES.attributes);
      const bytes = await readFile(path);
      const text = bytes.toString('utf8');
      const line100 = lines(text).slice(0, 99).join('\n').length + 1; // offset of line 100's first byte
      const broken = Buffer.concat([bytes.subarray(0, line100 + 12), Buffer.from([0xe9, 0xff]), bytes.subarray(line100 + 12)]);
      await writeFile(path, broken);
      await assert.rejects(
        materialize('bronze/attributes', MONTH, { datamartDir: dm, sourceDir, maxQuarantineShare: 0.2 }),
        (error: unknown) => error instanceof InvalidSourceData && /line 100: unreadable CSV: .*utf-8/i.test(error.message),
      );
      assert.deepEqual(await hashTree(dm), good);
    } finally {
      await removeDir(sourceDir);
    }
  });

  it('ambiguous date spelling', () =>
    assertRefused(
      'financials',
      (t) => lines(t).map((line, i) => (i === 0 || !line ? line : line.replace(/,[^,]*$/, ',1/1/23'))).join('\n'),
      /column 'snapshot_date', line 2: ambiguous date spelling/,
    ));

  it('unknown date spelling, with the line of the first offending value', () =>
    assertRefused(
      'attributes',
      (t) => lines(t).map((line, i) => (i === 5 ? line.replace(/,[^,]*$/, ',2023.07.01') : line)).join('\n'),
      /column 'snapshot_date', line 6: date '2023\.07\.01' is not a first-of-month date in the file's spelling YYYY-MM-DD/,
    ));
});

describe('row-level defects are quarantined with a reason', () => {
  async function silverOf(sourceDir: string, maxQuarantineShare = 0.2) {
    await materialize('bronze/loan_daily', MONTH, { datamartDir: dm, sourceDir, maxQuarantineShare });
    return materialize('silver/loan_daily', MONTH, { datamartDir: dm, sourceDir, maxQuarantineShare });
  }
  const reasons = () =>
    withDuckDB((db) =>
      queryRows<{ loan_id: string; installment_num: string; reason: string; source_line: number }>(
        db,
        `SELECT loan_id, installment_num, reason, source_line FROM ${readParquet(quarantineFile(dm, 'loan_daily', MONTH))} ORDER BY source_line`,
      ),
    );
  /** Every file of the good run except this month's loan_daily partitions is unchanged. */
  async function othersUntouched(): Promise<void> {
    const now = await hashTree(dm);
    for (const [path, hash] of good) {
      if (/\/loan_daily\/snapshot_date=2023-07-01\//.test(path)) continue;
      assert.equal(now.get(path), hash, path);
    }
  }
  const julyRows = (text: string) => lines(text).filter((line) => line.endsWith(',2023-07-01'));

  it('duplicate loan rows: an identical repeat keeps its first line, conflicting repeats are all rejected', async () => {
    let firstLine = 0;
    let secondLine = 0;
    let appendedAt = 0;
    const sourceDir = await defective('loan_daily', (t) => {
      const all = lines(t.trimEnd());
      const [first, second] = julyRows(t);
      firstLine = all.indexOf(first) + 1;
      secondLine = all.indexOf(second) + 1;
      appendedAt = all.length + 1;
      const conflicting = second.replace(/,([0-9.]+),([0-9.]+),(2023-07-01)$/, ',123.0,$2,$3');
      return `${t.trimEnd()}\n${first}\n${conflicting}\n`;
    });
    try {
      const result = await silverOf(sourceDir);
      assert.equal(result.quarantined, 3);
      const conflict = 'conflicting duplicate loan_id+installment_num in the month';
      assert.deepEqual(
        (await reasons()).map((r) => [r.source_line, r.reason]),
        [
          [secondLine, conflict],
          [appendedAt, `duplicate of line ${firstLine}`],
          [appendedAt + 1, conflict],
        ].sort((a, b) => Number(a[0]) - Number(b[0])),
      );
      await othersUntouched();
    } finally {
      await removeDir(sourceDir);
    }
  });

  it('negative amounts: quarantined below the limit, DataQualityError above it with nothing rewritten', async () => {
    const negate = (count: number) => (t: string) => {
      const targets = new Set(julyRows(t).slice(0, count));
      return lines(t).map((line) => (targets.has(line) ? line.replace(/,([0-9.]+),([0-9.]+),(2023-07-01)$/, ',-5.0,$2,$3') : line)).join('\n');
    };
    const few = await defective('loan_daily', negate(2));
    try {
      const result = await silverOf(few);
      assert.equal(result.quarantined, 2);
      assert.deepEqual((await reasons()).map((r) => r.reason), ['negative overdue_amt', 'negative overdue_amt']);
      await othersUntouched();
    } finally {
      await removeDir(few);
    }
    // Re-establish the good month, then try a month where half the ledger is negative.
    await materializeMonth({ datamartDir: dm, sourceDir: SAMPLE_DIR, month: MONTH, maxQuarantineShare: 0.2 });
    const goldBefore = await hashTree(join(dm, 'gold'));
    const silverBefore = await hashTree(join(dm, 'silver'));
    const quarantineBefore = await hashTree(join(dm, 'quarantine'));
    const many = await defective('loan_daily', negate(300));
    try {
      await materialize('bronze/loan_daily', MONTH, { datamartDir: dm, sourceDir: many, maxQuarantineShare: 0.2 });
      await assert.rejects(
        materialize('silver/loan_daily', MONTH, { datamartDir: dm, sourceDir: many, maxQuarantineShare: 0.2 }),
        (error: unknown) =>
          error instanceof DataQualityError && /loan_daily 2023-07: 300 of 516 rows quarantined .*negative overdue_amt \(300\)/.test(error.message),
      );
      assert.deepEqual(await hashTree(join(dm, 'silver')), silverBefore);
      assert.deepEqual(await hashTree(join(dm, 'quarantine')), quarantineBefore);
      assert.deepEqual(await hashTree(join(dm, 'gold')), goldBefore);
    } finally {
      await removeDir(many);
    }
  });

  it('a month with no rows in a source is an empty partition, not an error', async () => {
    const month = '2025-01';
    const result = await materializeMonth({ datamartDir: dm, sourceDir: SAMPLE_DIR, month, maxQuarantineShare: 0.2 });
    assert.ok(!result.noSourceRows);
    const loans = result.bronze.find((b) => b.source === 'loan_daily');
    assert.equal(loans?.rows, 0);
    assert.equal(result.silver.find((s) => s.source === 'loan_daily')?.rows, 0);
    assert.ok((result.bronze.find((b) => b.source === 'attributes')?.rows ?? 0) > 0);
    assert.equal(result.features.rows, 0);
    assert.equal(result.labels.rows, 0);
    const options = { datamartDir: dm, sourceDir: SAMPLE_DIR, maxQuarantineShare: 0.2 };
    assert.equal((await materialize('gold/feature_store', month, options)).rows, 0);
    assert.equal((await materialize('gold/label_store', month, options)).defaults, 0);
  });
});
