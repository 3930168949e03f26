// DuckDB access shared by ETL, scoring and monitoring: one in-memory database per call site, SQL literals,
// and atomic Parquet writes (temp file + rename) so a retried activity replaces a partition, never half-writes it.
import { DuckDBConnection, DuckDBInstance, type DuckDBResultReader } from '@duckdb/node-api';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomUUID } from 'node:crypto';
import { removeOrphanedTemporaries, temporaryPathFor } from './temp-files.js';

export type Row = Record<string, unknown>;

/**
 * Each in-memory database may hold this much before it spills to disk. A worker runs several activities at once and
 * DuckDB's default (80% of RAM each) let four stagings of large CSVs push a worker past 2 GiB.
 */
export const DUCKDB_MEMORY_LIMIT = '512MB';

/** Runs `work` with a fresh in-memory DuckDB connection, closed afterwards whatever happens. */
export async function withDuckDB<T>(work: (db: DuckDBConnection) => Promise<T>, threads = 2): Promise<T> {
  // Spill files are named per database, not per process: each database gets a directory of its own.
  const spillDirectory = join(tmpdir(), 'credit-pipeline-duckdb', randomUUID());
  await mkdir(spillDirectory, { recursive: true });
  const instance = await DuckDBInstance.create(':memory:', {
    threads: String(threads),
    memory_limit: DUCKDB_MEMORY_LIMIT,
    temp_directory: spillDirectory,
  });
  const connection = await instance.connect();
  try {
    return await work(connection);
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(spillDirectory, { recursive: true, force: true });
  }
}

/** A single-quoted SQL string literal. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** A double-quoted SQL identifier. */
export function sqlIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Rows of a query as plain JS values: integers as numbers, DATE as 'YYYY-MM-DD', TIMESTAMP as ISO text. */
export async function queryRows<T extends Row = Row>(db: DuckDBConnection, sql: string): Promise<T[]> {
  return plainRows<T>(await db.runAndReadAll(sql));
}

/** The rows of a fully read result (of a query or a prepared statement) as queryRows gives them. */
export function plainRows<T extends Row = Row>(reader: DuckDBResultReader): T[] {
  const types = reader.columnTypes().map(String);
  const names = reader.columnNames();
  return reader.getRowObjectsJS().map((row) => {
    const out: Row = {};
    names.forEach((name, index) => {
      out[name] = toPlain(row[name], types[index]);
    });
    return out as T;
  });
}

function toPlain(value: unknown, type: string): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) return type === 'DATE' ? value.toISOString().slice(0, 10) : value.toISOString();
  return value;
}

export async function queryValue<T = unknown>(db: DuckDBConnection, sql: string): Promise<T> {
  const rows = await queryRows(db, sql);
  const first = rows[0];
  if (!first) throw new Error(`query returned no row: ${sql}`);
  return Object.values(first)[0] as T;
}

/**
 * Writes the result of `selectSql` to `destination` as one Parquet file, atomically: DuckDB writes a temporary
 * file beside it, which is renamed over the destination only once complete. Returns the row count.
 */
export async function writeParquetAtomic(db: DuckDBConnection, selectSql: string, destination: string): Promise<number> {
  await mkdir(dirname(destination), { recursive: true });
  const temporary = temporaryPathFor(destination);
  try {
    const result = await db.run(`COPY (${selectSql}) TO ${sqlString(temporary)} (FORMAT parquet, COMPRESSION zstd)`);
    const written = Number(result.rowsChanged);
    await rename(temporary, destination);
    await removeOrphanedTemporaries(destination);
    return written;
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** `read_parquet` of one file or a glob, with Hive partition columns. */
export function readParquet(pathOrGlob: string | string[], hivePartitioning = false): string {
  const list = Array.isArray(pathOrGlob) ? `[${pathOrGlob.map(sqlString).join(', ')}]` : sqlString(pathOrGlob);
  return `read_parquet(${list}${hivePartitioning ? ', hive_partitioning = true' : ', hive_partitioning = false'})`;
}

/**
 * Runs a query whose first `keyCount` columns are text and whose others are FLOAT, and returns the keys and a
 * row-major Float32Array of the rest (NULL → NaN). Reads DuckDB's chunks directly: converting every value into a JS
 * row object first took several times longer than scoring itself.
 */
export async function queryFloatMatrix(
  db: DuckDBConnection,
  sql: string,
  keyCount: number,
): Promise<{ keys: string[][]; matrix: { data: Float32Array; rows: number; cols: number } }> {
  const result = await db.run(sql);
  const rows = Number(result.rowCount);
  const cols = result.columnCount - keyCount;
  const data = new Float32Array(rows * cols);
  const keys: string[][] = Array.from({ length: keyCount }, () => new Array<string>(rows));
  let offset = 0;
  for (let index = 0; index < result.chunkCount; index++) {
    const chunk = result.getChunk(index);
    const size = chunk.rowCount;
    for (let k = 0; k < keyCount; k++) {
      const vector = chunk.getColumnVector(k);
      for (let r = 0; r < size; r++) keys[k][offset + r] = String(vector.getItem(r));
    }
    for (let c = 0; c < cols; c++) {
      const vector = chunk.getColumnVector(keyCount + c);
      for (let r = 0; r < size; r++) {
        const value = vector.getItem(r) as number | null;
        data[(offset + r) * cols + c] = value === null ? Number.NaN : value;
      }
    }
    offset += size;
  }
  return { keys, matrix: { data, rows, cols } };
}
