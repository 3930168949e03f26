// Batch scoring of one month of the feature store with a registered model, written atomically to
// gold/predictions/model_id=<id>/snapshot_date=YYYY-MM-DD/data.parquet (SPEC §3 columns, and model_role of §4b).
import { access, rm } from 'node:fs/promises';
import { FLOAT, VARCHAR, type DuckDBConnection, type DuckDBMaterializedResult } from '@duckdb/node-api';
import { InvalidSourceData } from '../../lib/errors.js';
import { datamart, partitionFile } from '../../lib/layout.js';
import { snapshotDate, type Month } from '../../lib/months.js';
import { appendInChunks, fillVarcharVector, fillVector, readParquet, sqlIdent, sqlString, vectorView, withDuckDB, writeParquetAtomic } from '../duckdb.js';
import { linkOrCopy } from '../fs-atomic.js';
import { removeOrphanedTemporaries, temporaryPathFor } from '../temp-files.js';
import { describeColumns, requireColumns } from '../models/dataset.js';
import { encodeColumns, featureReadList, KEY_COLUMNS, rawFeatureNames, type FeatureColumnValues, type Preprocessor } from '../features/preprocessor.js';
import type { DenseMatrix } from '../xgboost/matrix.js';
import { explainMatrix } from '../explain/contributions.js';
import { explanationsCurrent, explanationsLineage, writeExplanations } from '../explain/gold.js';
import { loadScoringModel } from './model-loader.js';
import { riskColumnsSql } from './risk-bands.js';
import { scoreMatrix } from './score-rows.js';

export interface ScoreMonthResult {
  month: Month;
  modelId: string;
  rows: number;
  path: string;
  /** The month's explanations partition (gold/explanations), one row per prediction. */
  explanationsPath: string;
  seconds: number;
}

export interface ScoreMonthOptions {
  datamartDir: string;
  modelBankDir: string;
  month: Month;
  modelId: string;
  /** What the model is when it scores: production, or a challenger scored in shadow beside it (SPEC §4b). */
  role?: ModelRole;
  onProgress?: (stage: string) => void;
  /**
   * Write gold/explanations beside the predictions (default). Off only to measure what explanations cost
   * (tools/bench/explain-cost.ts): the pipeline always explains what it scores.
   */
  explain?: boolean;
  /**
   * Keep a month's explanations partition that is current (explanationsCurrent: built from this feature partition,
   * booster and preprocessor by this transform version) instead of computing it again (default). Off only to measure
   * what computing them costs.
   */
  reuseExplanations?: boolean;
}

export type ModelRole = 'production' | 'challenger';

/** A feature-store partition with each row's position in the file (file_row_number): the key scoring pairs rows by. */
function monthRelation(file: string): string {
  return `read_parquet(${sqlString(file)}, hive_partitioning = false, file_row_number = true)`;
}

export interface EncodedMonth {
  matrix: DenseMatrix;
  /** file_row_number of each matrix row. */
  fileRowNumbers: BigInt64Array;
  /** rows × raw features: 1 where the row has no usable value for the feature (what explanations call missing). */
  missing: Uint8Array;
  /** loan_id and Customer_ID of each matrix row, as VARCHAR (null: NULL). */
  loanIds: (string | null)[];
  customerIds: (string | null)[];
}

/**
 * Reads one feature-store partition encoded by the preprocessor (feature order, one-hot, imputation) into a row-major
 * Float32Array, unsorted (sorting 60 columns was a quarter of the read), with each row's position in the file. A
 * feature the model needs that the partition lacks is InvalidSourceData naming it; extra columns are ignored.
 */
