// One month's ETL summary, what crosses Temporal: the month workflow's runMonthEtl activity returns it
// (core/datamart/materialize.ts summarizeMonthEtl).
import type { Source } from './layout.js';
import type { Month } from './months.js';
import type { IncompleteSlice } from './completeness.js';

/** The small summary of a month's ETL that goes through Temporal (no data, only counts). */
export interface MonthEtlSummary {
  month: Month;
  /** Bronze rows of the month over all sources (what the bench sums as rows ingested). */
  rows: number;
  bronzeRows: Record<Source, number>;
  silverRows: Record<Source, number>;
  quarantinedRows: Record<Source, number>;
  /** Values given but kept as NULL (out of their range in lib/column-ranges.ts, or unreadable), per source. */
  nulledValues?: Record<Source, number>;
  /** The counts above per column, with the range and the first line: `<source> <month>: column C: n of m values …`. */
  nulls?: string[];
  /** Data findings of the month: a numeric column with no usable value although the month before had some. */
  findings?: string[];
  featureRows: number;
  labelRows: number;
  defaults: number;
  /** The month's source slices judged incomplete (lib/completeness.ts): its gold is marked so, no training reads it. */
  incomplete: IncompleteSlice[];
}

