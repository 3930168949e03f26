// Batch scoring of one month of the feature store with a registered model, written atomically to
// gold/predictions/model_id=<id>/snapshot_date=YYYY-MM-DD/data.parquet (SPEC §3 columns).
import { access } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import { InvalidSourceData } from '../../lib/errors.js';
import { datamart, partitionFile } from '../../lib/layout.js';
import { snapshotDate, type Month } from '../../lib/months.js';
import { queryFloatMatrix, readParquet, sqlIdent, sqlString, withDuckDB, writeParquetAtomic } from '../duckdb.js';
import { describeColumns, requireColumns } from '../models/dataset.js';
import { encodedSelectList, KEY_COLUMNS, rawFeatureNames, type Preprocessor } from '../models/preprocessor.js';
import { loadScoringModel } from './model-loader.js';
import { predictedDefault, riskBand } from './risk-bands.js';
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
  try {
    await access(file);
  } catch {
    throw new InvalidSourceData({ file }, 'feature-store partition is missing: run the ETL of this month first');
  }
  const source = readParquet(file);
  const described = await describeColumns(db, source);
  requireColumns(described, [...KEY_COLUMNS, ...rawFeatureNames(preprocessor)], file);
  const encoded = encodedSelectList(preprocessor, sqlIdent, sqlString).map((expression) => `CAST(${expression} AS FLOAT)`);
  const { keys, matrix } = await queryFloatMatrix(
    db,
    `SELECT CAST(loan_id AS VARCHAR), CAST(Customer_ID AS VARCHAR), ${encoded.join(', ')} FROM ${source} ORDER BY loan_id`,
    2,
  );
  return { loanIds: keys[0], customerIds: keys[1], matrix };
}

export async function scoreMonth(options: ScoreMonthOptions): Promise<ScoreMonthResult> {
  const started = performance.now();
  const { datamartDir, modelBankDir, month, modelId, onProgress } = options;
  const loaded = await loadScoringModel(modelBankDir, modelId);
  const { preprocessor, metadata } = loaded.model;
  const source = partitionFile(datamart.featureStore(datamartDir), month);
  const destination = partitionFile(datamart.predictions(datamartDir, modelId), month);

  const rows = await withDuckDB(async (db) => {
    const { loanIds, customerIds, matrix } = await readEncodedMonth(db, source, preprocessor);
    onProgress?.(`read ${matrix.rows} rows`);
    const probabilities = await scoreMatrix(loaded.scorer, matrix);
    onProgress?.(`scored ${matrix.rows} rows`);

    await db.run(
      'CREATE TEMP TABLE scored (row_index INTEGER, loan_id VARCHAR, Customer_ID VARCHAR, default_probability DOUBLE, predicted_default INTEGER, risk_band VARCHAR)',
    );
    const appender = await db.createAppender('scored');
    loanIds.forEach((loanId, index) => {
      const probability = probabilities[index];
      if (!Number.isFinite(probability)) throw new Error(`model ${modelId} gave a non-finite score for loan ${loanId}`);
      appender.appendInteger(index);
      appender.appendVarchar(loanId);
      appender.appendVarchar(customerIds[index]);
      appender.appendDouble(probability);
      appender.appendInteger(predictedDefault(probability, metadata.threshold));
      appender.appendVarchar(riskBand(probability, metadata.threshold));
      appender.endRow();
    });
    appender.flushSync();
    appender.closeSync();
    const scoredAt = new Date().toISOString();
    return writeParquetAtomic(
      db,
      `SELECT loan_id, Customer_ID, DATE ${sqlString(snapshotDate(month))} AS snapshot_date, ${sqlString(modelId)} AS model_id,
              default_probability, predicted_default, risk_band, CAST(${sqlString(scoredAt)} AS TIMESTAMP) AS scored_at
       FROM scored ORDER BY ${sqlIdent('row_index')}`,
      destination,
    );
  });
  return { month, modelId, rows, path: destination, seconds: (performance.now() - started) / 1000 };
}
