// Batch scoring of one month of the feature store with a registered model, written atomically to
// gold/predictions/model_id=<id>/snapshot_date=YYYY-MM-DD/data.parquet (SPEC §3 columns).
import { access } from 'node:fs/promises';
import { DuckDBDataChunk, FLOAT, VARCHAR, type DuckDBConnection, type DuckDBMaterializedResult } from '@duckdb/node-api';
import { InvalidSourceData } from '../../lib/errors.js';
import { datamart, partitionFile } from '../../lib/layout.js';
import { snapshotDate, type Month } from '../../lib/months.js';
import { readParquet, sqlIdent, sqlString, withDuckDB, writeParquetAtomic } from '../duckdb.js';
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
 * Reads one feature-store partition already encoded by the preprocessor (feature order, one-hot, imputation), in
 * loan_id order. A feature the model needs that the partition lacks is InvalidSourceData naming it; extra columns are
 * ignored.
 */
export async function readEncodedMonth(db: DuckDBConnection, file: string, preprocessor: Preprocessor): Promise<EncodedMonth> {
  await requireFeatureFile(file);
  const plan = encodingPlan(preprocessor);
  const sql = `SELECT CAST(loan_id AS VARCHAR), CAST(Customer_ID AS VARCHAR), ${plan.selectList} FROM ${readParquet(file)} ORDER BY loan_id`;
  let result: DuckDBMaterializedResult;
  try {
    result = await db.run(sql);
  } catch (error) {
    // The columns are checked only when the query fails: a DESCRIBE per month was a fixed cost of every call.
    requireColumns(await describeColumns(db, readParquet(file)), [...KEY_COLUMNS, ...rawFeatureNames(preprocessor)], file);
    throw error;
  }
  return decodeEncoded(result, plan);
}

async function requireFeatureFile(file: string): Promise<void> {
  try {
    await access(file);
  } catch {
    throw new InvalidSourceData({ file }, 'feature-store partition is missing: run the ETL of this month first');
  }
}

/**
 * How each feature reaches the matrix: a numeric one as one FLOAT column computed by DuckDB with the preprocessor's
 * own SQL (encodedSelectList: finiteness, imputation), NULL given as NaN; a categorical one as the 1-based position of
 * its value among the categories (0: NULL or any other value, all zeros), one-hot encoded here. One CASE per category
 * made planning the query most of a small month's cost, and NULLs made every value read from DuckDB check a validity
 * mask: every column comes back as a FLOAT without NULL instead.
 */
interface EncodingPlan {
  selectList: string;
  cols: number;
  columns: Array<{ kind: 'numeric' | 'categorical'; at: number }>;
}

function encodingPlan(preprocessor: Preprocessor): EncodingPlan {
  const encodedSql = encodedSelectList(preprocessor, sqlIdent, sqlString);
  const select: string[] = [];
  const columns: EncodingPlan['columns'] = [];
  let at = 0;
  for (const feature of preprocessor.features) {
    if (feature.kind === 'numeric') {
      select.push(`coalesce(CAST(${encodedSql[at]} AS FLOAT), CAST('NaN' AS FLOAT))`);
      columns.push({ kind: 'numeric', at });
      at += 1;
    } else {
      const categories = `[${feature.categories.map(sqlString).join(', ')}]::VARCHAR[]`;
      select.push(`CAST(coalesce(list_position(${categories}, CAST(${sqlIdent(feature.name)} AS VARCHAR)), 0) AS FLOAT)`);
      columns.push({ kind: 'categorical', at });
      at += feature.categories.length;
    }
  }
  if (at !== preprocessor.encoded.length) throw new Error(`preprocessor encodes ${preprocessor.encoded.length} columns, its features ${at}`);
  return { selectList: select.join(', '), cols: at, columns };
}

