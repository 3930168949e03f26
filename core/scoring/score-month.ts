// Batch scoring of one month of the feature store with a registered model, written atomically to
// gold/predictions/model_id=<id>/snapshot_date=YYYY-MM-DD/data.parquet (SPEC §3 columns).
import { access } from 'node:fs/promises';
import { DuckDBDataChunk, FLOAT, type DuckDBConnection, type DuckDBMaterializedResult } from '@duckdb/node-api';
import duckdbBindings from '@duckdb/node-bindings';
import { InvalidSourceData } from '../../lib/errors.js';
import { datamart, partitionFile } from '../../lib/layout.js';
import { snapshotDate, type Month } from '../../lib/months.js';
import { queryValue, readParquet, sqlIdent, sqlString, withDuckDB, writeParquetAtomic } from '../duckdb.js';
import { describeColumns, requireColumns } from '../models/dataset.js';
import { encodeColumns, featureReadList, KEY_COLUMNS, rawFeatureNames, type FeatureColumnValues, type Preprocessor } from '../models/preprocessor.js';
import type { DenseMatrix } from '../xgboost/matrix.js';
import { loadScoringModel } from './model-loader.js';
import { riskColumnsSql } from './risk-bands.js';
import { scoreMatrix } from './score-rows.js';

export interface ScoreMonthResult {
  month: Month;
  modelId: string;
  rows: number;
  path: string;
  seconds: number;
}

export interface ScoreMonthOptions {
  datamartDir: string;
  modelBankDir: string;
  month: Month;
  modelId: string;
  onProgress?: (stage: string) => void;
}

/**
 * The order in which a month's rows are encoded, scored and written: by loan_id, ties (none in a valid store) by the
 * row's position in the file, so that the keys read on their own and the features pair up row by row.
 */
function monthRelation(file: string): string {
  return `read_parquet(${sqlString(file)}, hive_partitioning = false, file_row_number = true)`;
}
const MONTH_ORDER = 'ORDER BY loan_id, file_row_number';

/**
 * Reads one feature-store partition encoded by the preprocessor (feature order, one-hot, imputation) into a row-major
 * Float32Array, in MONTH_ORDER. A feature the model needs that the partition lacks is InvalidSourceData naming it;
 * extra columns are ignored.
 */
export async function readEncodedMonth(db: DuckDBConnection, file: string, preprocessor: Preprocessor): Promise<DenseMatrix> {
  await requireFeatureFile(file);
  const sql = `SELECT ${featureReadList(preprocessor, sqlIdent, sqlString).join(', ')} FROM ${monthRelation(file)} ${MONTH_ORDER}`;
  let result: DuckDBMaterializedResult;
  try {
    result = await db.run(sql);
  } catch (error) {
    // The columns are checked only when the query fails: a DESCRIBE per month was a fixed cost of every call.
    requireColumns(await describeColumns(db, readParquet(file)), [...KEY_COLUMNS, ...rawFeatureNames(preprocessor)], file);
    throw error;
  }
  const rows = Number(result.rowCount);
  const matrix = { data: new Float32Array(rows * preprocessor.encoded.length), rows, cols: preprocessor.encoded.length };
  let firstRow = 0;
  for (let index = 0; index < result.chunkCount; index++) {
    const chunk = result.getChunk(index);
    encodeColumns(preprocessor, featureColumnsOfChunk(chunk, preprocessor), chunk.rowCount, matrix.data, firstRow);
    firstRow += chunk.rowCount;
  }
  return matrix;
}

/**
 * The chunk's vectors as typed arrays over DuckDB's own memory (valid while the result lives): the node-api's
 * getItem per value (a call and a validity check each) was most of the time of reading a month into JS.
 * featureReadList gives every column without NULL, as DOUBLE or UINTEGER.
 */
