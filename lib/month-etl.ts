// One month's ETL: the summary that crosses Temporal (the month workflow's runMonthEtl activity returns it), and the
// stage order of the per-step path core/etl/month-etl.ts (plain calls, for tests and scripts): the steps of a stage
// start together in SOURCES order, and a stage starts when the one before it is done. The activity's path,
// core/etl/month-etl-session.ts, runs the same stages one step at a time on one connection; test/etl/gold-unchanged
// holds the two paths to the same partitions and lineage.
import { SOURCES, type Source } from './layout.js';
import type { Month } from './months.js';

/** The small summary of a month's ETL that goes through Temporal (no data, only counts). */
export interface MonthEtlSummary {
  month: Month;
  /** Bronze rows of the month over all sources (what the bench sums as rows ingested). */
  rows: number;
  bronzeRows: Record<Source, number>;
  silverRows: Record<Source, number>;
  quarantinedRows: Record<Source, number>;
  featureRows: number;
  labelRows: number;
  defaults: number;
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

/** Bronze of every source, then silver of every source, then the feature and label stores together. */
export async function runInMonthEtlOrder<Bronze, Silver, Features, Labels>(
  steps: MonthEtlSteps<Bronze, Silver, Features, Labels>,
): Promise<MonthEtlOutcome<Bronze, Silver, Features, Labels>> {
  const bronze = await Promise.all(SOURCES.map((source) => steps.ingestBronze(source)));
  const silver = await Promise.all(SOURCES.map((source) => steps.buildSilver(source)));
  const [features, labels] = await Promise.all([steps.buildFeatureStore(), steps.buildLabelStore()]);
  return { bronze, silver, features, labels };
}
