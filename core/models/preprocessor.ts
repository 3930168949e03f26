// The preprocessor turns feature-store rows into the model's numeric matrix: feature order, one-hot encodings of
// categorical columns, and what to do with missing numbers. It is fitted on the training months only and stored
// as preprocessor.json beside each model, so scoring applies exactly what training did.
import { z } from 'zod';

/** Keys of the feature store; every other column is a feature. */
export const KEY_COLUMNS = ['loan_id', 'Customer_ID', 'snapshot_date'] as const;

/** Categories kept per categorical feature: the most frequent ones seen in training, each at least this often. */
export const MAX_CATEGORIES = 30;
export const MIN_CATEGORY_COUNT = 5;

const numericFeatureSchema = z.object({
  name: z.string().min(1),
  kind: z.literal('numeric'),
  /** Training median, used when `missing` is 'impute' (and recorded for reference otherwise). */
  impute: z.number(),
});
const categoricalFeatureSchema = z.object({
  name: z.string().min(1),
  kind: z.literal('categorical'),
  /** One-hot columns, in order; any other value (and NULL) encodes as all zeros. */
  categories: z.array(z.string()),
});
export const preprocessorFeatureSchema = z.discriminatedUnion('kind', [numericFeatureSchema, categoricalFeatureSchema]);
export type PreprocessorFeature = z.infer<typeof preprocessorFeatureSchema>;

export const preprocessorSchema = z.object({
  version: z.literal(1),
  /** 'native': missing numbers stay NaN (trees learn a default direction); 'impute': replaced by the median. */
  missing: z.enum(['native', 'impute']),
  features: z.array(preprocessorFeatureSchema).min(1),
  /** Names of the encoded matrix columns, in order. */
  encoded: z.array(z.string()).min(1),
});
export type Preprocessor = z.infer<typeof preprocessorSchema>;

export type FeatureKind = 'numeric' | 'categorical';
export interface FeatureColumn {
  name: string;
  kind: FeatureKind;
}
export type FeatureRow = Record<string, unknown>;

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function numberOrNull(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const number = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(number) ? number : null;
}

function encodedNames(features: readonly PreprocessorFeature[]): string[] {
  return features.flatMap((feature) =>
    feature.kind === 'numeric' ? [feature.name] : feature.categories.map((category) => `${feature.name}=${category}`),
  );
}

/** Fits the encodings on training rows. A categorical column keeps its frequent categories only. */
export function fitPreprocessor(columns: readonly FeatureColumn[], trainRows: readonly FeatureRow[]): Preprocessor {
  if (columns.length === 0) throw new Error('the feature store has no feature column besides its keys');
  const features: PreprocessorFeature[] = columns.map((column) => {
    if (column.kind === 'numeric') {
      const present = trainRows.map((row) => numberOrNull(row[column.name])).filter((value): value is number => value !== null);
      return { name: column.name, kind: 'numeric', impute: median(present) };
    }
    const counts = new Map<string, number>();
    for (const row of trainRows) {
      const value = row[column.name];
      if (typeof value === 'string') counts.set(value, (counts.get(value) ?? 0) + 1);
    }
    const categories = [...counts.entries()]
      .filter(([, count]) => count >= MIN_CATEGORY_COUNT)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, MAX_CATEGORIES)
      .map(([category]) => category)
      .sort();
    return { name: column.name, kind: 'categorical', categories };
  });
  const withColumns = features.filter((feature) => feature.kind === 'numeric' || feature.categories.length > 0);
  return { version: 1, missing: 'native', features: withColumns, encoded: encodedNames(withColumns) };
}

export function withMissingPolicy(preprocessor: Preprocessor, missing: Preprocessor['missing']): Preprocessor {
  return { ...preprocessor, missing };
}

/** The raw feature-store columns a preprocessor reads, in its order. */
export function rawFeatureNames(preprocessor: Preprocessor): string[] {
  return preprocessor.features.map((feature) => feature.name);
}

/** Encodes rows into a row-major Float32Array (NaN = missing) with the preprocessor's columns. */
export function encodeRows(preprocessor: Preprocessor, rows: readonly FeatureRow[]): { data: Float32Array; rows: number; cols: number } {
  const cols = preprocessor.encoded.length;
  const data = new Float32Array(rows.length * cols);
  const categoryIndex = preprocessor.features.map((feature) =>
    feature.kind === 'categorical' ? new Map(feature.categories.map((category, i) => [category, i])) : null,
  );
  rows.forEach((row, r) => {
    let c = r * cols;
    preprocessor.features.forEach((feature, f) => {
      if (feature.kind === 'numeric') {
        const value = numberOrNull(row[feature.name]);
        data[c++] = value ?? (preprocessor.missing === 'impute' ? feature.impute : Number.NaN);
      } else {
        const value = row[feature.name];
        const hit = typeof value === 'string' ? categoryIndex[f]!.get(value) : undefined;
        if (hit !== undefined) data[c + hit] = 1;
        c += feature.categories.length;
      }
    });
  });
  return { data, rows: rows.length, cols };
}

/** Replaces NaN by each numeric column's imputation value, in place (for models that cannot take missing). */
export function imputeInPlace(preprocessor: Preprocessor, data: Float32Array): void {
  const cols = preprocessor.encoded.length;
  const fills: Array<number | null> = [];
  for (const feature of preprocessor.features) {
    if (feature.kind === 'numeric') fills.push(feature.impute);
    else for (let i = 0; i < feature.categories.length; i++) fills.push(null);
  }
  for (let i = 0; i < data.length; i++) {
    if (Number.isNaN(data[i])) data[i] = fills[i % cols] ?? 0;
  }
}

/**
 * The same encoding as encodeRows, as SQL over a feature-store relation: one DOUBLE per encoded column (NULL where
 * missing and not imputed). Scoring reads it straight into the matrix instead of building a JS object per row.
 */
export function encodedSelectList(preprocessor: Preprocessor, quote: (name: string) => string, literal: (text: string) => string): string[] {
  return preprocessor.features.flatMap((feature) => {
    const column = quote(feature.name);
    if (feature.kind === 'numeric') {
      const finite = `CASE WHEN isfinite(TRY_CAST(${column} AS DOUBLE)) THEN TRY_CAST(${column} AS DOUBLE) END`;
      return [preprocessor.missing === 'impute' ? `coalesce(${finite}, ${feature.impute})` : finite];
    }
    return feature.categories.map((category) => `CASE WHEN CAST(${column} AS VARCHAR) = ${literal(category)} THEN 1.0 ELSE 0.0 END`);
  });
}

