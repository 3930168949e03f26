// What a set of feature-store rows looks like: the NULL share of each feature and how many rows each source covers.
// Measured at training (the model's data baseline) and again on every month by monitoring.
import type { DataBaseline } from '../../lib/baseline.js';
import type { Source } from '../../lib/layout.js';
import { FEATURE_SOURCES } from '../etl/feature-store.js';

const isNull = (value: unknown) => value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value));

/** The sources of the features given (features of no known source, e.g. in tests, are left out). */
export function sourcesOf(features: readonly string[]): Map<Source, string[]> {
  const bySource = new Map<Source, string[]>();
  for (const feature of features) {
    const source = FEATURE_SOURCES[feature];
    if (source) bySource.set(source, [...(bySource.get(source) ?? []), feature]);
  }
  return bySource;
}

/** Per row: is it covered by `source`, i.e. is at least one of that source's features not NULL. */
export function coveredBy(features: Record<string, ArrayLike<unknown>>, sourceFeatures: readonly string[], rows: number): boolean[] {
  const covered = new Array<boolean>(rows).fill(false);
  for (const feature of sourceFeatures) {
    const values = features[feature];
    if (!values) continue;
    for (let row = 0; row < rows; row++) if (!covered[row] && !isNull(values[row])) covered[row] = true;
  }
  return covered;
}

/** NULL share per feature and coverage per source of a set of rows: the baseline at training, the month in monitoring. */
export function dataProfile(features: Record<string, ArrayLike<unknown>>, rows: number): DataBaseline {
  const nullRate: Record<string, number> = {};
  for (const [feature, values] of Object.entries(features)) {
    let nulls = 0;
    for (let row = 0; row < rows; row++) if (isNull(values[row])) nulls++;
    nullRate[feature] = rows === 0 ? 0 : nulls / rows;
  }
  const coverage: DataBaseline['coverage'] = {};
  for (const [source, sourceFeatures] of sourcesOf(Object.keys(features))) {
    const covered = coveredBy(features, sourceFeatures, rows).filter(Boolean).length;
    coverage[source] = rows === 0 ? 0 : covered / rows;
  }
  return { rows, null_rate: nullRate, coverage };
}
