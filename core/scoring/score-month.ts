// Batch scoring of one month of the feature store with a registered model, written atomically to
// gold/predictions/model_id=<id>/snapshot_date=YYYY-MM-DD/data.parquet (SPEC §3 columns).
import { access } from 'node:fs/promises';
import { DuckDBDataChunk, FLOAT, type DuckDBConnection } from '@duckdb/node-api';
import { InvalidSourceData } from '../../lib/errors.js';
import { datamart, partitionFile } from '../../lib/layout.js';
import { snapshotDate, type Month } from '../../lib/months.js';
import { queryFloatMatrix, readParquet, sqlIdent, sqlString, withDuckDB, writeParquetAtomic } from '../duckdb.js';
import { describeColumns, requireColumns } from '../models/dataset.js';
import { encodedSelectList, KEY_COLUMNS, rawFeatureNames, type Preprocessor } from '../models/preprocessor.js';
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

export interface EncodedMonth {
  loanIds: string[];
  customerIds: string[];
  matrix: { data: Float32Array; rows: number; cols: number };
}

/**
 * Reads one feature-store partition already encoded by the preprocessor (feature order, one-hot, imputation), column
 * by column. A feature the model needs that the partition lacks is InvalidSourceData naming it; extra columns are
 * ignored.
 */
export async function readEncodedMonth(db: DuckDBConnection, file: string, preprocessor: Preprocessor): Promise<EncodedMonth> {
  const { keys, matrix } = await readEncoded(db, file, preprocessor, 2);
  return { loanIds: keys[0], customerIds: keys[1], matrix };
}

/** The encoded features in loan_id order, with the two key columns when `keyCount` is 2. */
async function readEncoded(db: DuckDBConnection, file: string, preprocessor: Preprocessor, keyCount: 0 | 2) {
  const encoded = await encodedSelect(db, file, preprocessor);
  const keys = keyCount === 2 ? 'CAST(loan_id AS VARCHAR), CAST(Customer_ID AS VARCHAR), ' : '';
  return queryFloatMatrix(db, `SELECT ${keys}${encoded} FROM ${readParquet(file)} ORDER BY loan_id`, keyCount);
}

/** The preprocessor's encoding of a feature-store partition as a FLOAT select list, after checking its columns. */
async function encodedSelect(db: DuckDBConnection, file: string, preprocessor: Preprocessor): Promise<string> {
  try {
    await access(file);
  } catch {
    throw new InvalidSourceData({ file }, 'feature-store partition is missing: run the ETL of this month first');
  }
  const described = await describeColumns(db, readParquet(file));
  requireColumns(described, [...KEY_COLUMNS, ...rawFeatureNames(preprocessor)], file);
  return encodedSelectList(preprocessor, sqlIdent, sqlString)
    .map((expression) => `CAST(${expression} AS FLOAT)`)
    .join(', ');
}

/** Appends one FLOAT column to `table` a chunk at a time (one call per row and column was most of the write). */
async function appendFloats(db: DuckDBConnection, table: string, values: Float32Array): Promise<void> {
  const appender = await db.createAppender(table);
  const chunkRows = 2048;
  for (let start = 0; start < values.length; start += chunkRows) {
    const slice = values.subarray(start, Math.min(start + chunkRows, values.length));
    const chunk = DuckDBDataChunk.create([FLOAT], slice.length);
    chunk.setColumnValues(0, Array.from(slice));
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
    // The month is sorted once into a temporary table; only the encoded features travel to JS and only the
    // probabilities come back, joined to the keys by position. Band and decision are computed in SQL.
    const encoded = await encodedSelect(db, source, preprocessor);
    await db.run(`CREATE TEMP TABLE month_rows AS SELECT CAST(loan_id AS VARCHAR) AS loan_id, CAST(Customer_ID AS VARCHAR) AS Customer_ID,
                    ${encoded} FROM ${readParquet(source)} ORDER BY loan_id`);
    const { matrix } = await queryFloatMatrix(db, 'SELECT * EXCLUDE (loan_id, Customer_ID) FROM month_rows', 0);
    onProgress?.(`read ${matrix.rows} rows`);
    const probabilities = await scoreMatrix(loaded.scorer, matrix);
    onProgress?.(`scored ${matrix.rows} rows`);
    const bad = probabilities.findIndex((probability) => !Number.isFinite(probability));
    if (bad >= 0) throw new Error(`model ${modelId} gave a non-finite score for row ${bad} of ${source}`);

    await db.run('CREATE TEMP TABLE scored (default_probability FLOAT)');
    await appendFloats(db, 'scored', probabilities);
    const risk = riskColumnsSql('probability', metadata.threshold);
    const scoredAt = new Date().toISOString();
    const written = await writeParquetAtomic(
      db,
      `SELECT loan_id, Customer_ID, DATE ${sqlString(snapshotDate(month))} AS snapshot_date, ${sqlString(modelId)} AS model_id,
              probability AS default_probability, CAST(${risk.predictedDefault} AS INTEGER) AS predicted_default,
              ${risk.riskBand} AS risk_band, CAST(${sqlString(scoredAt)} AS TIMESTAMP) AS scored_at
       FROM (SELECT loan_id, Customer_ID FROM month_rows)
       POSITIONAL JOIN (SELECT CAST(default_probability AS DOUBLE) AS probability FROM scored)`,
      destination,
    );
    if (written !== matrix.rows) throw new Error(`${destination}: wrote ${written} predictions for ${matrix.rows} feature rows`);
    return written;
  });
  return { month, modelId, rows, path: destination, seconds: (performance.now() - started) / 1000 };
}
