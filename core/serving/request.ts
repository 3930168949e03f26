// The body of POST /v1/score: one loan application (or a batch) as raw source records, every value the text of its
// CSV field (null or '' for an empty field), exactly the columns of SPEC §1 per source. Each record is placed in its
// month by its own snapshot_date, read under whichever date spelling of the sources makes it a first-of-month date.
import { z } from 'zod';
import type { Source } from '../../lib/layout.js';
import { type Month } from '../../lib/months.js';
import { DATE_SPELLINGS, monthUnder, parseUnder, type DateSpelling } from '../etl/date-spelling.js';
import { REQUIRED_COLUMNS } from '../etl/source-columns.js';
import { numberShaped, numericColumn } from '../../lib/column-ranges.js';

/** Longest raw field accepted: the longest real one (Type_of_Loan) is under 200 characters. */
export const MAX_FIELD_CHARS = 1000;
/** Clickstream rows accepted per application: the 3-month lookback needs 4 at most, history is ignored. */
export const MAX_CLICKSTREAM_ROWS = 64;

export type RawRecord = Record<string, string | null>;

/**
 * A raw record: exactly its source's columns, each a field of at most MAX_FIELD_CHARS characters or null. For a numeric
 * column of lib/column-ranges.ts (the batch cleaning's table), a number-shaped value must be a finite number: a
 * 400-digit field would be Infinity, which batch counts as out of range and no application can mean. A finite value
 * outside the column's range is treated as batch treats it (NULL for a `null` column, the application rejected for a
 * `quarantine` one), so the real data's dirt scores online as it does in batch.
 *
 * One check per record rather than a refinement per field: an application carries ~500 numeric fields (24 clickstream
 * rows of 20), and zod's per-refinement overhead made the request check cost four times the old schema's.
 */
function rawRecordSchema(source: Source) {
  const field = z.string().max(MAX_FIELD_CHARS).nullable();
  const numeric = REQUIRED_COLUMNS[source].flatMap((column) => {
    const range = numericColumn(source, column);
    return range ? [{ column, range, message: `not a finite number (the column's range is [${range.min}, ${range.max}])` }] : [];
  });
  const record = z.strictObject(Object.fromEntries(REQUIRED_COLUMNS[source].map((column) => [column, field])));
  if (numeric.length === 0) return record;
  return record.superRefine((values, context) => {
    for (const { column, range, message } of numeric) {
      const value = values[column];
      // Without an exponent, a number-shaped value needs over 308 digits before its point to overflow to Infinity.
      if (value === null || value === undefined || value.length <= FINITE_NUMBER_CHARS) continue;
      const number = numberShaped(value, range.kind);
      if (number !== null && !Number.isFinite(number)) context.addIssue({ code: 'custom', path: [column], message });
    }
  });
}

/** Longest text that cannot hold an overflowing number: Infinity needs 309 digits (the largest double is ~1.8e308). */
const FINITE_NUMBER_CHARS = 308;

export const applicationSchema = z.strictObject({
  /** The loan's first ledger row (installment_num 0), in the month of the application. */
  loan: rawRecordSchema('loan_daily'),
  /** The applicant's attributes and financials rows of the application month; null when there is none. */
  attributes: rawRecordSchema('attributes').nullable(),
  financials: rawRecordSchema('financials').nullable(),
  /** The applicant's clickstream rows; those outside the 3-month lookback before the application are not used. */
  clickstream: z.array(rawRecordSchema('clickstream')).max(MAX_CLICKSTREAM_ROWS).default([]),
});
export type RawApplication = z.infer<typeof applicationSchema>;

export function scoreRequestSchema(maxBatch: number) {
  return z
    .strictObject({
      application: applicationSchema.optional(),
      applications: z.array(applicationSchema).min(1).max(maxBatch).optional(),
    })
    .refine((body) => (body.application === undefined) !== (body.applications === undefined), {
      message: 'give exactly one of "application" (one) or "applications" (a batch)',
    });
}

/** A readable list of zod issues: `path: reason` each (values are never echoed: they are personal data). */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 10)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : 'body'}: ${issue.message}`)
    .join('; ');
}

export class RequestProblem extends Error {}

/** The month of a record's snapshot_date and the spellings under which it is a first-of-month date. */
export function recordMonth(record: RawRecord, where: string): { month: Month; spellings: DateSpelling[] } {
  const value = record.snapshot_date?.trim() ?? '';
  if (!value) throw new RequestProblem(`${where}.snapshot_date: required to place the record in its month`);
  const spellings = DATE_SPELLINGS.filter((spelling) => parseUnder(spelling, value)?.day === 1);
  const months = new Set(spellings.map((spelling) => monthUnder(spelling, value)));
  if (months.size === 0) {
    throw new RequestProblem(`${where}.snapshot_date: not a first-of-month date in any of ${DATE_SPELLINGS.join(', ')}`);
  }
  if (months.size > 1) throw new RequestProblem(`${where}.snapshot_date: ambiguous (fits ${spellings.join(' and ')} with different months)`);
  return { month: [...months][0], spellings };
}

/**
 * The spelling the ledger's loan_start_date is read under: among those that fit its snapshot_date, one under which
 * loan_start_date parses (the batch path uses the file's spelling; a ledger row spells both dates alike).
 */
export function loanDateSpelling(loan: RawRecord, spellings: DateSpelling[]): DateSpelling {
  const start = loan.loan_start_date?.trim() ?? '';
  const parsing = spellings.filter((spelling) => parseUnder(spelling, start) !== null);
  const dates = new Set(parsing.map((spelling) => JSON.stringify(parseUnder(spelling, start))));
  if (dates.size > 1) throw new RequestProblem(`loan.loan_start_date: ambiguous (fits ${parsing.join(' and ')} with different dates)`);
  return parsing[0] ?? spellings[0];
}
