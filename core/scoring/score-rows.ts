// Scoring feature-store rows with a loaded model: the model's preprocessor encodes them, onnxruntime scores them in
// batches (bounded memory whatever the month's size).
import { encodeRows, type FeatureRow } from '../features/preprocessor.js';
import type { ScoringModel } from './model-loader.js';

export const SCORING_BATCH_ROWS = 8192;

export async function scoreMatrix(
  scorer: ScoringModel['scorer'],
  matrix: { data: Float32Array; rows: number; cols: number },
  batchRows = SCORING_BATCH_ROWS,
): Promise<Float32Array> {
  const out = new Float32Array(matrix.rows);
  for (let start = 0; start < matrix.rows; start += batchRows) {
    const rows = Math.min(batchRows, matrix.rows - start);
    const data = matrix.data.subarray(start * matrix.cols, (start + rows) * matrix.cols);
    const scores = await scorer.score({ data, rows, cols: matrix.cols });
    if (scores.length !== rows) throw new Error(`the ONNX model returned ${scores.length} scores for ${rows} rows`);
    out.set(scores, start);
  }
  return out;
}

export async function scoreRows(loaded: ScoringModel, rows: readonly FeatureRow[]): Promise<Float32Array> {
  return scoreMatrix(loaded.scorer, encodeRows(loaded.model.preprocessor, rows));
}
