// DuckDB access shared by ETL, scoring and monitoring: one DuckDB instance per process (opening one costs tens of
// milliseconds and its own buffer pool, paid by every activity before), a connection per call with a scratch catalog
// of its own, SQL literals, and atomic Parquet writes (temp file + rename) so a retried activity replaces a
// partition, never half-writes it.
import { AsyncLocalStorage } from 'node:async_hooks';
import { DuckDBConnection, DuckDBDataChunk, DuckDBInstance, DuckDBResultReader, type DuckDBType } from '@duckdb/node-api';
import duckdbBindings from '@duckdb/node-bindings';
import { mkdirSync, rmSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { availableParallelism, tmpdir } from 'node:os';
import { configVariablesSchema } from '../lib/config.js';
import { removeOrphanedTemporaries, temporaryPathFor } from './temp-files.js';
import { diskFullOr } from './disk-full.js';

export type Row = Record<string, unknown>;

/**
 * The whole process's DuckDB may hold this much before it spills to disk (DUCKDB_MEMORY_LIMIT). One instance serves
 * every concurrent activity of a worker, so this bounds them together; DuckDB's own default (80% of RAM) would not.
 */
export const DUCKDB_MEMORY_LIMIT = '1GB';

const duckdbEnvSchema = configVariablesSchema.pick({ DUCKDB_THREADS: true, DUCKDB_MEMORY_LIMIT: true });

export interface DuckDBSettings {
  threads: number;
  memoryLimit: string;
}

/** Threads default to the cores this process may use; a bad variable is an error naming it. */
export function duckdbSettings(env: NodeJS.ProcessEnv = process.env): DuckDBSettings {
  const present = Object.fromEntries(Object.entries(env).filter(([key, value]) => key.startsWith('DUCKDB_') && value));
  const parsed = duckdbEnvSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`invalid ${issue.path.join('.')}=${JSON.stringify(env[String(issue.path[0])])}: ${issue.message}`);
  }
  return {
    threads: parsed.data.DUCKDB_THREADS ?? availableParallelism(),
    memoryLimit: parsed.data.DUCKDB_MEMORY_LIMIT ?? DUCKDB_MEMORY_LIMIT,
  };
}

