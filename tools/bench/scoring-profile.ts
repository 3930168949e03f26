// Where a scoreMonth's time goes, measured outside Temporal on the datamart a bench run produced: loading and
// verifying the model (sha256 of every artifact on each call), reading the month from Parquet already encoded (DuckDB),
// onnxruntime, and whole scoreMonth calls (which also write the predictions). Also onnxruntime alone over every
// month's rows in one call: the scoring kernel a > 500k rows/s target can be held against.
import { datamart, partitionFile } from '../../lib/layout.js';
import type { Month } from '../../lib/months.js';
import { withDuckDB } from '../../core/duckdb.js';
import { loadScoringModel } from '../../core/scoring/model-loader.js';
import { readEncodedMonth, scoreMonth } from '../../core/scoring/score-month.js';
import { scoreMatrix } from '../../core/scoring/score-rows.js';

export interface ScoringProfile {
  months: number;
  rows: number;
  /** Seconds summed over the months, per stage (the first model load includes creating the onnxruntime session). */
  stages: { loadAndVerifyModel: number; readEncoded: number; onnxScore: number };
  /** Whole scoreMonth calls (as the activity runs them, minus Temporal), summed. */
  scoreMonthSeconds: number;
  scoreMonthRowsPerSecond: number;
  /** onnxruntime on all months' rows in one call (batched by scoreMatrix). */
  kernelRows: number;
  kernelSeconds: number;
  kernelRowsPerSecond: number;
}

const since = (start: number) => (performance.now() - start) / 1000;

export async function profileScoring(datamartDir: string, modelBankDir: string, modelId: string, months: Month[]): Promise<ScoringProfile> {
  const stages = { loadAndVerifyModel: 0, readEncoded: 0, onnxScore: 0 };
  const matrices: Array<{ data: Float32Array; rows: number; cols: number }> = [];
  for (const month of months) {
    let t = performance.now();
    const loaded = await loadScoringModel(modelBankDir, modelId);
    stages.loadAndVerifyModel += since(t);
    const file = partitionFile(datamart.featureStore(datamartDir), month);
    t = performance.now();
    const { matrix } = await withDuckDB((db) => readEncodedMonth(db, file, loaded.model.preprocessor));
    stages.readEncoded += since(t);
    t = performance.now();
    await scoreMatrix(loaded.scorer, matrix);
    stages.onnxScore += since(t);
    matrices.push(matrix);
  }

  // They rewrite the run's prediction partitions with the same content (atomically): harmless once the run is done.
  let scoreMonthSeconds = 0;
  let scored = 0;
  for (const month of months) {
    const t = performance.now();
    scored += (await scoreMonth({ datamartDir, modelBankDir, month, modelId })).rows;
    scoreMonthSeconds += since(t);
  }

  const cols = matrices[0]?.cols ?? 0;
  const rows = matrices.reduce((sum, matrix) => sum + matrix.rows, 0);
  const data = new Float32Array(rows * cols);
  let offset = 0;
  for (const matrix of matrices) {
    data.set(matrix.data.subarray(0, matrix.rows * cols), offset);
    offset += matrix.rows * cols;
  }
  const loaded = await loadScoringModel(modelBankDir, modelId);
  const t = performance.now();
  await scoreMatrix(loaded.scorer, { data, rows, cols });
  const kernelSeconds = since(t);
  return {
    months: months.length,
    rows: scored,
    stages,
    scoreMonthSeconds,
    scoreMonthRowsPerSecond: Math.round(scored / scoreMonthSeconds),
    kernelRows: rows,
    kernelSeconds,
    kernelRowsPerSecond: Math.round(rows / kernelSeconds),
  };
}
