// Per-application explanations (SPEC §4c): libxgboost's own contributions on the log-odds scale (TreeSHAP for gbtree
// and rf, w·x for gblinear), folded back from the encoded matrix columns to the raw features of the feature store: a
// categorical's one-hot columns sum to that categorical. bias + Σ contributions = the booster's margin, row by row.
import { setImmediate } from 'node:timers/promises';
import { reasonStatement } from '../../lib/reason-codes.js';
import type { Booster } from '../xgboost/booster.js';
import type { DenseMatrix } from '../xgboost/matrix.js';
import type { FeatureRow, Preprocessor } from '../features/preprocessor.js';

/** Reasons an explanation names: the raw features pushing the risk up most. */
export const REASON_COUNT = 4;

/**
 * Rows handed to libxgboost at once: the event loop (heartbeats, the API's other requests) gets a turn between. A
 * 100-tree depth-8 forest's TreeSHAP took up to 21 ms a row on the shared 2-core machine under load, so 256 rows
 * block the loop for seconds at most, well inside the scoring activity's 30-second heartbeat timeout.
 */
export const EXPLAIN_BATCH_ROWS = 256;

export interface Explanations {
  /** Raw feature names, the preprocessor's order. */
  features: string[];
  rows: number;
  /** Per row: the expected margin (base score, plus gblinear's bias weight). */
  bias: Float64Array;
  /** rows × features, row-major: each raw feature's contribution to the row's margin. */
  contributions: Float64Array;
  /** rows × features: 1 where the application had no value for the feature (missing, or imputed by the model). */
  missing?: Uint8Array;
}

/** The raw feature (index into preprocessor.features) of each encoded matrix column. */
export function encodedToRaw(preprocessor: Preprocessor): Int32Array {
  const map = new Int32Array(preprocessor.encoded.length);
  let column = 0;
  preprocessor.features.forEach((feature, index) => {
    const width = feature.kind === 'numeric' ? 1 : feature.categories.length;
    map.fill(index, column, column + width);
    column += width;
  });
  if (column !== preprocessor.encoded.length) {
    throw new Error(`the preprocessor's features encode ${column} columns, its encoded list has ${preprocessor.encoded.length}`);
  }
  return map;
}

/**
 * Folds libxgboost's contributions (rows × (encoded + 1), bias last) into raw-feature contributions. Sums are taken
 * in double precision from libxgboost's float32 values.
 */
export function foldContributions(
  preprocessor: Preprocessor,
  raw: { values: Float32Array; rows: number; cols: number },
  into?: { explanations: Explanations; firstRow: number },
): Explanations {
  const toRaw = encodedToRaw(preprocessor);
  const encodedCols = preprocessor.encoded.length;
  if (raw.cols !== encodedCols + 1) throw new Error(`contributions have ${raw.cols} columns per row, expected ${encodedCols} features + bias`);
  const features = preprocessor.features.map((feature) => feature.name);
  const width = features.length;
  const target = into?.explanations ?? {
    features,
    rows: raw.rows,
    bias: new Float64Array(raw.rows),
    contributions: new Float64Array(raw.rows * width),
  };
  const firstRow = into?.firstRow ?? 0;
  for (let row = 0; row < raw.rows; row++) {
    const source = row * raw.cols;
    const destination = (firstRow + row) * width;
    for (let column = 0; column < encodedCols; column++) target.contributions[destination + toRaw[column]] += raw.values[source + column];
    target.bias[firstRow + row] = raw.values[source + encodedCols];
  }
  return target;
}

/** Contributions of every row of `matrix`, in batches of EXPLAIN_BATCH_ROWS with a turn of the event loop between. */
export async function explainMatrix(
  booster: Booster,
  preprocessor: Preprocessor,
  matrix: DenseMatrix,
  missing?: Uint8Array,
  /** After each batch (an activity heartbeats: a forest's TreeSHAP takes milliseconds per row). */
  onBatch?: (rowsDone: number) => void,
): Promise<Explanations> {
  const width = preprocessor.features.length;
  const explanations: Explanations = {
    features: preprocessor.features.map((feature) => feature.name),
    rows: matrix.rows,
    bias: new Float64Array(matrix.rows),
    contributions: new Float64Array(matrix.rows * width),
    missing,
  };
  for (let start = 0; start < matrix.rows; start += EXPLAIN_BATCH_ROWS) {
    if (start > 0) await setImmediate();
    const rows = Math.min(EXPLAIN_BATCH_ROWS, matrix.rows - start);
    const data = matrix.data.subarray(start * matrix.cols, (start + rows) * matrix.cols);
    foldContributions(preprocessor, booster.predictContributions({ data, rows, cols: matrix.cols }), { explanations, firstRow: start });
    onBatch?.(start + rows);
  }
  return explanations;
}