export async function readEncodedMonth(db: DuckDBConnection, file: string, preprocessor: Preprocessor, reportAs = file): Promise<EncodedMonth> {
  const sql = `SELECT file_row_number, CAST(loan_id AS VARCHAR), CAST(Customer_ID AS VARCHAR), ${featureReadList(preprocessor, sqlIdent, sqlString).join(', ')}
               FROM ${monthRelation(file)}`;
  let result: DuckDBMaterializedResult;
  try {
    result = await db.run(sql);
  } catch (error) {
    // The file and its columns are checked only when the query fails: scoreMonth has just pinned the file, and a
    // DESCRIBE per month was a fixed cost of every call.
    await access(file).catch(() => {
      throw missingPartition(reportAs);
    });
    requireColumns(await describeColumns(db, readParquet(file)), [...KEY_COLUMNS, ...rawFeatureNames(preprocessor)], reportAs);
    throw error;
  }
  const rows = Number(result.rowCount);
  const matrix = { data: new Float32Array(rows * preprocessor.encoded.length), rows, cols: preprocessor.encoded.length };
  const fileRowNumbers = new BigInt64Array(rows);
  const width = preprocessor.features.length;
  const missing = new Uint8Array(rows * width);
  const loanIds: (string | null)[] = [];
  const customerIds: (string | null)[] = [];
  let firstRow = 0;
  for (let index = 0; index < result.chunkCount; index++) {
    const chunk = result.getChunk(index);
    // Once: rowCount is a call into DuckDB, and a loop condition over 60 features × the chunk's rows made it a
    // tenth of a month's scoring.
    const chunkRows = chunk.rowCount;
    fileRowNumbers.set(vectorView(chunk, 0, BigInt64Array), firstRow);
    for (const [column, keys] of [[1, loanIds], [2, customerIds]] as const) {
      const vector = chunk.getColumnVector(column);
      for (let row = 0; row < chunkRows; row++) keys.push(vector.getItem(row) as string | null);
    }
    const columns = preprocessor.features.map((feature, at): FeatureColumnValues =>
      feature.kind === 'numeric' ? vectorView(chunk, 3 + at, Float64Array) : vectorView(chunk, 3 + at, Uint32Array),
    );
    encodeColumns(preprocessor, columns, chunkRows, matrix.data, firstRow);
    columns.forEach((values, feature) => {
      const numeric = values instanceof Float64Array;
      for (let row = 0; row < chunkRows; row++) {
        if (numeric ? !Number.isFinite(values[row]) : values[row] === 0) missing[(firstRow + row) * width + feature] = 1;
      }
    });
    firstRow += chunkRows;
  }
  return { matrix, fileRowNumbers, missing, loanIds, customerIds };
}

/**
 * The matrix rows in the order the month's partitions are written: loan_id, then file_row_number, as DuckDB's
 * `ORDER BY loan_id, file_row_number` orders them (VARCHAR by its UTF-8 bytes, NULL last). Computed once from the keys
 * the read brought along, it lets both partitions be written from their rows as appended, without a second read of
 * the feature file for the keys nor a sort of each partition's rows in the write.
 */
export function partitionOrder(month: Pick<EncodedMonth, 'loanIds' | 'fileRowNumbers'>): Int32Array {
  const bytes = month.loanIds.map((id) => (id === null ? null : Buffer.from(id, 'utf8')));
  const order = Int32Array.from(bytes.keys());
  return order.sort((a, b) => {
    const [x, y] = [bytes[a], bytes[b]];
    if (x === null || y === null) {
      if (x !== y) return x === null ? 1 : -1;
    } else {
      const byId = Buffer.compare(x, y);
      if (byId !== 0) return byId;
    }
    return month.fileRowNumbers[a] < month.fileRowNumbers[b] ? -1 : month.fileRowNumbers[a] > month.fileRowNumbers[b] ? 1 : 0;
  });
}

const missingPartition = (file: string) => new InvalidSourceData({ file }, 'feature-store partition is missing: run the ETL of this month first');

/**
 * A pin of the feature partition, made before its first read, beside it and named as a temp file of it (linkOrCopy: a
 * hard link, a copy where the file system has none): a partition replaced while scoring runs (its month's ETL rerun
 * renames another file into place) leaves the pin as the version scoring began with, so the features and keys read and
 * the content hash an explanations lineage falls back on (a store without lineage) are those of one version, the one
 * read; the next run scores the new one. `release` removes the pin, and those killed workers left (the retry of a
 * killed attempt removes its predecessor's; so does the partition's next write).
 */
async function pinFeatureFile(file: string): Promise<{ path: string; release: () => Promise<void> }> {
  const pin = temporaryPathFor(file);
  try {
    await linkOrCopy(file, pin);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw missingPartition(file);
    throw error;
  }
  const release = async () => {
    await rm(pin, { force: true });
    await removeOrphanedTemporaries(file);
  };
  return { path: pin, release };
}

/**
 * Appends the month's predictions to `table` (loan_id VARCHAR, Customer_ID VARCHAR, default_probability FLOAT) in
 * `order` (matrix rows, partitionOrder).
 */
