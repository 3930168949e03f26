// The completeness judgement of a source month (core/datamart/completeness.ts) on the real sample's row counts per
// month, as staging counts them: the real data is complete every month (its clickstream coverage gap is about which
// applicants are covered, not about rows), an emptied month and a cut file are not, and a source that may stop is
// not incomplete after its last month.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { judgeSliceVolume } from '../../core/datamart/completeness.js';
import { stageSource } from '../../core/etl/staging.js';
import { SOURCES, type Source } from '../../lib/layout.js';
import { monthRange } from '../../lib/months.js';
import { DEFAULT_MIN_SOURCE_VOLUME_SHARE } from '../../lib/config.js';
import { FIXTURE_DIR } from '../helpers/fixture.js';

const minShare = DEFAULT_MIN_SOURCE_VOLUME_SHARE;
let work = '';
const monthly = {} as Record<Source, Record<string, number>>;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'completeness-'));
  for (const source of SOURCES) monthly[source] = (await stageSource(join(work, 'datamart'), FIXTURE_DIR, source)).months;
});
after(() => rm(work, { recursive: true, force: true }));

test('the real sample is complete in every month of every source, the clickstream months of its coverage gap included', () => {
  assert.equal(monthly.clickstream['2024-09'], 1341, 'clickstream has its rows from 2024-07 on: the gap is which applicants they cover');
  for (const source of SOURCES) {
    for (const month of monthRange('2023-01', '2024-12')) {
      // Judged against the file's own history and against the same counts read before.
      const known = monthly[source][month] ?? null;
      assert.equal(judgeSliceVolume({ source, month, monthly: monthly[source], knownRows: null, minShare }), null, `${source} ${month}`);
      assert.equal(judgeSliceVolume({ source, month, monthly: monthly[source], knownRows: known, minShare }), null, `${source} ${month} read again`);
    }
  }
});

test('an emptied month is incomplete against the median of its previous three months; so is a month with under half of it', () => {
  const emptied = { ...monthly.clickstream, '2024-03': 0 };
  assert.deepEqual(judgeSliceVolume({ source: 'clickstream', month: '2024-03', monthly: emptied, knownRows: null, minShare }), {
    source: 'clickstream', month: '2024-03', rows: 0, expected: 1341, basis: 'the median of 2023-12..2024-02',
  });
  const ledger = { ...monthly.loan_daily, '2024-03': 402 };
  assert.deepEqual(judgeSliceVolume({ source: 'loan_daily', month: '2024-03', monthly: ledger, knownRows: null, minShare }), {
    source: 'loan_daily', month: '2024-03', rows: 402, expected: 805, basis: 'the median of 2023-12..2024-02',
  });
  assert.equal(judgeSliceVolume({ source: 'loan_daily', month: '2024-03', monthly: { ...ledger, '2024-03': 403 }, knownRows: null, minShare }), null, '403 is not below half of 805');
  // The next month is judged against a median that the emptied month does not pull down.
  assert.equal(judgeSliceVolume({ source: 'clickstream', month: '2024-04', monthly: emptied, knownRows: null, minShare }), null);
});

test('a file cut evenly across months is caught against the rows ingested before, and only that way', () => {
  // Half the clickstream lines (ordered by customer): 671 rows in 2023 (670 customers and one more), 670 in 2024.
  const half = Object.fromEntries(Object.keys(monthly.clickstream).map((month) => [month, month < '2024-01' ? 671 : 670]));
  assert.equal(judgeSliceVolume({ source: 'clickstream', month: '2024-03', monthly: half, knownRows: null, minShare }), null, 'read first: no history to judge by');
  assert.deepEqual(judgeSliceVolume({ source: 'clickstream', month: '2024-03', monthly: half, knownRows: 1341, minShare }), {
    source: 'clickstream', month: '2024-03', rows: 670, expected: 1341, basis: 'the rows ingested for this month before',
  });
  assert.equal(judgeSliceVolume({ source: 'clickstream', month: '2023-03', monthly: half, knownRows: 1341, minShare }), null, '671 is not below half of 1341');
});

test('a source that may stop (clickstream) is not incomplete after its last month; the ledger is', () => {
  const stopped = (rows: Record<string, number>) => Object.fromEntries(Object.entries(rows).filter(([month]) => month < '2024-07'));
  assert.equal(judgeSliceVolume({ source: 'clickstream', month: '2024-08', monthly: stopped(monthly.clickstream), knownRows: null, minShare }), null);
  assert.deepEqual(judgeSliceVolume({ source: 'loan_daily', month: '2024-07', monthly: stopped(monthly.loan_daily), knownRows: null, minShare })?.rows, 0);
  // A hole in clickstream (rows after it) is incomplete all the same.
  assert.equal(judgeSliceVolume({ source: 'clickstream', month: '2024-03', monthly: { ...monthly.clickstream, '2024-03': 0 }, knownRows: null, minShare })?.rows, 0);
  // Before a source's first month there is no history to judge: the ledger's early months grow from nothing.
  assert.equal(judgeSliceVolume({ source: 'loan_daily', month: '2023-01', monthly: monthly.loan_daily, knownRows: null, minShare }), null);
});