/** explainMatrix without turns of the event loop: for a worker thread (training), where blocking is the point. */
export function explainMatrixSync(booster: Booster, preprocessor: Preprocessor, matrix: DenseMatrix): Explanations {
  const explanations: Explanations = {
    features: preprocessor.features.map((feature) => feature.name),
    rows: matrix.rows,
    bias: new Float64Array(matrix.rows),
    contributions: new Float64Array(matrix.rows * preprocessor.features.length),
  };
  for (let start = 0; start < matrix.rows; start += EXPLAIN_BATCH_ROWS) {
    const rows = Math.min(EXPLAIN_BATCH_ROWS, matrix.rows - start);
    const data = matrix.data.subarray(start * matrix.cols, (start + rows) * matrix.cols);
    foldContributions(preprocessor, booster.predictContributions({ data, rows, cols: matrix.cols }), { explanations, firstRow: start });
  }
  return explanations;
}

/** bias + Σ contributions of a row: the margin (log-odds) the explanation accounts for. */
export function explainedMargin(explanations: Explanations, row: number): number {
  const width = explanations.features.length;
  let margin = explanations.bias[row];
  for (let feature = 0; feature < width; feature++) margin += explanations.contributions[row * width + feature];
  return margin;
}

export interface Reason {
  feature: string;
  /** On the log-odds scale; positive: pushes the risk of default up. */
  contribution: number;
  statement: string;
  /** The application had no value for the feature: the reason is its absence (or the value imputed for it). */
  value_missing: boolean;
}

/**
 * The features (indices into explanations.features) pushing the row's risk up most, largest first, into `out`; returns
 * how many (fewer than out.length when fewer push it up). Ties (equal contributions) keep the preprocessor's order, so
 * batch and API name the same features. An insertion into `out`, no allocation: the batch runs it on every row.
 */
export function topReasonIndices(explanations: Explanations, row: number, out: Int32Array): number {
  const width = explanations.features.length;
  const offset = row * width;
  const values = explanations.contributions;
  let count = 0;
  for (let feature = 0; feature < width; feature++) {
    const value = values[offset + feature];
    if (!(value > 0)) continue;
    // Strictly larger moves ahead: an equal contribution stays behind the earlier feature.
    let at = count < out.length ? count : out.length;
    while (at > 0 && value > values[offset + out[at - 1]]) at--;
    if (at >= out.length) continue;
    for (let move = Math.min(count, out.length - 1); move > at; move--) out[move] = out[move - 1];
    out[at] = feature;
    if (count < out.length) count++;
  }
  return count;
}

/** The features pushing the row's risk up most, largest first; fewer than `count` when fewer push it up. */
export function topReasons(explanations: Explanations, row: number, count = REASON_COUNT): Reason[] {
  const width = explanations.features.length;
  const offset = row * width;
  const top = new Int32Array(count);
  return Array.from(top.subarray(0, topReasonIndices(explanations, row, top)), (feature) => {
    const valueMissing = explanations.missing?.[offset + feature] === 1;
    return {
      feature: explanations.features[feature],
      contribution: explanations.contributions[offset + feature],
      statement: reasonStatement(explanations.features[feature], valueMissing),
      value_missing: valueMissing,
    };
  });
}

/** Every raw feature's contribution of a row, by name. */
export function contributionsOf(explanations: Explanations, row: number): Record<string, number> {
  const width = explanations.features.length;
  return Object.fromEntries(explanations.features.map((feature, index) => [feature, explanations.contributions[row * width + index]]));
}

/**
 * The raw features without a usable value in each row: a number missing or not finite; a category that is NULL or not
 * one of the model's (both encode as no category, as the batch read cannot tell them apart).
 */
export function missingMaskOfRows(preprocessor: Preprocessor, rows: readonly FeatureRow[]): Uint8Array {
  const width = preprocessor.features.length;
  const mask = new Uint8Array(rows.length * width);
  preprocessor.features.forEach((feature, index) => {
    const categories = feature.kind === 'categorical' ? new Set(feature.categories) : null;
    rows.forEach((row, at) => {
      const value = row[feature.name];
      let missing: boolean;
      if (categories) missing = typeof value !== 'string' || !categories.has(value);
      else missing = value === null || value === undefined || !Number.isFinite(typeof value === 'number' ? value : Number(value));
      if (missing) mask[at * width + index] = 1;
    });
  });
  return mask;
}
