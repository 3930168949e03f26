// One month's ETL: the summary that crosses Temporal (the month workflow's runMonthEtl activity returns it), and the
// stage order of both paths: the per-step path core/etl/month-etl.ts (plain calls, for tests and scripts) starts the
// steps of a stage together in SOURCES order, a stage when the one before it is done; the activity's path,
// core/etl/month-etl-session.ts, runs the same stages one step at a time on one connection. test/etl/gold-unchanged
// holds the two paths to the same partitions and lineage.
import { SOURCES, type Source } from './layout.js';
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


export interface MonthEtlSteps<Bronze, Silver, Features, Labels> {
  ingestBronze(source: Source): Promise<Bronze>;
  buildSilver(source: Source): Promise<Silver>;
  buildFeatureStore(): Promise<Features>;
  buildLabelStore(): Promise<Labels>;
}

export interface MonthEtlOutcome<Bronze, Silver, Features, Labels> {
  bronze: Bronze[];
  silver: Silver[];
  features: Features;
  labels: Labels;
}

export interface MonthEtlOrderOptions<Bronze> {
  /** Every step after the one before it (one DuckDB connection) instead of a stage's steps together. */
  oneAtATime?: boolean;
  /** Asked once bronze is done: false stops the month there (`stoppedAfterBronze`). */
  continueAfterBronze?: (bronze: Bronze[]) => boolean;
}

/** A month whose bronze made `continueAfterBronze` say no: nothing after bronze ran. */
export interface StoppedAfterBronze<Bronze> {
  stoppedAfterBronze: true;
  bronze: Bronze[];
}

/**
 * The stage order, written once for both paths: bronze of every source, then silver of every source, then the
 * feature store and the label store; the steps of a stage start together unless `oneAtATime`.
 */
export async function runInMonthEtlOrder<Bronze, Silver, Features, Labels>(
  steps: MonthEtlSteps<Bronze, Silver, Features, Labels>,
  options?: Omit<MonthEtlOrderOptions<Bronze>, 'continueAfterBronze'>,
): Promise<MonthEtlOutcome<Bronze, Silver, Features, Labels>>;
export async function runInMonthEtlOrder<Bronze, Silver, Features, Labels>(
  steps: MonthEtlSteps<Bronze, Silver, Features, Labels>,
  options: MonthEtlOrderOptions<Bronze>,
): Promise<MonthEtlOutcome<Bronze, Silver, Features, Labels> | StoppedAfterBronze<Bronze>>;
export async function runInMonthEtlOrder<Bronze, Silver, Features, Labels>(
  steps: MonthEtlSteps<Bronze, Silver, Features, Labels>,
  options: MonthEtlOrderOptions<Bronze> = {},
): Promise<MonthEtlOutcome<Bronze, Silver, Features, Labels> | StoppedAfterBronze<Bronze>> {
  const stage = async <T>(works: Array<() => Promise<T>>): Promise<T[]> => {
    if (!options.oneAtATime) return Promise.all(works.map((work) => work()));
    const results: T[] = [];
    for (const work of works) results.push(await work());
    return results;
  };
  const bronze = await stage(SOURCES.map((source) => () => steps.ingestBronze(source)));
  if (options.continueAfterBronze && !options.continueAfterBronze(bronze)) return { stoppedAfterBronze: true, bronze };
  const silver = await stage(SOURCES.map((source) => () => steps.buildSilver(source)));
  const [features, labels] = await stage<Features | Labels>([() => steps.buildFeatureStore(), () => steps.buildLabelStore()]);
  return { bronze, silver, features: features as Features, labels: labels as Labels };
}
