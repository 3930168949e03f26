// gold/explanations/model_id=<id>/snapshot_date=YYYY-MM-DD/data.parquet (SPEC §4c): per scored application, the bias,
// the four reasons pushing the risk up most with their contributions, every raw feature's contribution (JSON) and the
// features that had no usable value. Written atomically with its lineage (the feature-store partition it explains and
// the model artifacts it was computed with), like every gold partition.
import { DOUBLE, DuckDBVarCharType, LIST, VARCHAR, type DuckDBConnection, type DuckDBType } from '@duckdb/node-api';
import { lineageOf, partitionName, readLineage, writeWithLineage, type Lineage } from '../datamart/lineage.js';
import { appendInChunks, fillVarcharListVector, fillVarcharVector, fillVector, setNullRows, sqlString, writeParquetAtomic } from '../duckdb.js';
import { sha256File } from '../hashing.js';
import { exists } from '../etl/partitions.js';
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

/**
 * Whether the explanations partition at `destination` is current: it exists and its recorded lineage is `lineage`
 * (the same feature partition, booster, preprocessor and transform version). A current partition is what computing
 * the explanations again would write, so scoring keeps it instead (writeWithLineage records a lineage only once its
 * data is in place).
 */
export async function explanationsCurrent(destination: string, lineage: Lineage): Promise<boolean> {
  return (await exists(destination)) && (await readLineage(destination))?.fingerprint === lineage.fingerprint;
}

/** The contributions column's type: JSON text (SPEC §4c), which readers query with json_extract. */
const JSON_TEXT = DuckDBVarCharType.create('JSON');

/**
 * Appends one row per explained application to `table`, in `order` (the rows of `explanations`, as the partition lists
 * them), column by column.
 */
async function appendExplanations(db: DuckDBConnection, table: string, loanIds: readonly (string | null)[], order: Int32Array, explanations: Explanations): Promise<void> {
  const reasonColumns = Array.from({ length: REASON_COUNT }, (_, i) => `reason_${i + 1} VARCHAR`);
  const contributionColumns = Array.from({ length: REASON_COUNT }, (_, i) => `contribution_${i + 1} DOUBLE`);
  await db.run(
    `CREATE TABLE ${table} (loan_id VARCHAR, bias DOUBLE, ${reasonColumns.join(', ')}, ${contributionColumns.join(', ')}, contributions JSON, missing_features VARCHAR[])`,
  );
  const types = [VARCHAR, DOUBLE, ...Array<DuckDBType>(REASON_COUNT).fill(VARCHAR), ...Array<DuckDBType>(REASON_COUNT).fill(DOUBLE), JSON_TEXT, LIST(VARCHAR)];
  const { features, contributions, missing } = explanations;
  const width = features.length;
  // The JSON object is assembled from pre-quoted keys: an object of 60 keys per row, then JSON.stringify, was most of
  // the explanations' cost at a month of thousands of rows, and DuckDB's json_object on the same doubles took more
  // CPU than this. Contributions are finite numbers (checked below), which String() spells as JSON does, so the text
  // is valid JSON by construction and goes into the JSON column as it is: a CAST to JSON in the write re-parsed it.
  const keys = features.map((feature, index) => `${index === 0 ? '{' : ','}${JSON.stringify(feature)}:`);
  const noneMissing: readonly string[] = [];
  await appendInChunks(db, table, types, order.length, (chunk, start, end) => {
    const rows = order.subarray(start, end);
    // Per row, the reasons as indices into features (-1: fewer push the risk up), not topReasons' objects: the batch
    // writes no statements, only the names.
    const reasons = new Int32Array(rows.length * REASON_COUNT).fill(-1);
    rows.forEach((row, at) => topReasonIndices(explanations, row, reasons.subarray(at * REASON_COUNT, (at + 1) * REASON_COUNT)));
    const reason = (at: number, k: number) => reasons[at * REASON_COUNT + k];
    fillVarcharVector(chunk, 0, (at) => loanIds[rows[at]]);
    fillVector(chunk, 1, Float64Array.from(rows, (row) => explanations.bias[row]));
    for (let k = 0; k < REASON_COUNT; k++) {
      fillVarcharVector(chunk, 2 + k, (at) => (reason(at, k) < 0 ? null : features[reason(at, k)]));
      fillVector(chunk, 2 + REASON_COUNT + k, Float64Array.from(rows, (row, at) => (reason(at, k) < 0 ? 0 : contributions[row * width + reason(at, k)])));
      setNullRows(chunk, 2 + REASON_COUNT + k, (at) => reason(at, k) < 0);
    }
    fillVarcharVector(chunk, 2 + 2 * REASON_COUNT, (at) => {
      const offset = rows[at] * width;
      let json = '';
      for (let feature = 0; feature < width; feature++) {
        const value = contributions[offset + feature];
        if (!Number.isFinite(value)) throw new Error(`a non-finite contribution of ${features[feature]} in row ${rows[at]}`);
        json += keys[feature] + String(value);
      }
      return width === 0 ? '{}' : `${json}}`;
    });
    fillVarcharListVector(chunk, 3 + 2 * REASON_COUNT, (at) => {
      if (!missing) return noneMissing;
      const offset = rows[at] * width;
      let names: string[] | undefined;
      for (let feature = 0; feature < width; feature++) if (missing[offset + feature] === 1) (names ??= []).push(features[feature]);
      return names ?? noneMissing;
    });
  });
}

/**
 * Writes the month's explanations partition: `explanations` row i belongs to the application `loanIds[i]`, and
 * `order` lists the rows in the partition's order (loan_id, then position in the feature file: partitionOrder of
 * core/scoring/score-month.ts). Returns the rows written.
 */
export async function writeExplanations(options: {
  db: DuckDBConnection;
  loanIds: readonly (string | null)[];
  order: Int32Array;
  explanations: Explanations;
  month: Month;
  modelId: string;
  destination: string;
  lineage: Lineage;
}): Promise<number> {
  const { db, loanIds, order, explanations, month, modelId, destination, lineage } = options;
  await appendExplanations(db, 'explained', loanIds, order, explanations);
  const reasons = Array.from({ length: REASON_COUNT }, (_, i) => `reason_${i + 1}`);
  const contributions = Array.from({ length: REASON_COUNT }, (_, i) => `contribution_${i + 1}`);
  return writeWithLineage(destination, lineage, () =>
    writeParquetAtomic(
      db,
      // No ORDER BY: the rows were appended in the partition's order, which a scan of the table keeps.
      `SELECT loan_id, DATE ${sqlString(snapshotDate(month))} AS snapshot_date, ${sqlString(modelId)} AS model_id,
              bias, ${reasons.join(', ')}, ${contributions.join(', ')}, contributions, missing_features
       FROM explained`,
      destination,
      undefined,
      // lz4_raw: the contributions JSON is most of the file, and zstd took about a third of the write's CPU on it.
      'lz4_raw',
    ),
  );
}
