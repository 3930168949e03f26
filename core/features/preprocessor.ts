// The preprocessor turns feature-store rows into the model's numeric matrix: feature order, one-hot encodings of
// categorical columns, and what to do with missing numbers. It is fitted on the training months only and stored
// as preprocessor.json beside each model, so scoring applies exactly what training did.
import { setImmediate } from 'node:timers/promises';
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

function median(values: Float64Array): number {
  if (values.length === 0) return 0;
  // The middle value(s) by selection, linear in the column, instead of sorting it (a typed-array sort per column was
  // half of building the training set). A nonzero k-th smallest value is the sorted array's k-th whatever the ties.
  const middle = values.length >> 1;
  const odd = values.length % 2 === 1;
  const selected = Float64Array.from(values);
  const upper = selectKth(selected, middle);
  let lower = upper;
  if (!odd) {
    lower = selected[0];
    for (let i = 1; i < middle; i++) if (selected[i] > lower) lower = selected[i];
  }
  if (upper !== 0 && lower !== 0) return odd ? upper : (lower + upper) / 2;
  // A typed-array sort puts -0 before 0 where the comparator sort keeps their order (and selection keeps neither), so
  // a zero median is taken the old way.
  const sorted = Array.from(values).sort((a, b) => a - b);
  return odd ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * Rearranges `values` (no NaN) so that values[k] is the k-th smallest and none before it is larger (Hoare's
 * selection, median-of-three pivots); returns values[k].
 */
function selectKth(values: Float64Array, k: number): number {
  let low = 0;
  let high = values.length - 1;
  while (high > low) {
    const mid = (low + high) >> 1;
    const [a, b, c] = [values[low], values[mid], values[high]];
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    let i = low;
    let j = high;
    while (i <= j) {
      while (values[i] < pivot) i++;
      while (values[j] > pivot) j--;
      if (i <= j) {
        const swap = values[i];
        values[i] = values[j];
        values[j] = swap;
        i++;
        j--;
      }
    }
    if (k <= j) high = j;
    else if (k >= i) low = i;
    else break;
  }
  return values[k];
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

/**
 * Feature values by column, each `rows` long: training reads a whole labelled set this way (a number array per
 * numeric column, NaN where missing) instead of an object per row, which at 100 × the real data took gigabytes.
 */
export interface FeatureTable {
  rows: number;
  values: Record<string, ArrayLike<unknown>>;
}

/** Rows as a FeatureTable of the named columns. */
export function tableOfRows(rows: readonly FeatureRow[], names: readonly string[]): FeatureTable {
  return { rows: rows.length, values: Object.fromEntries(names.map((name) => [name, rows.map((row) => row[name])])) };
}

/** Fits the encodings on training rows. A categorical column keeps its frequent categories only. */
export async function fitPreprocessor(columns: readonly FeatureColumn[], train: FeatureTable): Promise<Preprocessor> {
  if (columns.length === 0) throw new Error('the feature store has no feature column besides its keys');
  const features: PreprocessorFeature[] = [];
  for (const column of columns) {
    // The event loop gets a turn between columns: an activity's heartbeats keep going on a large training set.
    await setImmediate();
    features.push(fitFeature(column, train.rows, train.values[column.name] ?? []));
  }
  const withColumns = features.filter((feature) => feature.kind === 'numeric' || feature.categories.length > 0);
  return { version: 1, missing: 'native', features: withColumns, encoded: encodedNames(withColumns) };
}

function fitFeature(column: FeatureColumn, rows: number, values: ArrayLike<unknown>): PreprocessorFeature {
  if (column.kind === 'numeric') {
    const present = new Float64Array(rows);
    let count = 0;
    for (let row = 0; row < rows; row++) {
      const value = numberOrNull(values[row]);
      if (value !== null) present[count++] = value;
    }
    return { name: column.name, kind: 'numeric', impute: median(present.subarray(0, count)) };
  }
  const counts = new Map<string, number>();
  for (let row = 0; row < rows; row++) {
    const value = values[row];
    if (typeof value === 'string') counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  const categories = [...counts.entries()]
    .filter(([, count]) => count >= MIN_CATEGORY_COUNT)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, MAX_CATEGORIES)
    .map(([category]) => category)
    .sort();
  return { name: column.name, kind: 'categorical', categories };
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
  return encodeTable(preprocessor, tableOfRows(rows, rawFeatureNames(preprocessor)));
}

/** encodeRows of a FeatureTable. */
export function encodeTable(preprocessor: Preprocessor, table: FeatureTable): { data: Float32Array; rows: number; cols: number } {
  const cols = preprocessor.encoded.length;
  const data = new Float32Array(table.rows * cols);
  let offset = 0;
  for (const feature of preprocessor.features) {
    const values = table.values[feature.name] ?? [];
    if (feature.kind === 'numeric') {
      const fill = preprocessor.missing === 'impute' ? feature.impute : Number.NaN;
      for (let row = 0; row < table.rows; row++) data[row * cols + offset] = numberOrNull(values[row]) ?? fill;
      offset += 1;
    } else {
      const categoryIndex = new Map(feature.categories.map((category, i) => [category, i]));
      for (let row = 0; row < table.rows; row++) {
        const value = values[row];
        const hit = typeof value === 'string' ? categoryIndex.get(value) : undefined;
        if (hit !== undefined) data[row * cols + offset + hit] = 1;
      }
      offset += feature.categories.length;
    }
  }
  return { data, rows: table.rows, cols };
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
 * How scoring reads a feature-store relation for encodeColumns: one SQL expression per feature, in the preprocessor's
 * order, that DuckDB evaluates without a NULL: a numeric feature as a DOUBLE (TRY_CAST, NULL as NaN), a categorical
 * one as the 1-based position of its value among the categories (0: NULL or any other value) as a UINTEGER. The
 * rest of the encoding (finiteness, imputation, one-hot) is encodeColumns' typed-array loops: one CASE per category
 * made planning the query most of a small month's cost, and NULLs made every value read check a validity mask.
 */
export function featureReadList(preprocessor: Preprocessor, quote: (name: string) => string, literal: (text: string) => string): string[] {
  return preprocessor.features.map((feature) => {
    const column = quote(feature.name);
    if (feature.kind === 'numeric') return `coalesce(TRY_CAST(${column} AS DOUBLE), CAST('NaN' AS DOUBLE))`;
    const categories = `[${feature.categories.map(literal).join(', ')}]::VARCHAR[]`;
    return `CAST(coalesce(list_position(${categories}, CAST(${column} AS VARCHAR)), 0) AS UINTEGER)`;
  });
}

/** One feature's values as featureReadList reads them: numbers (NaN: missing) or 1-based category positions. */
export type FeatureColumnValues = Float64Array | Uint32Array;

/**
 * Encodes `rows` rows given column by column as featureReadList reads them into `matrix` (row-major, the
 * preprocessor's encoded columns, zero-filled), starting at row `firstRow`: the same values as encodeTable gives for
 * the same features (a non-finite number is missing; missing is NaN or the imputed median; one-hot categories).
 */
export function encodeColumns(preprocessor: Preprocessor, columns: readonly FeatureColumnValues[], rows: number, matrix: Float32Array, firstRow: number): void {
  const cols = preprocessor.encoded.length;
  let offset = 0;
  preprocessor.features.forEach((feature, index) => {
    const values = columns[index];
    let cell = firstRow * cols + offset;
    if (feature.kind === 'numeric') {
      const fill = preprocessor.missing === 'impute' ? feature.impute : Number.NaN;
      for (let row = 0; row < rows; row++, cell += cols) {
        const value = values[row];
        matrix[cell] = Number.isFinite(value) ? value : fill;
      }
      offset += 1;
    } else {
      for (let row = 0; row < rows; row++, cell += cols) {
        const position = values[row];
        if (position > 0) matrix[cell + position - 1] = 1;
      }
      offset += feature.categories.length;
    }
  });
}
