import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectDateSpelling, monthUnder } from '../../core/etl/date-spelling.js';
import { InvalidSourceData } from '../../lib/errors.js';

const values = (...texts: string[]) => texts.map((value, index) => ({ value, line: index + 2 }));

describe('snapshot_date spelling detection', () => {
  it('recognises each known spelling from first-of-month values', () => {
    assert.equal(detectDateSpelling(values('2023-05-01', '2024-12-01'), 'f.csv'), 'YYYY-MM-DD');
    assert.equal(detectDateSpelling(values('5/1/23', '12/1/24'), 'f.csv'), 'M/d/yy');
    assert.equal(detectDateSpelling(values('5/1/2023', '12/1/2024'), 'f.csv'), 'M/d/yyyy');
    assert.equal(detectDateSpelling(values('1/5/2023', '1/12/2024'), 'f.csv'), 'd/M/yyyy');
    // A single non-January month already settles it: only M/d puts that value on the 1st.
    assert.equal(detectDateSpelling(values('2/1/2023'), 'f.csv'), 'M/d/yyyy');
    assert.equal(monthUnder('d/M/yyyy', '1/12/2024'), '2024-12');
    assert.equal(monthUnder('M/d/yy', '5/1/23'), '2023-05');
  });

  it('refuses an ambiguous file, naming file, column and line', () => {
    assert.throws(
      () => detectDateSpelling(values('1/1/23', '1/1/23'), 'fin.csv'),
      (error: unknown) =>
        error instanceof InvalidSourceData &&
        /fin\.csv, column 'snapshot_date', line 2: ambiguous date spelling/.test(error.message) &&
        /M\/d\/yy and d\/M\/yy/.test(error.message),
    );
    assert.throws(() => detectDateSpelling(values('1/1/2023'), 'f.csv'), /ambiguous/);
  });

  it('refuses an unknown spelling and points at the first inconsistent value', () => {
    assert.throws(() => detectDateSpelling(values('2023.05.01'), 'f.csv'), /line 2: unknown date spelling '2023\.05\.01'/);
    assert.throws(
      () => detectDateSpelling(values('5/1/23', '6/1/23', '6/15/23'), 'f.csv'),
      /line 4: date '6\/15\/23' is not a first-of-month date in the file's spelling M\/d\/yy/,
    );
    assert.throws(() => detectDateSpelling(values('2023-05-01', '5/1/23'), 'f.csv'), (e: unknown) => e instanceof InvalidSourceData);
  });
});
