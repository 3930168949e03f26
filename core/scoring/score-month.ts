// Batch scoring of one month of the feature store with a registered model, written atomically to
// gold/predictions/model_id=<id>/snapshot_date=YYYY-MM-DD/data.parquet (SPEC §3 columns).
import { access } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import { InvalidSourceData } from '../../lib/errors.js';
import { datamart, partitionFile } from '../../lib/layout.js';
import { snapshotDate, type Month } from '../../lib/months.js';
import { queryRows, readParquet, sqlIdent, sqlString, withDuckDB, writeParquetAtomic } from '../duckdb.js';
import { describeColumns, featureSelectList, requireColumns } from '../models/dataset.js';
import { encodeRows, KEY_COLUMNS, rawFeatureNames, type FeatureRow, type Preprocessor } from '../models/preprocessor.js';
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

/**
 * Reads the preprocessor's features (cast to its kinds) from one feature-store partition. A feature the model needs
 * that the partition lacks is InvalidSourceData naming it; extra columns are ignored.
 */
export async function readFeatureRows(db: DuckDBConnection, file: string, preprocessor: Preprocessor): Promise<FeatureRow[]> {
  try {
    await access(file);
  } catch {
    throw new InvalidSourceData({ file }, 'feature-store partition is missing: run the ETL of this month first');
  }
  const source = readParquet(file);
  const described = await describeColumns(db, source);
  requireColumns(described, [...KEY_COLUMNS, ...rawFeatureNames(preprocessor)], file);
  const columns = preprocessor.features.map((feature) => ({ name: feature.name, kind: feature.kind }));
  return queryRows(
    db,
    `SELECT CAST(loan_id AS VARCHAR) AS loan_id, CAST(Customer_ID AS VARCHAR) AS Customer_ID, ${featureSelectList(columns)}
     FROM ${source} ORDER BY loan_id`,
  );
}

export async function scoreMonth(options: ScoreMonthOptions): Promise<ScoreMonthResult> {
  const started = performance.now();
  const { datamartDir, modelBankDir, month, modelId, onProgress } = options;
  const loaded = await loadScoringModel(modelBankDir, modelId);
  const { preprocessor, metadata } = loaded.model;
  const source = partitionFile(datamart.featureStore(datamartDir), month);
  const destination = partitionFile(datamart.predictions(datamartDir, modelId), month);

  const rows = await withDuckDB(async (db) => {
    const featureRows = await readFeatureRows(db, source, preprocessor);
    onProgress?.(`read ${featureRows.length} rows`);
    const probabilities = await scoreMatrix(loaded.scorer, encodeRows(preprocessor, featureRows));
    onProgress?.(`scored ${featureRows.length} rows`);

    await db.run(
      'CREATE TEMP TABLE scored (row_index INTEGER, loan_id VARCHAR, Customer_ID VARCHAR, default_probability DOUBLE, predicted_default INTEGER, risk_band VARCHAR)',
    );
    const appender = await db.createAppender('scored');
    featureRows.forEach((row, index) => {
      const probability = probabilities[index];
      if (!Number.isFinite(probability)) throw new Error(`model ${modelId} gave a non-finite score for loan ${String(row.loan_id)}`);
      appender.appendInteger(index);
      appender.appendVarchar(String(row.loan_id));
      appender.appendVarchar(String(row.Customer_ID));
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
