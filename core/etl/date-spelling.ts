// Per-file detection of how `snapshot_date` is spelled. Snapshots are always the 1st of a month, so a spelling is
// consistent with a file only if every value parses under it to a day-1 date; exactly one consistent spelling is
// accepted, none (unknown spelling) or several (ambiguous, e.g. every value '1/1/23') is refused, never guessed.
import { InvalidSourceData } from '../../lib/errors.js';

export const DATE_SPELLINGS = ['YYYY-MM-DD', 'M/d/yy', 'M/d/yyyy', 'd/M/yy', 'd/M/yyyy'] as const;
export type DateSpelling = (typeof DATE_SPELLINGS)[number];

/** DuckDB strptime formats (%m and %d accept one or two digits). */
export const STRPTIME_FORMAT: Record<DateSpelling, string> = {
  'YYYY-MM-DD': '%Y-%m-%d',
  'M/d/yy': '%m/%d/%y',
  'M/d/yyyy': '%m/%d/%Y',
  'd/M/yy': '%d/%m/%y',
  'd/M/yyyy': '%d/%m/%Y',
};

interface YearMonthDay {
  year: number;
  month: number;
  day: number;
}

/** Parses `value` under `spelling`; null when it does not match or is not a real date. */
export function parseUnder(spelling: DateSpelling, value: string): YearMonthDay | null {
  const text = value.trim();
  let parts: YearMonthDay | null = null;
  if (spelling === 'YYYY-MM-DD') {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
    if (m) parts = { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
  } else {
    const m = /^(\d{1,2})\/(\d{1,2})\/(\d{2}|\d{4})$/.exec(text);
    const longYear = spelling.endsWith('yyyy');
    if (m && (m[3].length === 4) === longYear) {
      const year = longYear ? Number(m[3]) : 2000 + Number(m[3]);
      const [month, day] = spelling.startsWith('M/') ? [Number(m[1]), Number(m[2])] : [Number(m[2]), Number(m[1])];
      parts = { year, month, day };
    }
  }
  if (!parts || parts.month < 1 || parts.month > 12 || parts.day < 1 || parts.day > 31) return null;
  return parts;
}

function isFirstOfMonth(spelling: DateSpelling, value: string): boolean {
  return parseUnder(spelling, value)?.day === 1;
}

export interface DateValue {
  value: string;
  /** The first line of the file holding this value. */
  line: number;
}

/** The single spelling consistent with every value; throws InvalidSourceData naming file, column and line otherwise. */
export function detectDateSpelling(values: DateValue[], file: string, column = 'snapshot_date'): DateSpelling {
  if (values.length === 0) throw new InvalidSourceData({ file, column }, 'no date values to detect the spelling from');
  const consistent = DATE_SPELLINGS.filter((spelling) => values.every(({ value }) => isFirstOfMonth(spelling, value)));
  if (consistent.length === 1) return consistent[0];
  const sorted = [...values].sort((a, b) => a.line - b.line);
  if (consistent.length > 1) {
    throw new InvalidSourceData(
      { file, column, line: sorted[0].line },
      `ambiguous date spelling: every value (e.g. '${sorted[0].value}') fits ${consistent.join(' and ')}; refusing to guess`,
    );
  }
  // Name the spelling that fits most values and the first value it rejects: that line is where the file goes wrong.
  const best = DATE_SPELLINGS.map((spelling) => ({
    spelling,
    fits: values.filter(({ value }) => isFirstOfMonth(spelling, value)).length,
  })).sort((a, b) => b.fits - a.fits)[0];
  const offender = sorted.find(({ value }) => !isFirstOfMonth(best.spelling, value)) ?? sorted[0];
  throw new InvalidSourceData(
    { file, column, line: offender.line },
    best.fits === 0
      ? `unknown date spelling '${offender.value}' (expected one of ${DATE_SPELLINGS.join(', ')}, always the 1st of a month)`
      : `date '${offender.value}' is not a first-of-month date in the file's spelling ${best.spelling}`,
  );
}

/** 'YYYY-MM' of a value under a spelling (the caller has checked it parses). */
export function monthUnder(spelling: DateSpelling, value: string): string {
  const parts = parseUnder(spelling, value);
  if (!parts) throw new Error(`'${value}' does not parse as ${spelling}`);
  return `${String(parts.year).padStart(4, '0')}-${String(parts.month).padStart(2, '0')}`;
}
