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
 * Rows of the first call into libxgboost's TreeSHAP; later calls are sized from the rows per second the previous one
 * achieved, to block the event loop (heartbeats, the API's other requests) about EXPLAIN_CALL_SECONDS each. Each call
 * has a fixed cost (its DMatrix, the trees' node means, the thread team): on the S=10 production gbtree (190 trees),
 * calls of 256 rows took 78 µs a row, calls of 4,096 rows 52 µs; a 100-tree depth-8 forest takes milliseconds a row,
 * so a fixed size fit for one family blocked for seconds, or paid the fixed cost every few rows, for the other.
 */
export const EXPLAIN_FIRST_CALL_ROWS = 256;
const EXPLAIN_CALL_SECONDS = 0.25;
const EXPLAIN_CALL_ROWS = { min: 16, max: 16_384 };

/** Rows [start, start + rows) of a row-major matrix, without copying. */
function matrixRows(matrix: DenseMatrix, start: number, rows: number): DenseMatrix {
  return { data: matrix.data.subarray(start * matrix.cols, (start + rows) * matrix.cols), rows, cols: matrix.cols };
}

/** Rows for the next call: what EXPLAIN_CALL_SECONDS holds at the rate the last call ran. */
export function nextCallRows(lastRows: number, lastSeconds: number): number {
  const rows = lastSeconds > 0 ? Math.floor((lastRows / lastSeconds) * EXPLAIN_CALL_SECONDS) : EXPLAIN_CALL_ROWS.max;
  return Math.min(EXPLAIN_CALL_ROWS.max, Math.max(EXPLAIN_CALL_ROWS.min, rows));
}

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

/** Contributions of every row of `matrix`, in calls sized by nextCallRows with a turn of the event loop between. */
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
  let callRows = EXPLAIN_FIRST_CALL_ROWS;
  let start = 0;
  while (start < matrix.rows) {
    if (start > 0) await setImmediate();
    const rows = Math.min(callRows, matrix.rows - start);
    const began = performance.now();
    foldContributions(preprocessor, booster.predictContributions(matrixRows(matrix, start, rows)), { explanations, firstRow: start });
    callRows = nextCallRows(rows, (performance.now() - began) / 1000);
    start += rows;
    onBatch?.(start);
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
  // One call per EXPLAIN_CALL_ROWS.max rows: nothing else waits on this thread, so only the matrix copy bounds it.
  for (let start = 0; start < matrix.rows; start += EXPLAIN_CALL_ROWS.max) {
    const rows = Math.min(EXPLAIN_CALL_ROWS.max, matrix.rows - start);
    foldContributions(preprocessor, booster.predictContributions(matrixRows(matrix, start, rows)), { explanations, firstRow: start });
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
