// Population stability (SPEC §4): bins on the baseline's deciles (outer bins open), proportions floored at 1e-4,
// PSI = Σ (actual − expected) · ln(actual / expected). CSI is the same computed per feature.
import { type Baseline, type Bins, type CategoricalBins, type NumericBins } from '../../lib/baseline.js';

export const PROPORTION_FLOOR = 1e-4;
export const DEFAULT_BIN_COUNT = 10;

export { baselineSchema, binsSchema, categoricalBinsSchema, numericBinsSchema } from '../../lib/baseline.js';
export type { Baseline, Bins, CategoricalBins, NumericBins } from '../../lib/baseline.js';

/** Linear-interpolation quantile (numpy's default, 'type 7') of sorted values. */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new Error('quantile of no values');
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
}

/** Inner edges of `binCount` equal-frequency bins, duplicates removed (discrete values give fewer bins). */
export function quantileEdges(values: readonly number[], binCount = DEFAULT_BIN_COUNT): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  const edges: number[] = [];
  for (let i = 1; i < binCount; i++) {
    const edge = quantileSorted(sorted, i / binCount);
    if (edges.length === 0 || edge > edges[edges.length - 1]) edges.push(edge);
  }
  return edges;
}

/** Index of the right-closed bin of `value` among inner `edges`: (-∞, e0], (e0, e1], …, (e_last, ∞). */
export function binIndex(value: number, edges: readonly number[]): number {
  let low = 0;
  let high = edges.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (value <= edges[mid]) high = mid;
    else low = mid + 1;
  }
  return low;
}

function proportions(counts: number[], total: number): number[] {
  return counts.map((count) => (total === 0 ? 0 : count / total));
}

export function numericProportions(values: ArrayLike<number | null>, edges: readonly number[], missing: boolean): number[] {
  const counts = new Array(edges.length + 1 + (missing ? 1 : 0)).fill(0);
  let total = 0;
  for (let row = 0; row < values.length; row++) {
    const value = values[row];
    if (value === null || Number.isNaN(value)) {
      if (!missing) continue;
      counts[counts.length - 1]++;
    } else {
      counts[binIndex(value, edges)]++;
    }
    total++;
  }
  return proportions(counts, total);
}

export function categoricalProportions(values: ArrayLike<string | null>, categories: readonly string[]): number[] {
  const index = new Map(categories.map((category, i) => [category, i]));
  const counts = new Array(categories.length + 2).fill(0);
  for (let row = 0; row < values.length; row++) {
    const value = values[row];
    if (value === null) counts[categories.length + 1]++;
    else counts[index.get(value) ?? categories.length]++;
  }
  return proportions(counts, values.length);
}

export function numericBins(values: readonly (number | null)[], binCount = DEFAULT_BIN_COUNT, withMissing = true): NumericBins {
  const present = values.filter((value): value is number => value !== null && !Number.isNaN(value));
  const edges = present.length > 0 ? quantileEdges(present, binCount) : [];
  return { kind: 'numeric', edges, expected: numericProportions(values, edges, withMissing), missing: withMissing };
}

export function categoricalBins(values: readonly (string | null)[]): CategoricalBins {
  const categories = [...new Set(values.filter((value): value is string => value !== null))].sort();
  return { kind: 'categorical', categories, expected: categoricalProportions(values, categories) };
}

/** PSI between expected and actual proportions of the same bins, both floored at 1e-4. */
export function psi(expected: readonly number[], actual: readonly number[]): number {
  if (expected.length !== actual.length) throw new Error(`PSI needs the same bins: ${expected.length} vs ${actual.length}`);
  let total = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.max(expected[i], PROPORTION_FLOOR);
    const a = Math.max(actual[i], PROPORTION_FLOOR);
    total += (a - e) * Math.log(a / e);
  }
  return total;
}

/** PSI of new values against stored bins (numeric or categorical). */
export function stabilityIndex(bins: Bins, values: ArrayLike<number | string | null>): number {
  const actual =
    bins.kind === 'numeric'
      ? numericProportions(values as ArrayLike<number | null>, bins.edges, bins.missing)
      : categoricalProportions(values as ArrayLike<string | null>, bins.categories);
  return psi(bins.expected, actual);
}

/** The baseline stored in a model's metadata: score deciles and per-feature bins of its training population. */
export function computeBaseline(
  scores: readonly number[],
  features: Record<string, readonly (number | string | null)[]>,
): Baseline {
  const featureBins: Record<string, Bins> = {};
  for (const [name, values] of Object.entries(features)) {
    const isCategorical = values.some((value) => typeof value === 'string');
    featureBins[name] = isCategorical
      ? categoricalBins(values as (string | null)[])
      : numericBins(values as (number | null)[]);
  }
  return { score: numericBins(scores, DEFAULT_BIN_COUNT, false), features: featureBins };
}