/** Keys and the row-major Float32Array of a result of encodingPlan's query, read chunk by chunk. */
function decodeEncoded(result: DuckDBMaterializedResult, plan: EncodingPlan): EncodedMonth {
  const rows = Number(result.rowCount);
  const { cols } = plan;
  const data = new Float32Array(rows * cols);
  const loanIds = new Array<string>(rows);
  const customerIds = new Array<string>(rows);
  let offset = 0;
  for (let index = 0; index < result.chunkCount; index++) {
    const chunk = result.getChunk(index);
    const size = chunk.rowCount;
    const loans = chunk.getColumnVector(0);
    const customers = chunk.getColumnVector(1);
    for (let r = 0; r < size; r++) {
      loanIds[offset + r] = String(loans.getItem(r));
      customerIds[offset + r] = String(customers.getItem(r));
    }
    plan.columns.forEach((column, c) => {
      const vector = chunk.getColumnVector(2 + c);
      let cell = offset * cols + column.at;
      if (column.kind === 'numeric') {
        for (let r = 0; r < size; r++, cell += cols) data[cell] = vector.getItem(r) as number;
      } else {
        for (let r = 0; r < size; r++, cell += cols) {
          const position = vector.getItem(r) as number;
          if (position > 0) data[cell + position - 1] = 1;
        }
      }
    });
    offset += size;
  }
  return { loanIds, customerIds, matrix: { data, rows, cols } };
}

/** Appends the scored rows to `table` (loan_id, Customer_ID, FLOAT probability) a chunk at a time. */
async function appendScored(db: DuckDBConnection, table: string, month: EncodedMonth, probabilities: Float32Array): Promise<void> {
  const appender = await db.createAppender(table);
  const chunkRows = 2048;
  for (let start = 0; start < probabilities.length; start += chunkRows) {
    const end = Math.min(start + chunkRows, probabilities.length);
    const chunk = DuckDBDataChunk.create([VARCHAR, VARCHAR, FLOAT], end - start);
    chunk.setColumnValues(0, month.loanIds.slice(start, end));
    chunk.setColumnValues(1, month.customerIds.slice(start, end));
    chunk.setColumnValues(2, Array.from(probabilities.subarray(start, end)));
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
    // Only the encoded features travel to JS (keys as text) and only the probabilities come back, appended beside
    // their keys in the scratch catalog; band and decision are computed in SQL while the Parquet file is written.
    const encoded = await readEncodedMonth(db, source, preprocessor);
    const { matrix } = encoded;
    onProgress?.(`read ${matrix.rows} rows`);
    const probabilities = await scoreMatrix(loaded.scorer, matrix);
    onProgress?.(`scored ${matrix.rows} rows`);
    const bad = probabilities.findIndex((probability) => !Number.isFinite(probability));
    if (bad >= 0) throw new Error(`model ${modelId} gave a non-finite score for row ${bad} of ${source}`);

    await db.run('CREATE TABLE scored (loan_id VARCHAR, Customer_ID VARCHAR, default_probability FLOAT)');
    await appendScored(db, 'scored', encoded, probabilities);
    const risk = riskColumnsSql('probability', metadata.threshold);
    const scoredAt = new Date().toISOString();
    const written = await writeParquetAtomic(
      db,
      `SELECT loan_id, Customer_ID, DATE ${sqlString(snapshotDate(month))} AS snapshot_date, ${sqlString(modelId)} AS model_id,
              probability AS default_probability, CAST(${risk.predictedDefault} AS INTEGER) AS predicted_default,
              ${risk.riskBand} AS risk_band, CAST(${sqlString(scoredAt)} AS TIMESTAMP) AS scored_at
       FROM (SELECT loan_id, Customer_ID, CAST(default_probability AS DOUBLE) AS probability FROM scored)`,
      destination,
    );
    if (written !== matrix.rows) throw new Error(`${destination}: wrote ${written} predictions for ${matrix.rows} feature rows`);
    return written;
  });
  return { month, modelId, rows, path: destination, seconds: (performance.now() - started) / 1000 };
}