let shared: { instance: Promise<DuckDBInstance>; spillDirectory: string } | undefined;
const spillDirectories = new Set<string>();
process.once('exit', () => spillDirectories.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** The process's DuckDB instance, created on first use with duckdbSettings() and a spill directory of its own. */
export function sharedDuckDB(): Promise<DuckDBInstance> {
  if (!shared) {
    const settings = duckdbSettings();
    // Spill files are named per database, not per process: each process gets a directory of its own.
    const spillDirectory = join(tmpdir(), 'credit-pipeline-duckdb', `${process.pid}-${Date.now().toString(36)}`);
    mkdirSync(spillDirectory, { recursive: true });
    spillDirectories.add(spillDirectory);
    const instance = DuckDBInstance.create(':memory:', {
      threads: String(settings.threads),
      memory_limit: settings.memoryLimit,
      temp_directory: spillDirectory,
    });
    shared = { instance, spillDirectory };
    instance.catch(() => (shared = undefined));
  }
  return shared.instance;
}

/** Closes the process's instance (tests, shutdown); the next call opens a new one. */
export async function closeSharedDuckDB(): Promise<void> {
  const current = shared;
  shared = undefined;
  if (!current) return;
  const instance = await current.instance.catch(() => undefined);
  instance?.closeSync();
  await rm(current.spillDirectory, { recursive: true, force: true });
  spillDirectories.delete(current.spillDirectory);
}

/** A connection held by withDuckDBSession for a run of steps; `busy` while one step uses it. */
interface Session {
  connection: DuckDBConnection;
  busy: boolean;
}
const sessions = new AsyncLocalStorage<Session>();
let scratchCounter = 0;

/**
 * Runs `work` with its own scratch catalog (an attached in-memory database made the default with USE), so the tables,
 * views and macros a step creates by plain names cannot meet another step's on the shared instance; the catalog is
 * detached afterwards whatever happens. The connection's temporary objects are dropped too when the connection is
 * kept for further steps (`reused`); a connection closed right after takes them with it, without the catalog query.
 */
async function inScratch<T>(connection: DuckDBConnection, work: (db: DuckDBConnection) => Promise<T>, reused: boolean): Promise<T> {
  const scratch = `scratch_${process.pid}_${++scratchCounter}`;
  await connection.run(`ATTACH ':memory:' AS ${scratch}; USE ${scratch}`);
  try {
    return await work(connection);
  } finally {
    let drops: string[] = [];
    if (reused) {
      // duckdb_tables()/duckdb_views(): a third of information_schema.tables' cost, paid after every step.
      const temporary = await connection.runAndReadAll(
        `SELECT table_name AS name, 'TABLE' AS kind FROM duckdb_tables() WHERE database_name = 'temp'
         UNION ALL SELECT view_name, 'VIEW' FROM duckdb_views() WHERE database_name = 'temp' AND NOT internal`,
      );
      drops = temporary.getRowObjectsJS().map((row) => `DROP ${row.kind} IF EXISTS temp.main.${sqlIdent(String(row.name))};`);
    }
    await connection.run(`${drops.join(' ')} USE memory; DETACH ${scratch}`);
  }
}

/**
 * Runs `work` with a DuckDB connection of the process's shared instance, closed afterwards whatever happens. Inside
 * withDuckDBSession the session's connection is reused (unless a step of it is still using it).
 */
export async function withDuckDB<T>(work: (db: DuckDBConnection) => Promise<T>): Promise<T> {
  const session = sessions.getStore();
  if (session && !session.busy) {
    session.busy = true;
    try {
      return await inScratch(session.connection, work, true);
    } finally {
      session.busy = false;
    }
  }
  const connection = await (await sharedDuckDB()).connect();
  try {
    return await inScratch(connection, work, false);
  } finally {
    connection.closeSync();
  }
}

/**
 * Runs `steps` with one DuckDB connection that every withDuckDB inside them reuses (each step still in a scratch
 * catalog of its own): a month's ETL as one unit of work instead of a connection per step.
 */
export async function withDuckDBSession<T>(steps: () => Promise<T>): Promise<T> {
  const connection = await (await sharedDuckDB()).connect();
  try {
    return await sessions.run({ connection, busy: false }, steps);
  } finally {
    connection.closeSync();
  }
}

/** A single-quoted SQL string literal. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** A TIMESTAMP literal of a time, in UTC. */
export function sqlTimestamp(at: Date): string {
  return `TIMESTAMP ${sqlString(at.toISOString().replace('T', ' ').replace('Z', ''))}`;
}

/** A double-quoted SQL identifier. */
export function sqlIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Column types whose values DuckDB's vectors already hold as the plain JS value queryRows gives (BIGINT: a bigint). */
const PLAIN_TYPES = new Set(['VARCHAR', 'DOUBLE', 'FLOAT', 'INTEGER', 'SMALLINT', 'TINYINT', 'BOOLEAN', 'BIGINT']);

/** Rows of a query as plain JS values: integers as numbers, DATE as 'YYYY-MM-DD', TIMESTAMP as ISO text. */
export async function queryRows<T extends Row = Row>(db: DuckDBConnection, sql: string): Promise<T[]> {
  const result = await db.run(sql);
  const types = result.columnTypes().map(String);
  if (!types.every((type) => PLAIN_TYPES.has(type))) {
    const reader = new DuckDBResultReader(result);
    await reader.readAll();
    return plainRows<T>(reader);
  }
  // Read column by column from the chunks: converting each value through a row reader first took most of the time
  // of large reads (the training set's rows).
  const names = result.columnNames();
  const rows: Row[] = Array.from({ length: Number(result.rowCount) }, () => ({}));
  let offset = 0;
  for (let index = 0; index < result.chunkCount; index++) {
    const chunk = result.getChunk(index);
    const size = chunk.rowCount;
    names.forEach((name, column) => {
      const vector = chunk.getColumnVector(column);
      const bigint = types[column] === 'BIGINT';
      for (let r = 0; r < size; r++) {
        const value = vector.getItem(r);
        rows[offset + r][name] = bigint && value !== null ? Number(value) : value;
      }
    });
    offset += size;
  }
  return rows as T[];
}

/**
 * A query's result column by column: each column named in `doubles` (which the query must return as DOUBLE without
 * NULL, e.g. `coalesce(CAST(x AS DOUBLE), 'NaN')`) as one Float64Array copied from DuckDB's vectors, the others as
 * arrays of plain values. Boxing every number into a JS array (a call per value) was most of the time and of the
 * garbage of reading monitoring's month of features.
 */
export async function queryColumns(
  db: DuckDBConnection,
  sql: string,
  doubles: ReadonlySet<string>,
): Promise<{ rows: number; columns: Record<string, Float64Array | unknown[]> }> {
  const result = await db.run(sql);
  const names = result.columnNames();
  const types = result.columnTypes().map(String);
  const rows = Number(result.rowCount);
  const columns = names.map((name, column) => {
    if (!doubles.has(name)) return new Array<unknown>(rows);
    if (types[column] !== 'DOUBLE') throw new Error(`queryColumns: column ${name} is ${types[column]}, not DOUBLE`);
    return new Float64Array(rows);
  });
  let offset = 0;
  for (let index = 0; index < result.chunkCount; index++) {
    const chunk = result.getChunk(index);
    const size = chunk.rowCount;
    columns.forEach((values, column) => {
      if (values instanceof Float64Array) {
        values.set(doubleVectorView(chunk, column), offset);
        return;
      }
      const vector = chunk.getColumnVector(column);
      const bigint = types[column] === 'BIGINT';
      for (let row = 0; row < size; row++) {
        const value = vector.getItem(row);
        values[offset + row] = bigint && value !== null ? Number(value) : value;
      }
    });
    offset += size;
  }
  return { rows, columns: Object.fromEntries(names.map((name, column) => [name, columns[column]])) };
}

/** A typed array type that can view a DuckDB vector of fixed-width values (DOUBLE, BIGINT, UINTEGER, ...). */
export type VectorViewType<T> = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number };

