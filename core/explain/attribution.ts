// Model-level attribution: each raw feature's mean |contribution| (the global importance that matches the local
// explanations, unlike libxgboost's gain or weight), on the model's train and OOT sets at registration, and per
// application month from gold/explanations in monitoring. Attribution drift is the shift of each feature's share of
// the total |contribution| of a month against its share on the training set.
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ModelMetadata } from '../../lib/contracts.js';
import { datamart, partitionFile } from '../../lib/layout.js';
import type { Month } from '../../lib/months.js';
import { queryRows, sqlString } from '../duckdb.js';
import { fileIdentity } from '../file-identity.js';
import { MonitoringInputError } from '../../lib/errors.js';
export { attributionBaselineOf, ATTRIBUTION_SAMPLE_ROWS, meanAbsoluteContributions } from './attribution-baseline.js';

/** Each feature's share of the total mean |contribution| (shares sum to 1; all 0 when nothing contributes). */
export function attributionShares(meanAbsolute: Readonly<Record<string, number>>): Record<string, number> {
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

export function attributionShift(baseline: Readonly<Record<string, number>>, month: Readonly<Record<string, number>>): AttributionShift {
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

/**
 * Means already computed in this process, by partition file, its identity and the features asked for. A partition is
 * replaced by a rename (a new inode), so an entry never outlives what it was computed from. renderDashboard's drivers
 * read the months computeMonitoring has just read: without it every month's JSON was parsed twice per monitoring run.
 */
const computedMeans = new Map<string, Readonly<Record<string, number>> | null>();
/** Entries kept (a few bytes per feature each): two years of months for dozens of models; the oldest go first. */
const COMPUTED_MEANS_LIMIT = 5_000;

/**
 * Mean |contribution| per raw feature of each month's explanations by the model, for the months that have some (a
 * month without a partition, or with an empty one, is left out). The months not computed before are read in one
 * query: each row's JSON parsed once into a struct of every feature (json_transform_strict: a value that is not a
 * number, or a feature the row lacks, is an error, not a NULL). Against a json_extract of every path per month, cast
 * feature by feature, it took about a quarter of the time on 24 months of 59 features, with equal means.
 */
export async function monthsMeanAbsoluteContributions(
  db: DuckDBConnection,
  datamartDir: string,
  modelId: string,
  months: readonly Month[],
  features: readonly string[],
): Promise<Map<Month, Readonly<Record<string, number>>>> {
  const found = new Map<Month, Readonly<Record<string, number>>>();
  const pending: { month: Month; file: string; key: string }[] = [];
  for (const month of months) {
    const file = partitionFile(datamart.explanations(datamartDir, modelId), month);
    // A month without a partition is left out (fileIdentity rejects on a missing file).
    const identity = await fileIdentity(file).catch(() => null);
    if (identity === null) continue;
    const key = `${file}\n${identity}\n${features.join('\n')}`;
    const known = computedMeans.get(key);
    if (known === undefined) pending.push({ month, file, key });
    else if (known !== null) found.set(month, known);
  }
  if (pending.length === 0) return found;
  const structure = sqlString(JSON.stringify(Object.fromEntries(features.map((feature) => [feature, 'DOUBLE']))));
  // by position: struct field names are case-insensitive in DuckDB, feature names need not be
  const means = features.map((_, index) => `avg(abs(struct_extract_at(contribution, ${index + 1}))) AS f${index}`);
  const files = `[${pending.map(({ file }) => sqlString(file)).join(', ')}]`;
  let rows: Record<string, unknown>[];
  try {
    rows = await queryRows(
      db,
      `SELECT filename, count(*) AS n${means.length > 0 ? `, ${means.join(', ')}` : ''}
       FROM (SELECT filename, json_transform_strict(contributions, ${structure}) AS contribution FROM read_parquet(${files}, filename = true))
       GROUP BY filename`,
    );
  } catch (error) {
    // A row lacking a feature or holding a non-number is bad input, for good; anything else (a partition replaced
    // while it was read) is thrown as it came, for the activity's retry.
    const message = error instanceof Error ? error.message : String(error);
    if (!/^(Invalid Input|Conversion) Error/.test(message)) throw error;
    const directory = datamart.explanations(datamartDir, modelId);
    throw new MonitoringInputError(directory, `contributions of ${pending.map(({ month }) => month).join(', ')}: ${message}`);
  }
  const byFile = new Map(rows.map((row) => [String(row.filename), row]));
  for (const { month, file, key } of pending) {
    const row = byFile.get(file);
    const monthMeans = row && Number(row.n) > 0 ? Object.freeze(Object.fromEntries(features.map((feature, index) => [feature, Number(row[`f${index}`] ?? 0)]))) : null;
    if (computedMeans.size >= COMPUTED_MEANS_LIMIT) computedMeans.delete(computedMeans.keys().next().value!);
    computedMeans.set(key, monthMeans);
    if (monthMeans) found.set(month, monthMeans);
  }
  return found;
}

/** The attribution drift of a month whose mean |contributions| are `now` (NULLs when either it or the baseline is missing). */
export function attributionShiftOf(metadata: ModelMetadata, now: Readonly<Record<string, number>> | undefined): { [K in keyof AttributionShift]: AttributionShift[K] | null } {
  return metadata.attribution && now ? attributionShift(metadata.attribution.train, now) : NO_SHIFT;
}
