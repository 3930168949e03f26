// Adversarial edits of a copy of the real sample, one class of bad input each, and what the month's ETL makes of
// them: refused, the month failed for data quality, rows quarantined with a reason, values kept as NULL and counted,
// a data finding, or gold unchanged. Never "silent": gold changed with none of those to show for it. Used by the
// defect tests (test/etl/bad-numbers.test.ts) and the mutation suite (test/mutations/, npm run test:mutations), which
// writes docs/bad-input.md's table.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SOURCE_FILES, type Source } from '../../lib/layout.js';
import { parseCsv } from './csv.js';

/** The month of a sample date, ISO (2023-05-01) or M/d/yy (5/1/23, financials). */
export function monthOfSampleDate(value: string): string | null {
  const iso = /^(\d{4})-(\d{2})-\d{2}$/.exec(value.trim());
  if (iso) return `${iso[1]}-${iso[2]}`;
  const us = /^(\d{1,2})\/\d{1,2}\/(\d{2})$/.exec(value.trim());
  return us ? `20${us[2]}-${us[1].padStart(2, '0')}` : null;
}

function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * Rewrites the rows of `month` of one source file with `edit` (columns by name; `index` counts the month's rows);
 * returns how many rows of the month it saw. Other rows are written back with the same values.
 */
export function editMonthRows(sourceDir: string, source: Source, month: string, edit: (row: Record<string, string>, index: number) => void): number {
  const path = join(sourceDir, SOURCE_FILES[source]);
  const { header, rows } = parseCsv(readFileSync(path, 'utf8'));
  let seen = 0;
  for (const row of rows) if (monthOfSampleDate(row.snapshot_date) === month) edit(row, seen++);
  writeFileSync(path, [header.join(','), ...rows.map((row) => header.map((column) => csvField(row[column] ?? '')).join(','))].join('\n') + '\n');
  return seen;
}

/** A 400-digit number: DuckDB casts it to Infinity. */
export const OVERFLOWING_NUMBER = '9'.repeat(400);

/** One class of bad input: a name, what it does to the sample, and the outcomes it may have (any other fails). */
export interface MutationClass {
  name: string;
  /** The month it damages (its ETL is what is run). */
  month: string;
  apply: (sourceDir: string) => void;
  /** Acceptable outcomes; the suite asserts the observed one is among them. */
  expect: Outcome[];
}

export type Outcome =
  | 'refused (InvalidSourceData)'
  | 'month failed (DataQualityError)'
  | 'rows quarantined with a reason'
  | 'values kept as NULL, counted per column'
  | 'data finding'
  | 'gold unchanged';

const MONTH = '2023-07';
const rewrite = (sourceDir: string, source: Source, edit: (text: string) => string) => {
  const path = join(sourceDir, SOURCE_FILES[source]);
  writeFileSync(path, edit(readFileSync(path, 'utf8')));
};

export const MUTATION_CLASSES: MutationClass[] = [
  {
    name: 'overflowing number (400 digits) in clickstream fe_1',
    month: MONTH,
    apply: (dir) => void editMonthRows(dir, 'clickstream', MONTH, (row, i) => i === 3 && (row.fe_1 = OVERFLOWING_NUMBER)),
    expect: ['values kept as NULL, counted per column'],
  },
  {
    name: 'overflowing number in the ledger overdue_amt',
    month: MONTH,
    apply: (dir) => void editMonthRows(dir, 'loan_daily', MONTH, (row, i) => i === 5 && (row.overdue_amt = OVERFLOWING_NUMBER)),
    expect: ['rows quarantined with a reason'],
  },
  {
    name: 'due_amt so small the label overflows (deterministic SQL error)',
    month: MONTH,
    apply: (dir) => void editMonthRows(dir, 'loan_daily', MONTH, (row) => row.installment_num === '6' && Number(row.overdue_amt) > 0 && (row.due_amt = '0.000000001')),
    expect: ['refused (InvalidSourceData)'],
  },
  {
    name: 'Annual_Income negative for every row of a month',
    month: MONTH,
    apply: (dir) => void editMonthRows(dir, 'financials', MONTH, (row) => (row.Annual_Income = '-5000')),
    expect: ['month failed (DataQualityError)'],
  },
  {
    name: 'Annual_Income NaN for every row of a month',
    month: MONTH,
    apply: (dir) => void editMonthRows(dir, 'financials', MONTH, (row) => (row.Annual_Income = 'NaN')),
    expect: ['month failed (DataQualityError)'],
  },
  {
    name: 'Annual_Income 10^12 for every row of a month',
    month: MONTH,
    apply: (dir) => void editMonthRows(dir, 'financials', MONTH, (row) => (row.Annual_Income = '1000000000000')),
    expect: ['month failed (DataQualityError)'],
  },
  {
    name: 'Interest_Rate blank for every row of a month (present the month before)',
    month: MONTH,
    apply: (dir) => void editMonthRows(dir, 'financials', MONTH, (row) => (row.Interest_Rate = '')),
    expect: ['data finding'],
  },
  {
    name: 'Age out of range in a few rows',
    month: MONTH,
    apply: (dir) => void editMonthRows(dir, 'attributes', MONTH, (row, i) => i < 3 && (row.Age = '8000')),
    expect: ['values kept as NULL, counted per column'],
  },
  {
    name: 'negative ledger amount',
    month: MONTH,
    apply: (dir) => void editMonthRows(dir, 'loan_daily', MONTH, (row, i) => i === 2 && (row.paid_amt = '-1.0')),
    expect: ['rows quarantined with a reason'],
  },
  {
    name: 'conflicting duplicate ledger row',
    month: MONTH,
    apply: (dir) =>
      rewrite(dir, 'loan_daily', (text) => {
        const row = text.split('\n').find((line) => line.endsWith(`,${MONTH}-01`))!;
        return `${text.trimEnd()}\n${row.replace(/,([0-9.]+),([0-9.]+),([^,]+)$/, ',123.0,$2,$3')}\n`;
      }),
    expect: ['rows quarantined with a reason'],
  },
  {
    name: 'truncated last row',
    month: MONTH,
    apply: (dir) => rewrite(dir, 'financials', (text) => text.trimEnd().slice(0, -60)),
    expect: ['refused (InvalidSourceData)'],
  },
  {
    name: 'missing required column',
    month: MONTH,
    apply: (dir) => rewrite(dir, 'loan_daily', (text) => text.replace('overdue_amt', 'overdue')),
    expect: ['refused (InvalidSourceData)'],
  },
  {
    name: 'empty file',
    month: MONTH,
    apply: (dir) => rewrite(dir, 'attributes', () => ''),
    expect: ['refused (InvalidSourceData)'],
  },
  {
    name: 'non-UTF-8 bytes',
    month: MONTH,
    apply: (dir) => {
      const path = join(dir, SOURCE_FILES.attributes);
      const bytes = readFileSync(path);
      writeFileSync(path, Buffer.concat([bytes.subarray(0, 5000), Buffer.from([0xe9, 0xff]), bytes.subarray(5000)]));
    },
    expect: ['refused (InvalidSourceData)'],
  },
  {
    name: 'byte-order mark before the header',
    month: MONTH,
    apply: (dir) => rewrite(dir, 'attributes', (text) => `\ufeff${text}`),
    expect: ['refused (InvalidSourceData)', 'gold unchanged'],
  },
  {
    name: 'CRLF line ends',
    month: MONTH,
    apply: (dir) => rewrite(dir, 'loan_daily', (text) => text.replace(/\n/g, '\r\n')),
    expect: ['refused (InvalidSourceData)', 'gold unchanged'],
  },
  {
    name: 'SQL injection text in a text field',
    month: MONTH,
    apply: (dir) => void editMonthRows(dir, 'attributes', MONTH, (row, i) => i === 1 && (row.Name = "x'); DROP TABLE bronze; --")),
    expect: ['gold unchanged'],
  },
  {
    name: 'ambiguous date spelling',
    month: MONTH,
    apply: (dir) => rewrite(dir, 'financials', (text) => text.split('\n').map((line, i) => (i === 0 || !line ? line : line.replace(/,[^,]*$/, ',1/1/23'))).join('\n')),
    expect: ['refused (InvalidSourceData)'],
  },
];
