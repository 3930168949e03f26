// Model-level attribution: each raw feature's mean |contribution| (the global importance that matches the local
// explanations, unlike libxgboost's gain or weight), on the model's train and OOT sets at registration, and per
// application month from gold/explanations in monitoring. Attribution drift is the shift of each feature's share of
// the total |contribution| of a month against its share on the training set.
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ModelMetadata } from '../../lib/contracts.js';
import { datamart, partitionFile } from '../../lib/layout.js';
import type { Month } from '../../lib/months.js';
import { queryRows, readParquet, sqlString } from '../duckdb.js';
import { exists } from '../files.js';
export { attributionBaselineOf, ATTRIBUTION_SAMPLE_ROWS, meanAbsoluteContributions } from './attribution-baseline.js';

/** Each feature's share of the total mean |contribution| (shares sum to 1; all 0 when nothing contributes). */
export function attributionShares(meanAbsolute: Record<string, number>): Record<string, number> {
  const total = Object.values(meanAbsolute).reduce((a, b) => a + b, 0);
  return Object.fromEntries(Object.entries(meanAbsolute).map(([feature, value]) => [feature, total > 0 ? value / total : 0]));
}

export interface AttributionShift {
  /** Total variation between the month's shares and the baseline's: ½ Σ |share − baseline share|, in [0, 1]. */
  attribution_shift: number;
  /** The feature whose share moved most, and by how much (signed: positive, it explains more of the scores). */
  max_attribution_shift_feature: string | null;
  max_attribution_shift: number | null;
}

export function attributionShift(baseline: Record<string, number>, month: Record<string, number>): AttributionShift {
  const base = attributionShares(baseline);
  const now = attributionShares(month);
  let total = 0;
  let feature: string | null = null;
  let largest: number | null = null;
  for (const name of new Set([...Object.keys(base), ...Object.keys(now)])) {
    const shift = (now[name] ?? 0) - (base[name] ?? 0);
    total += Math.abs(shift);
    if (largest === null || Math.abs(shift) > Math.abs(largest)) [feature, largest] = [name, shift];
  }
  return { attribution_shift: total / 2, max_attribution_shift_feature: feature, max_attribution_shift: largest };
}

const NO_SHIFT: AttributionShift = { attribution_shift: null as unknown as number, max_attribution_shift_feature: null, max_attribution_shift: null };

/** Mean |contribution| per raw feature of a month's explanations by the model; null when the month has none. */
export async function monthMeanAbsoluteContributions(db: DuckDBConnection, datamartDir: string, modelId: string, month: Month, features: readonly string[]): Promise<Record<string, number> | null> {
  const file = partitionFile(datamart.explanations(datamartDir, modelId), month);
  if (!(await exists(file))) return null;
  // One json_extract with every path parses each row's JSON once; a json_extract per feature parsed it once per
  // feature (about ten times the time, measured on 5,000 and 50,000 rows of 35 features, with equal means).
  const paths = `[${features.map((feature) => sqlString(`$."${feature}"`)).join(', ')}]`;
  const means = features.map((_, index) => `avg(abs(CAST(contribution[${index + 1}] AS DOUBLE))) AS f${index}`);
  const [row] = await queryRows(
    db,
    `SELECT count(*) AS n, ${means.join(', ')} FROM (SELECT json_extract(contributions, ${paths}) AS contribution FROM ${readParquet(file)})`,
  );
  if (!row || Number(row.n) === 0) return null;
  return Object.fromEntries(features.map((feature, index) => [feature, Number(row[`f${index}`] ?? 0)]));
}

/** A month's attribution drift against the model's training baseline (NULLs when either is missing). */
export async function monthAttributionShift(db: DuckDBConnection, datamartDir: string, metadata: ModelMetadata, month: Month): Promise<{ [K in keyof AttributionShift]: AttributionShift[K] | null }> {
  if (!metadata.attribution) return NO_SHIFT;
  const now = await monthMeanAbsoluteContributions(db, datamartDir, metadata.model_id, month, metadata.features);
  return now ? attributionShift(metadata.attribution.train, now) : NO_SHIFT;
}