/**
 * A fixed-width column of a chunk, which must hold no NULL, as a typed array over DuckDB's own memory: valid while the
 * chunk lives (copy what is kept). The node-api's getItem per value (a call and a validity check each) was most of the
 * time of reading a column into JS.
 */
export function vectorView<T extends BigInt64Array | Float64Array | Uint32Array>(chunk: DuckDBDataChunk, column: number, type: VectorViewType<T>): T {
  const size = chunk.rowCount;
  const bytes = duckdbBindings.vector_get_data(duckdbBindings.data_chunk_get_vector(chunk.chunk, column), size * type.BYTES_PER_ELEMENT);
  return new type(bytes.buffer, bytes.byteOffset, size);
}

/**
 * Writes a typed array into a fixed-width column of a chunk made for appending (DuckDBDataChunk.create with as many
 * rows), no NULL: one copy into DuckDB's memory where setColumnValues converts and sets a value per call.
 */
export function fillVector(chunk: DuckDBDataChunk, column: number, values: BigInt64Array | Float64Array | Float32Array | Uint32Array): void {
  if (values.length !== chunk.rowCount) throw new Error(`column ${column}: ${values.length} values for a chunk of ${chunk.rowCount} rows`);
  const vector = duckdbBindings.data_chunk_get_vector(chunk.chunk, column);
  duckdbBindings.copy_data_to_vector(vector, 0, values.buffer as ArrayBuffer, values.byteOffset, values.byteLength);
}

/** Marks the rows of a chunk's column for which `isNull(row)` holds as NULL (a chunk made for appending). */
export function setNullRows(chunk: DuckDBDataChunk, column: number, isNull: (row: number) => boolean): void {
  const vector = duckdbBindings.data_chunk_get_vector(chunk.chunk, column);
  const rows = chunk.rowCount;
  const words = new BigUint64Array(Math.ceil(rows / 64)).fill(~0n);
  let any = false;
  for (let row = 0; row < rows; row++) {
    if (!isNull(row)) continue;
    words[row >> 6] &= ~(1n << BigInt(row & 63));
    any = true;
  }
  if (!any) return;
  duckdbBindings.vector_ensure_validity_writable(vector);
  duckdbBindings.copy_data_to_vector_validity(vector, 0, words.buffer, 0, words.byteLength);
}

/** Writes strings into a VARCHAR (or JSON) column of a chunk made for appending, row `row` ← `valueOf(row)` (null: NULL). */
export function fillVarcharVector(chunk: DuckDBDataChunk, column: number, valueOf: (row: number) => string | null): void {
  const vector = duckdbBindings.data_chunk_get_vector(chunk.chunk, column);
  const rows = chunk.rowCount;
  let nulls = false;
  for (let row = 0; row < rows; row++) {
    const value = valueOf(row);
    if (value === null) nulls = true;
    else duckdbBindings.vector_assign_string_element(vector, row, value);
  }
  if (nulls) setNullRows(chunk, column, (row) => valueOf(row) === null);
}

/**
 * Writes lists of strings into a VARCHAR[] column of a chunk made for appending, row `row` ← `listOf(row)`: the list
 * offsets in one copy, then each string (an empty list costs nothing but its offset).
 */
export function fillVarcharListVector(chunk: DuckDBDataChunk, column: number, listOf: (row: number) => readonly string[]): void {
  const vector = duckdbBindings.data_chunk_get_vector(chunk.chunk, column);
  const rows = chunk.rowCount;
  const lists = Array.from({ length: rows }, (_, row) => listOf(row));
  // duckdb_list_entry: {offset, length} as two uint64 per row.
  const entries = new BigUint64Array(2 * rows);
  let total = 0;
  lists.forEach((list, row) => {
    entries[2 * row] = BigInt(total);
    entries[2 * row + 1] = BigInt(list.length);
    total += list.length;
  });
  duckdbBindings.list_vector_reserve(vector, total);
  duckdbBindings.list_vector_set_size(vector, total);
  duckdbBindings.copy_data_to_vector(vector, 0, entries.buffer, 0, entries.byteLength);
  const child = duckdbBindings.list_vector_get_child(vector);
  let at = 0;
  for (const list of lists) for (const value of list) duckdbBindings.vector_assign_string_element(child, at++, value);
}

