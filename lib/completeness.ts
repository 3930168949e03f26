// Completeness of the source data, per source and month (issue 27): the shape of an incomplete slice, the structural
// expectations declared per source, and the sentences users read. Pure: workflows build their messages from it;
// core/datamart/completeness.ts judges the volumes.
import { z } from 'zod';
import { SOURCES, type Source } from './layout.js';
import { monthSchema, type Month } from './months.js';

/** How many months before a month its volume is compared with (the median of their row counts). */
export const VOLUME_REFERENCE_MONTHS = 3;

/**
 * What each source's presence may legitimately do, declared where it is structural rather than learned. A source that
 * `mayStop` may end for good (no rows in any later month of the file): its months after the last one with rows are not
 * holes. The ledger has rows every month once loans exist; attributes and financials have a row per application, so
 * every month of the span; clickstream is an optional feed that may stop (its coverage of applicants is a data
 * finding of monitoring, never a completeness failure).
 */
export const SOURCE_PRESENCE: Record<Source, { mayStop: boolean }> = {
  attributes: { mayStop: false },
  financials: { mayStop: false },
  clickstream: { mayStop: true },
  loan_daily: { mayStop: false },
};

export const incompleteSliceSchema = z.object({
  source: z.enum(SOURCES),
  month: monthSchema,
  /** Rows the current source file has for the month. */
  rows: z.number().int().min(0),
  /** The volume it was judged against. */
  expected: z.number().min(0),
  /** What `expected` is, for people: "the median of 2023-01..2023-03" or "the rows ingested before". */
  basis: z.string().min(1),
});
export type IncompleteSlice = z.infer<typeof incompleteSliceSchema>;

/** "clickstream 2023-04: 0 rows against 1341 (the median of 2023-01..2023-03)". */
export function describeIncompleteSlice(slice: IncompleteSlice): string {
  return `${slice.source} ${slice.month}: ${slice.rows} rows against ${slice.expected} (${slice.basis})`;
}

/** The months of a list of incomplete slices, oldest first, without repeats. */
export function incompleteMonths(slices: readonly IncompleteSlice[]): Month[] {
  return [...new Set(slices.map((slice) => slice.month))].sort();
}

/** Why a training is blocked by incomplete slices, with the way out. */
export function trainingBlockedByIncomplete(asOf: Month, slices: readonly IncompleteSlice[]): string {
  const months = incompleteMonths(slices);
  return (
    `no training as of ${asOf}: incomplete source data: ${slices.map(describeIncompleteSlice).join('; ')}; ` +
    `fix the source file(s) and rerun, or accept a known gap with --accept-incomplete ${months.join(',')} --reason TEXT`
  );
}

/** An operator's acceptance of a known gap: the incomplete slices of `month` with exactly these row counts. */
export const acceptedGapSchema = z.object({
  month: monthSchema,
  source: z.enum(SOURCES),
  rows: z.number().int().min(0),
  reason: z.string().min(1),
  accepted_at: z.string().min(1),
  workflow_id: z.string().min(1),
});
export type AcceptedGap = z.infer<typeof acceptedGapSchema>;

/** Whether an acceptance covers a slice: same source and month, and the data still has the row count accepted. */
export function isAccepted(slice: IncompleteSlice, accepted: readonly AcceptedGap[]): boolean {
  return accepted.some((gap) => gap.source === slice.source && gap.month === slice.month && gap.rows === slice.rows);
}