async function appendPredictions(db: DuckDBConnection, table: string, month: EncodedMonth, order: Int32Array, probabilities: Float32Array): Promise<void> {
  await appendInChunks(db, table, [VARCHAR, VARCHAR, FLOAT], order.length, (chunk, start, end) => {
    const rows = order.subarray(start, end);
    fillVarcharVector(chunk, 0, (row) => month.loanIds[rows[row]]);
    fillVarcharVector(chunk, 1, (row) => month.customerIds[rows[row]]);
    fillVector(chunk, 2, Float32Array.from(rows, (row) => probabilities[row]));
  });
}

export async function scoreMonth(options: ScoreMonthOptions): Promise<ScoreMonthResult> {
  const started = performance.now();
  const { datamartDir, modelBankDir, month, modelId, onProgress, role = 'production', explain = true, reuseExplanations = true } = options;
  const loaded = await loadScoringModel(modelBankDir, modelId);
  const { preprocessor, metadata } = loaded.model;
  const source = partitionFile(datamart.featureStore(datamartDir), month);
  const destination = partitionFile(datamart.predictions(datamartDir, modelId), month);
  const explanationsDestination = partitionFile(datamart.explanations(datamartDir, modelId), month);

  const pin = await pinFeatureFile(source);
  const rows = await withDuckDB(async (db) => {
    // Only the encoded features and the keys travel to JS and only the probabilities come back, appended with their
    // keys in the partition's order; band and decision are computed in SQL while the Parquet file is written.
    const encoded = await readEncodedMonth(db, pin.path, preprocessor, source);
    const { matrix, missing } = encoded;
    onProgress?.(`read ${matrix.rows} rows`);
    const probabilities = await scoreMatrix(loaded.scorer, matrix);
    onProgress?.(`scored ${matrix.rows} rows`);
    const bad = probabilities.findIndex((probability) => !Number.isFinite(probability));
    if (bad >= 0) throw new Error(`model ${modelId} gave a non-finite score for row ${bad} of ${source}`);

    const order = partitionOrder(encoded);
    await db.run('CREATE TABLE scored (loan_id VARCHAR, Customer_ID VARCHAR, default_probability FLOAT)');
    await appendPredictions(db, 'scored', encoded, order, probabilities);
    const risk = riskColumnsSql('probability', metadata.threshold);
    const scoredAt = new Date().toISOString();
    // No ORDER BY: the rows were appended in the partition's order, which a scan of the table keeps.
    const written = await writeParquetAtomic(
      db,
      `SELECT loan_id, Customer_ID, DATE ${sqlString(snapshotDate(month))} AS snapshot_date, ${sqlString(modelId)} AS model_id, ${sqlString(role)} AS model_role,
              probability AS default_probability, CAST(${risk.predictedDefault} AS INTEGER) AS predicted_default,
              ${risk.riskBand} AS risk_band, CAST(${sqlString(scoredAt)} AS TIMESTAMP) AS scored_at
       FROM (SELECT loan_id, Customer_ID, CAST(default_probability AS DOUBLE) AS probability FROM scored)`,
      destination,
    );
    if (written !== matrix.rows) throw new Error(`${destination}: wrote ${written} predictions for ${matrix.rows} feature rows`);

    if (!explain) return written;
    // The reasons of every score, from the same model's booster on the same encoded rows (SPEC §4c): computed unless
    // the partition already holds them for these rows and this model (TreeSHAP is most of a month's scoring).
    const lineage = await explanationsLineage(source, pin.path, month, metadata);
    if (reuseExplanations && (await explanationsCurrent(explanationsDestination, lineage))) {
      onProgress?.('explanations current: kept');
      return written;
    }
    const explanations = await explainMatrix(loaded.booster(), preprocessor, matrix, missing, (done) => onProgress?.(`explained ${done} of ${matrix.rows} rows`));
    const explained = await writeExplanations({
      db,
      loanIds: encoded.loanIds,
      order,
      explanations,
      month,
      modelId,
      destination: explanationsDestination,
      lineage,
    });
    if (explained !== matrix.rows) throw new Error(`${explanationsDestination}: wrote ${explained} explanations for ${matrix.rows} feature rows`);
    return written;
  }).finally(pin.release);
  return { month, modelId, rows, path: destination, explanationsPath: explanationsDestination, seconds: (performance.now() - started) / 1000 };
}
