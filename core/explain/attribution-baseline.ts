// The attribution baseline of a model at training time (metadata.json's \`attribution\`): each raw feature's mean
// |contribution| on the train and OOT sets. Computed on the fit's worker thread (core/models/candidate-fit.ts), so its
// imports stay light: no DuckDB, no onnxruntime.
import type { AttributionBaseline } from '../../lib/contracts.js';
import type { Booster } from '../xgboost/booster.js';
import type { DenseMatrix } from '../xgboost/matrix.js';
import type { Preprocessor } from '../features/preprocessor.js';
import { explainMatrixSync, type Explanations } from './contributions.js';

/**
 * Rows explained per set at registration, evenly spaced through it: TreeSHAP of a 100-tree forest costs about a
 * millisecond per row, and a mean over 5,000 rows is stable to well under a percent of a feature's share.
 */
export const ATTRIBUTION_SAMPLE_ROWS = 5000;

/** At most \`maxRows\` rows of \`matrix\`, evenly spaced (all of them when it has no more). */
export function evenlySpacedRows(matrix: DenseMatrix, maxRows: number): DenseMatrix {
  if (matrix.rows <= maxRows) return matrix;
  const data = new Float32Array(maxRows * matrix.cols);
  for (let i = 0; i < maxRows; i++) {
    const row = Math.floor((i * matrix.rows) / maxRows);
    data.set(matrix.data.subarray(row * matrix.cols, (row + 1) * matrix.cols), i * matrix.cols);
  }
  return { data, rows: maxRows, cols: matrix.cols };
}

/** Mean |contribution| per raw feature over the rows of \`explanations\`. */
export function meanAbsoluteContributions(explanations: Explanations): Record<string, number> {
  const width = explanations.features.length;
  const sums = new Float64Array(width);
  for (let row = 0; row < explanations.rows; row++) {
    for (let feature = 0; feature < width; feature++) sums[feature] += Math.abs(explanations.contributions[row * width + feature]);
  }
  return Object.fromEntries(explanations.features.map((feature, index) => [feature, explanations.rows > 0 ? sums[index] / explanations.rows : 0]));
}

/** The booster's mean |contribution| per raw feature on the train and OOT sets (at most ATTRIBUTION_SAMPLE_ROWS each). */
export function attributionBaselineOf(booster: Booster, preprocessor: Preprocessor, sets: { train: DenseMatrix; oot: DenseMatrix }): AttributionBaseline {
  const train = evenlySpacedRows(sets.train, ATTRIBUTION_SAMPLE_ROWS);
  const oot = evenlySpacedRows(sets.oot, ATTRIBUTION_SAMPLE_ROWS);
  return {
    rows: { train: train.rows, oot: oot.rows },
    train: meanAbsoluteContributions(explainMatrixSync(booster, preprocessor, train)),
    oot: meanAbsoluteContributions(explainMatrixSync(booster, preprocessor, oot)),
  };
}
