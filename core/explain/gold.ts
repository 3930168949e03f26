// gold/explanations/model_id=<id>/snapshot_date=YYYY-MM-DD/data.parquet (SPEC §4c): per scored application, the bias,
// the four reasons pushing the risk up most with their contributions, every raw feature's contribution (JSON) and the
// features that had no usable value. Written atomically with its lineage (the feature-store partition it explains and
// the model artifacts it was computed with), like every gold partition.
import type { DuckDBConnection } from '@duckdb/node-api';
import { lineageOf, partitionName, readLineage, writeWithLineage, type Lineage } from '../datamart/lineage.js';
import { sqlString, writeParquetAtomic } from '../duckdb.js';
import { sha256File } from '../hashing.js';
import type { ModelMetadata } from '../../lib/contracts.js';
import { snapshotDate, type Month } from '../../lib/months.js';
import { REASON_COUNT, topReasonIndices, type Explanations } from './contributions.js';

/** Column order of an explanations partition. */
export const EXPLANATION_COLUMNS = [
  'loan_id',
  'snapshot_date',
  'model_id',
  'bias',
  ...Array.from({ length: REASON_COUNT }, (_, i) => `reason_${i + 1}`),
  ...Array.from({ length: REASON_COUNT }, (_, i) => `contribution_${i + 1}`),
  'contributions',
  'missing_features',
] as const;

/** Version of the explanations transform: bump it when its output changes, and older partitions become stale. */
export const EXPLANATIONS_VERSION = 1;

/**
 * The lineage of a month's explanations: the feature-store partition's own fingerprint (its content hash when it has
 * none, as in hand-written test stores) and the artifacts the contributions come from.
 */
export async function explanationsLineage(featureFile: string, pinnedFeatureFile: string, month: Month, metadata: ModelMetadata): Promise<Lineage> {
  const features = (await readLineage(featureFile))?.fingerprint ?? `sha256:${await sha256File(pinnedFeatureFile)}`;
  return lineageOf(partitionName(`gold/explanations/${metadata.model_id}`, month), EXPLANATIONS_VERSION, month, {
    [partitionName('gold/feature_store', month)]: features,
    'booster.json': metadata.artifacts_sha256['booster.json'],
    'preprocessor.json': metadata.artifacts_sha256['preprocessor.json'],
  });
}

/** Appends one row per explained application to `table`, keyed by the feature row's file_row_number. */
async function appendExplanations(db: DuckDBConnection, table: string, fileRowNumbers: BigInt64Array, explanations: Explanations): Promise<void> {
  const reasonColumns = Array.from({ length: REASON_COUNT }, (_, i) => `reason_${i + 1} VARCHAR, contribution_${i + 1} DOUBLE`).join(', ');
  await db.run(`CREATE TABLE ${table} (file_row_number BIGINT, bias DOUBLE, ${reasonColumns}, contributions JSON, missing_features VARCHAR)`);
  const appender = await db.createAppender(table);
  const width = explanations.features.length;
  // The JSON object is assembled from pre-quoted keys: an object of 60 keys per row, then JSON.stringify, was most of
  // the explanations' cost at a month of thousands of rows. Contributions are finite numbers (checked below), which
  // String() spells as JSON does, so the text is valid JSON by construction and goes into a JSON column as it is: a
  // CAST to JSON in the write re-parsed the whole text, a tenth of the write's CPU.
  const keys = explanations.features.map((feature, index) => `${index === 0 ? '{' : ','}${JSON.stringify(feature)}:`);
  const top = new Int32Array(REASON_COUNT);
  for (let row = 0; row < explanations.rows; row++) {
    appender.appendBigInt(fileRowNumbers[row]);
    appender.appendDouble(explanations.bias[row]);
    // Indices, not topReasons' objects: the batch writes no statements, only the names.
    const reasons = topReasonIndices(explanations, row, top);
    for (let i = 0; i < REASON_COUNT; i++) {
      if (i < reasons) {
        appender.appendVarchar(explanations.features[top[i]]);
        appender.appendDouble(explanations.contributions[row * width + top[i]]);
      } else {
        appender.appendNull();
        appender.appendNull();
      }
    }
    let contributions = '';
    const missing: string[] = [];
    for (let feature = 0; feature < width; feature++) {
      const value = explanations.contributions[row * width + feature];
      if (!Number.isFinite(value)) throw new Error(`a non-finite contribution of ${explanations.features[feature]} in row ${row}`);
      contributions += keys[feature] + String(value);
      if (explanations.missing?.[row * width + feature] === 1) missing.push(explanations.features[feature]);
    }
    appender.appendVarchar(width === 0 ? '{}' : `${contributions}}`);
    appender.appendVarchar(JSON.stringify(missing));
    appender.endRow();
  }
  appender.flushSync();
  appender.closeSync();
}

/**
 * Writes the month's explanations partition: `explanations` row i belongs to the feature row `fileRowNumbers[i]` of
 * `featureRelation` (a read_parquet with file_row_number), which gives its loan_id. Returns the rows written.
 */
export async function writeExplanations(options: {
  db: DuckDBConnection;
  featureRelation: string;
  fileRowNumbers: BigInt64Array;
  explanations: Explanations;
  month: Month;
  modelId: string;
  destination: string;
  lineage: Lineage;
}): Promise<number> {
  const { db, featureRelation, fileRowNumbers, explanations, month, modelId, destination, lineage } = options;
  await appendExplanations(db, 'explained', fileRowNumbers, explanations);
  const reasons = Array.from({ length: REASON_COUNT }, (_, i) => `reason_${i + 1}`);
  const contributions = Array.from({ length: REASON_COUNT }, (_, i) => `contribution_${i + 1}`);
  return writeWithLineage(destination, lineage, () =>
    writeParquetAtomic(
      db,
      `SELECT CAST(loan_id AS VARCHAR) AS loan_id, DATE ${sqlString(snapshotDate(month))} AS snapshot_date, ${sqlString(modelId)} AS model_id,
              bias, ${reasons.join(', ')}, ${contributions.join(', ')},
              contributions, CAST(CAST(missing_features AS JSON) AS VARCHAR[]) AS missing_features
       FROM ${featureRelation} JOIN explained USING (file_row_number)
       ORDER BY loan_id, file_row_number`,
      destination,
      undefined,
      // lz4_raw: the contributions JSON is most of the file, and zstd took about a third of the write's CPU on it.
      'lz4_raw',
    ),
  );
}