/**
 * Appends `rows` rows to `table` a chunk (of at most DuckDB's vector size) at a time: `fill` fills the chunk's columns
 * (of `types`, the table's) with rows `start` to `end` (exclusive). Columnar: one call per column and chunk where the
 * appender's per-value calls were one each.
 */
export async function appendInChunks(
  db: DuckDBConnection,
  table: string,
  types: readonly DuckDBType[],
  rows: number,
  fill: (chunk: DuckDBDataChunk, start: number, end: number) => void,
): Promise<void> {
  const appender = await db.createAppender(table);
  try {
    const chunkRows = duckdbBindings.vector_size();
    for (let start = 0; start < rows; start += chunkRows) {
      const end = Math.min(start + chunkRows, rows);
      const chunk = DuckDBDataChunk.create([...types], end - start);
      fill(chunk, start, end);
      appender.appendDataChunk(chunk);
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}

/** A DOUBLE column of a chunk without NULL as a Float64Array over DuckDB's memory (see vectorView). */
export function doubleVectorView(chunk: DuckDBDataChunk, column: number): Float64Array {
  return vectorView(chunk, column, Float64Array);
}

/** The rows of a fully read result (of a query or a prepared statement) as queryRows gives them. */
export function plainRows<T extends Row = Row>(reader: DuckDBResultReader): T[] {
  const types = reader.columnTypes().map(String);
  const names = reader.columnNames();
  return reader.getRowObjectsJS().map((row) => {
    const out: Row = {};
    names.forEach((name, index) => {
      out[name] = plainValue(row[name], types[index]);
    });
    return out as T;
  });
}

/** A value of a result as plainRows gives it: a BIGINT as a number, a DATE as its ISO day, a timestamp as ISO text. */
export function plainValue(value: unknown, type: string): unknown {
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

/** Parquet codecs the datamart writes: zstd, the smallest files; lz4_raw, ~15% larger and cheaper to decode. */
export type ParquetCompression = 'zstd' | 'lz4_raw';

/**
 * The SELECT of an append-only log rewritten whole: the rows of `existingFile` in their order, then `newRowSelect`'s,
 * over `columns` (or `newRowSelect` alone when there is no file yet). Written with writeParquetAtomic, the log is
 * never seen half-appended.
 */
export function appendedLogSelect(existingFile: string | null, columns: readonly string[], newRowSelect: string): string {
  if (existingFile === null) return newRowSelect;
  return `SELECT ${columns.join(', ')} FROM (
       SELECT *, 0 AS part FROM read_parquet(${sqlString(existingFile)}, file_row_number = true)
       UNION ALL BY NAME SELECT *, 1 AS part, 0::BIGINT AS file_row_number FROM (${newRowSelect})
     ) ORDER BY part, file_row_number`;
}

/**
 * Writes the result of `selectSql` to `destination` as one Parquet file, atomically: DuckDB writes a temporary
 * file beside it, which is renamed over the destination only once complete. Returns the row count.
 */
export async function writeParquetAtomic(
  db: DuckDBConnection,
  selectSql: string,
  destination: string,
  signal?: AbortSignal,
  compression: ParquetCompression = 'zstd',
): Promise<number> {
  signal?.throwIfAborted();
  await mkdir(dirname(destination), { recursive: true });
  const temporary = temporaryPathFor(destination);
  // A cancelled activity interrupts the query; either way nothing is renamed into place after the signal fired.
  const interrupt = () => db.interrupt();
  signal?.addEventListener('abort', interrupt, { once: true });
  try {
    const result = await db.run(`COPY (${selectSql}) TO ${sqlString(temporary)} (FORMAT parquet, COMPRESSION ${compression})`);
    const written = Number(result.rowsChanged);
    signal?.throwIfAborted();
    await rename(temporary, destination);
    await removeOrphanedTemporaries(destination);
    return written;
  } catch (error) {
    const failure = await diskFullOr(error, destination, { partial: temporary });
    await rm(temporary, { force: true });
    throw signal?.aborted ? signal.reason : failure;
  } finally {
    signal?.removeEventListener('abort', interrupt);
  }
}

/** `read_parquet` of one file or a glob, with Hive partition columns. */
export function readParquet(pathOrGlob: string | string[], hivePartitioning = false): string {
  const list = Array.isArray(pathOrGlob) ? `[${pathOrGlob.map(sqlString).join(', ')}]` : sqlString(pathOrGlob);
  return `read_parquet(${list}${hivePartitioning ? ', hive_partitioning = true' : ', hive_partitioning = false'})`;
}
