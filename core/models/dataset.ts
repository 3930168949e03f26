// Reading the gold feature and label stores for training and evaluation: which application months have mature
// labels by an as-of month, and their feature rows joined to the labels.
import { readdir, access } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import { datamart, partitionFile, partitionMonthOf } from '../../lib/layout.js';
import { compareMonths, type Month } from '../../lib/months.js';
import { InvalidSourceData } from '../../lib/errors.js';
import { doubleVectorView, queryRows, sqlIdent, sqlString, withDuckDB } from '../duckdb.js';
import { KEY_COLUMNS, type FeatureColumn, type FeatureRow, type FeatureTable } from '../features/preprocessor.js';

const NUMERIC_TYPE = /^(DOUBLE|FLOAT|REAL|DECIMAL.*|HUGEINT|U?BIGINT|U?INTEGER|U?SMALLINT|U?TINYINT|BOOLEAN)$/;

/** A DuckDB column type that features read as numbers (the rest are read as text). */
export const isNumericColumnType = (type: string): boolean => NUMERIC_TYPE.test(type);

export interface DescribedColumn {
  name: string;
  type: string;
}

/** Months that have a data.parquet partition in a Hive-partitioned table directory, oldest first. */
export async function listPartitionMonths(tableDir: string): Promise<Month[]> {
  let entries: string[];
  try {
    entries = await readdir(tableDir);
  } catch {
    return [];
  }
  const months: Month[] = [];
  for (const entry of entries) {
    const month = partitionMonthOf(entry);
    if (!month) continue;
    try {
      await access(partitionFile(tableDir, month));
      months.push(month);
    } catch {
      // a partition directory without its file is an interrupted write: not a month of data
    }
  }
  return months.sort(compareMonths);
}

export function parquetList(files: readonly string[]): string {
  return `read_parquet([${files.map(sqlString).join(', ')}], hive_partitioning = false, union_by_name = true)`;
}

export async function describeColumns(db: DuckDBConnection, fromSql: string): Promise<DescribedColumn[]> {
  const rows = await queryRows<{ column_name: string; column_type: string }>(db, `DESCRIBE SELECT * FROM ${fromSql}`);
  return rows.map((row) => ({ name: row.column_name, type: row.column_type }));
}

/** Every non-key column is a feature: numbers (and booleans) are numeric, VARCHAR categorical; others are ignored. */
export function featureColumnsOf(described: readonly DescribedColumn[]): FeatureColumn[] {
  const keys = new Set<string>(KEY_COLUMNS);
  return described
    .filter((column) => !keys.has(column.name))
    .flatMap((column): FeatureColumn[] => {
      if (isNumericColumnType(column.type)) return [{ name: column.name, kind: 'numeric' }];
      if (column.type === 'VARCHAR') return [{ name: column.name, kind: 'categorical' }];
      return [];
    });
}

/** Fails with InvalidSourceData naming the first of `required` that `described` lacks. */
export function requireColumns(described: readonly DescribedColumn[], required: readonly string[], file: string): void {
  const present = new Set(described.map((column) => column.name));
  const missing = required.find((name) => !present.has(name));
  if (missing !== undefined) {
    throw new InvalidSourceData({ file, column: missing }, `column '${missing}' is missing (the model needs it)`);
  }
}

/** SELECT list that reads features as JS numbers (DOUBLE; `missingAsNaN`: NaN instead of NULL) or strings (VARCHAR). */
export function featureSelectList(columns: readonly FeatureColumn[], alias = '', missingAsNaN = false): string {
  const prefix = alias ? `${alias}.` : '';
  const number = (sql: string) => (missingAsNaN ? `coalesce(${sql}, 'NaN'::DOUBLE)` : sql);
  return columns
    .map((column) =>
      column.kind === 'numeric'
        ? `${number(`TRY_CAST(${prefix}${sqlIdent(column.name)} AS DOUBLE)`)} AS ${sqlIdent(column.name)}`
        : `CAST(${prefix}${sqlIdent(column.name)} AS VARCHAR) AS ${sqlIdent(column.name)}`,
    )
    .join(', ');
}

export interface LabelledRow extends FeatureRow {
  loan_id: string;
  Customer_ID: string;
  /** Application month. */
  month: Month;
  label: number;
}

export interface LabelledData {
  columns: FeatureColumn[];
  described: DescribedColumn[];
  featureFiles: string[];
  rows: LabelledRow[];
}

/** Application months whose labels are mature by `asOf` (label snapshot ≤ asOf) and that have feature rows. */
export async function matureApplicationMonths(datamartDir: string, asOf: Month): Promise<Month[]> {
  const labelMonths = (await listPartitionMonths(datamart.labelStore(datamartDir))).filter((m) => compareMonths(m, asOf) <= 0);
  if (labelMonths.length === 0) return [];
  const featureMonths = new Set(await listPartitionMonths(datamart.featureStore(datamartDir)));
  const files = labelMonths.map((month) => partitionFile(datamart.labelStore(datamartDir), month));
  const rows = await withDuckDB((db) =>
    queryRows<{ month: string }>(db, `SELECT DISTINCT strftime(CAST(application_date AS DATE), '%Y-%m') AS month FROM ${parquetList(files)}`),
  );
  return rows.map((row) => row.month).filter((month) => featureMonths.has(month)).sort(compareMonths);
}