function featureColumnsOfChunk(chunk: DuckDBDataChunk, preprocessor: Preprocessor): FeatureColumnValues[] {
  const rows = chunk.rowCount;
  return preprocessor.features.map((feature, column) => {
    const vector = duckdbBindings.data_chunk_get_vector(chunk.chunk, column);
    const bytes = duckdbBindings.vector_get_data(vector, rows * (feature.kind === 'numeric' ? 8 : 4));
    return feature.kind === 'numeric'
      ? new Float64Array(bytes.buffer, bytes.byteOffset, rows)
      : new Uint32Array(bytes.buffer, bytes.byteOffset, rows);
  });
}

async function requireFeatureFile(file: string): Promise<void> {
  try {
    await access(file);
  } catch {
    throw new InvalidSourceData({ file }, 'feature-store partition is missing: run the ETL of this month first');
  }
}

/** Appends the probabilities to `table` (one FLOAT column) a chunk at a time. */
async function appendProbabilities(db: DuckDBConnection, table: string, probabilities: Float32Array): Promise<void> {
  const appender = await db.createAppender(table);
  const chunkRows = 2048;
  for (let start = 0; start < probabilities.length; start += chunkRows) {
    const end = Math.min(start + chunkRows, probabilities.length);
    const chunk = DuckDBDataChunk.create([FLOAT], end - start);
    chunk.setColumnValues(0, Array.from(probabilities.subarray(start, end)));
    appender.appendDataChunk(chunk);
  }
  appender.flushSync();
  appender.closeSync();
}

export async function scoreMonth(options: ScoreMonthOptions): Promise<ScoreMonthResult> {
  const started = performance.now();
  const { datamartDir, modelBankDir, month, modelId, onProgress } = options;
  const loaded = await loadScoringModel(modelBankDir, modelId);
  const { preprocessor, metadata } = loaded.model;
  const source = partitionFile(datamart.featureStore(datamartDir), month);
  const destination = partitionFile(datamart.predictions(datamartDir, modelId), month);

  const rows = await withDuckDB(async (db) => {
    // Only the encoded features travel to JS and only the probabilities come back: the keys stay in DuckDB, in the
    // same order, and meet their probabilities by position; band and decision are computed in SQL while the Parquet
    // file is written.
    const matrix = await readEncodedMonth(db, source, preprocessor);
    onProgress?.(`read ${matrix.rows} rows`);
    await db.run(
      `CREATE TABLE month_keys AS SELECT CAST(loan_id AS VARCHAR) AS loan_id, CAST(Customer_ID AS VARCHAR) AS Customer_ID
       FROM ${monthRelation(source)} ${MONTH_ORDER}`,
    );
    const keys = Number(await queryValue(db, 'SELECT count(*) FROM month_keys'));
    if (keys !== matrix.rows) throw new Error(`${source}: read ${keys} keys for ${matrix.rows} feature rows`);
    const probabilities = await scoreMatrix(loaded.scorer, matrix);
    onProgress?.(`scored ${matrix.rows} rows`);
    const bad = probabilities.findIndex((probability) => !Number.isFinite(probability));
    if (bad >= 0) throw new Error(`model ${modelId} gave a non-finite score for row ${bad} of ${source}`);

    await db.run('CREATE TABLE scored (default_probability FLOAT)');
    await appendProbabilities(db, 'scored', probabilities);
    const risk = riskColumnsSql('probability', metadata.threshold);
    const scoredAt = new Date().toISOString();
    const written = await writeParquetAtomic(
      db,
      `SELECT loan_id, Customer_ID, DATE ${sqlString(snapshotDate(month))} AS snapshot_date, ${sqlString(modelId)} AS model_id,
              probability AS default_probability, CAST(${risk.predictedDefault} AS INTEGER) AS predicted_default,
              ${risk.riskBand} AS risk_band, CAST(${sqlString(scoredAt)} AS TIMESTAMP) AS scored_at
       FROM (SELECT loan_id, Customer_ID, CAST(default_probability AS DOUBLE) AS probability FROM month_keys POSITIONAL JOIN scored)`,
      destination,
    );
    if (written !== matrix.rows) throw new Error(`${destination}: wrote ${written} predictions for ${matrix.rows} feature rows`);
    return written;
  });
  return { month, modelId, rows, path: destination, seconds: (performance.now() - started) / 1000 };
}