/** The feature store's columns for `months` and the query joining their rows to the labels mature by `asOf`. */
async function labelledQuery(db: DuckDBConnection, datamartDir: string, asOf: Month, months: readonly Month[], missingAsNaN = false) {
  if (months.length === 0) throw new Error('no application month to load');
  const labelFiles = (await listPartitionMonths(datamart.labelStore(datamartDir)))
    .filter((m) => compareMonths(m, asOf) <= 0)
    .map((m) => partitionFile(datamart.labelStore(datamartDir), m));
  if (labelFiles.length === 0) throw new Error(`no label-store partition at or before ${asOf} in ${datamartDir}`);
  const featureFiles = months.map((month) => partitionFile(datamart.featureStore(datamartDir), month));
  const features = parquetList(featureFiles);
  const described = await describeColumns(db, features);
  requireColumns(described, KEY_COLUMNS, featureFiles[0]);
  const columns = featureColumnsOf(described);
  const sql = `
    WITH labels AS (SELECT CAST(loan_id AS VARCHAR) AS loan_id, CAST(label AS INTEGER) AS label FROM ${parquetList(labelFiles)})
    SELECT CAST(f.loan_id AS VARCHAR) AS loan_id, CAST(f.Customer_ID AS VARCHAR) AS Customer_ID,
           strftime(CAST(f.snapshot_date AS DATE), '%Y-%m') AS month, l.label AS label
           ${columns.length > 0 ? ', ' + featureSelectList(columns, 'f', missingAsNaN) : ''}
    FROM ${features} f JOIN labels l ON CAST(f.loan_id AS VARCHAR) = l.loan_id
    ORDER BY month, loan_id`;
  return { columns, described, featureFiles, sql };
}

/**
 * Feature rows of the given application months joined to their labels, taking only labels mature by `asOf`.
 * Ordered by month then loan_id, so the same stores always give the same matrix.
 */
export async function loadLabelledRows(datamartDir: string, asOf: Month, months: readonly Month[]): Promise<LabelledData> {
  return withDuckDB(async (db) => {
    const { sql, ...query } = await labelledQuery(db, datamartDir, asOf, months);
    return { ...query, rows: await queryRows<LabelledRow>(db, sql) };
  });
}

export interface LabelledTable extends FeatureTable {
  columns: FeatureColumn[];
  described: DescribedColumn[];
  featureFiles: string[];
  /** Application month of each row; rows come ordered by month then loan_id, as in loadLabelledRows. */
  months: Month[];
  /** 1 for a default, 0 otherwise. */
  labels: Float32Array;
  /** Numeric features as Float64Array (NaN where missing), categorical ones as text or null. */
  values: Record<string, Float64Array | Array<string | null>>;
}

/** loadLabelledRows as columns, read chunk by chunk: the memory of the values, not of an object per row. */
export async function loadLabelledTable(datamartDir: string, asOf: Month, months: readonly Month[]): Promise<LabelledTable> {
  return withDuckDB(async (db) => {
    // Numbers come without NULL (NaN instead), so each chunk's column is copied from DuckDB's memory whole.
    const { sql, columns, ...query } = await labelledQuery(db, datamartDir, asOf, months, true);
    const result = await db.stream(sql);
    const index = new Map(result.columnNames().map((name, i) => [name, i]));
    const monthOf: Month[] = [];
    const labels: number[] = [];
    // Numbers kept as one Float64Array per chunk and column, joined once at the end: no growing array of boxed values.
    const numbers = new Map<string, Float64Array[]>();
    const texts = new Map<string, Array<string | null>>();
    for (const column of columns) (column.kind === 'numeric' ? numbers : texts).set(column.name, []);
    for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
      const size = chunk.rowCount;
      const monthVector = chunk.getColumnVector(index.get('month')!);
      const labelVector = chunk.getColumnVector(index.get('label')!);
      for (let r = 0; r < size; r++) {
        monthOf.push(monthVector.getItem(r) as Month);
        labels.push(Number(labelVector.getItem(r)) === 1 ? 1 : 0);
      }
      for (const [name, pieces] of numbers) pieces.push(Float64Array.from(doubleVectorView(chunk, index.get(name)!)));
      for (const [name, out] of texts) {
        const vector = chunk.getColumnVector(index.get(name)!);
        for (let r = 0; r < size; r++) out.push(vector.getItem(r) as string | null);
      }
    }
    const values: LabelledTable['values'] = {};
    for (const column of columns) {
      if (column.kind === 'categorical') {
        values[column.name] = texts.get(column.name)!;
        continue;
      }
      const joined = new Float64Array(monthOf.length);
      let offset = 0;
      for (const piece of numbers.get(column.name)!) {
        joined.set(piece, offset);
        offset += piece.length;
      }
      values[column.name] = joined;
      numbers.delete(column.name);
    }
    return { ...query, columns, rows: monthOf.length, months: monthOf, labels: Float32Array.from(labels), values };
  });
}
