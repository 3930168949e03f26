// Stages each source CSV once into a month-partitioned Parquet cache so that every month's bronze is a hard link to
// one file instead of a re-parse of the whole CSV or a rewrite of its rows: each staged month file already has
// bronze's columns (the raw text columns, source_line, date_spelling and ingested_at, the time the CSV was read). The
// cache is keyed by the file's real path, size, mtime, ctime and inode (an edit that keeps size and mtime, `touch -d`
// included, changes the ctime; a file replaced by a rename has another inode), and by a restage token when a forced
// backfill asks for the file to be read and hashed again whatever the key says; it is built in a temporary directory and renamed into place
// whole: concurrent workers may build the same cache, the first rename wins and the others use it. Its manifest
// carries the detected date spelling and the content hash of each month's slice of rows (lineage.ts builds every
// partition's fingerprint on it, core/datamart/graph.ts).
import { createHash } from 'node:crypto';
import { removeOrphanedTemporaries, temporaryPathFor } from '../temp-files.js';
import { mkdir, readdir, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { DuckDBConnection } from '@duckdb/node-api';
import { queryRows, queryValue, readParquet, sqlIdent, sqlString, sqlTimestamp, withDuckDB, type ParquetCompression } from '../duckdb.js';
import { InvalidSourceData } from '../../lib/errors.js';
import { SOURCE_FILES, type Source } from '../../lib/layout.js';
import { inspectSourceFile } from './csv-header.js';
import { DATE_SPELLINGS, detectDateSpelling, monthUnder } from './date-spelling.js';
import { REQUIRED_COLUMNS } from './source-columns.js';
import { ByteBudget } from '../byte-budget.js';
import { diskFullOr } from '../disk-full.js';

const manifestSchema = z.object({
  source: z.string(),
  file: z.string(),
  size: z.number(),
  mtimeMs: z.number(),
  columns: z.array(z.string()).min(1),
  dateSpelling: z.enum(DATE_SPELLINGS),
  rows: z.number().int().min(1),
  /**
   * Rows whose snapshot_date is empty: they belong to no month, so no bronze partition holds them. They are kept in
   * UNDATED_FILE and quarantined with every month of the source (silver.ts), since any month may be missing them.
   */
  undatedRows: z.number().int().min(0),
  /** Content hash of the undated rows (part of every month's slice fingerprint) and the first of their lines. */
  undated: z.object({ sha: z.string().regex(/^[0-9a-f]{64}$/), lines: z.array(z.number().int()) }).optional(),
  months: z.record(z.string().regex(/^\d{4}-\d{2}$/), z.number().int().min(1)),
  /** sha256 of each month's rows (every column's text, in file order, line numbers left out): the slice's content. */
  slices: z.record(z.string().regex(/^\d{4}-\d{2}$/), z.string().regex(/^[0-9a-f]{64}$/)),
});
export type StagedSource = z.infer<typeof manifestSchema> & { dir: string };

const MANIFEST = 'manifest.json';
/** Part of the cache key: a cache written by code with another layout is not read, a new one is staged. */
const STAGING_FORMAT = 4;
/** The undated rows of a staged file, with bronze's columns. */
export const UNDATED_FILE = 'undated.parquet';
/** How many of the undated rows' line numbers the manifest keeps for messages. */
const UNDATED_LINES_KEPT = 5;

/** Fingerprint of a month a source file has no row in. */
export const EMPTY_SLICE = 'empty';

export function stagingRoot(datamartDir: string): string {
  return join(datamartDir, '_staging');
}

/**
 * Content hash of a source's rows of one month; EMPTY_SLICE when it has none. Undated rows might belong to any month,
 * so they are part of every month's slice: a change of them makes every month of the source stale.
 */
export function sliceFingerprint(staged: StagedSource, month: string): string {
  const slice = staged.slices[month] ?? EMPTY_SLICE;
  return staged.undated ? createHash('sha256').update(`${slice}|undated:${staged.undated.sha}`).digest('hex') : slice;
}

/**
 * Parquet file of one staged month, or null when the source has no row in that month: the month's rows with bronze's
 * columns, not in file order (each row's source_line gives it).
 */
export function stagedMonthFile(staged: StagedSource, month: string): string | null {
  return staged.months[month] ? monthFileIn(staged.dir, month) : null;
}

function monthFileIn(dir: string, month: string): string {
  return join(dir, `${month}.parquet`);
}

// One build per cache key per process: the months of a backfill all ask for the same file at once.
const inFlight = new Map<string, Promise<StagedSource>>();

/**
 * CSV bytes this process stages at once. Staging holds a whole CSV in the worker's one DuckDB instance: four sources
 * at once outgrew its memory limit at 10 × the real data set. Files of the real data set's size are staged side by
 * side (one such staging leaves a core idle), a larger one alone.
 */
const STAGING_BUDGET_BYTES = 64 * 2 ** 20;
const stagingBudget = new ByteBudget(STAGING_BUDGET_BYTES);

export async function stageSource(
  datamartDir: string,
  sourceDir: string,
  source: Source,
  signal?: AbortSignal,
  /** Files up to this size are staged in memory, larger ones through a DuckDB file (tests set it to compare both). */
  inMemoryMaxBytes = IN_MEMORY_STAGING_MAX_BYTES,
  /**
   * A forced backfill's token (its run id): the file is staged again, read and hashed, once per token, whatever its
   * metadata says (a copy restored with its old times and size is seen too).
   */
  restage?: string,
): Promise<StagedSource> {
  const path = join(sourceDir, SOURCE_FILES[source]);
  const file = await inspectSourceFile(path, REQUIRED_COLUMNS[source]);
  const key = createHash('sha256')
    .update(`${STAGING_FORMAT}|${await realpath(path)}|${file.size}|${file.mtimeMs}|${file.ctimeMs}|${file.ino}${restage ? `|restage:${restage}` : ''}`)
    .digest('hex')
    .slice(0, 20);
  const dir = join(stagingRoot(datamartDir), source, key);
  const existing = await readManifest(dir);
  if (existing) return existing;
  let pending = inFlight.get(dir);
  if (!pending) {
    const build = stagingBudget.run(file.size, () => buildStage(dir, source, file.path, file.size, file.mtimeMs, file.columns, file.size <= inMemoryMaxBytes));
    pending = build.finally(() => inFlight.delete(dir));
    inFlight.set(dir, pending);
  }
  // Shared by the callers of this process, so it is not interrupted for one of them; a cancelled caller stops here.
  const staged = await pending;
  signal?.throwIfAborted();
  return staged;
}

/** The undated rows of a staged version (its directory, as bronze lineage's `stagedFrom` names it), or null: none. */
export async function stagedUndatedRows(stagedDir: string): Promise<{ rows: number; file: string; lines: number[] } | null> {
  const staged = await readManifest(stagedDir);
  if (!staged) throw new Error(`staging cache ${stagedDir} has no manifest: stage the source again (rerun the backfill)`);
  if (staged.undatedRows === 0 || !staged.undated) return null;
  return { rows: staged.undatedRows, file: join(stagedDir, UNDATED_FILE), lines: staged.undated.lines };
}

export async function readManifest(dir: string): Promise<StagedSource | null> {
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST), 'utf8');
  } catch {
    return null;
  }
  const parsed = manifestSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`staging manifest ${join(dir, MANIFEST)} is invalid: ${parsed.error.message}`);
  return { ...parsed.data, dir };
}

async function buildStage(
  dir: string,
  source: Source,
  path: string,
  size: number,
  mtimeMs: number,
  columns: string[],
  /**
   * A file well under the memory limit is held in memory and hashed in one pass (staging at 10 × the real data set:
   * 6.9 s instead of 11.8 s); a larger one goes to a DuckDB file of its own that DuckDB pages out, and is hashed back
   * month by month (at 100 ×, the 2.1 GB clickstream ran the worker out of memory otherwise).
   */
  inMemory: boolean,
): Promise<StagedSource> {
  const temporary = temporaryPathFor(dir);
  await mkdir(temporary, { recursive: true });
  const ingestedAt = new Date();
  try {
    const manifest = await withDuckDB((db) =>
      withStagingDatabase(db, join(temporary, RAW_DATABASE), inMemory, async (raw) => {
        await loadCsv(db, raw, path, columns);
        const rows = await queryValue<number>(db, `SELECT count(*) FROM ${raw}`);
        if (rows === 0) throw new InvalidSourceData({ file: path, line: 2 }, 'file has a header but no data rows');

        const values = await queryRows<{ value: string; line: number }>(
          db,
          `SELECT snapshot_date AS value, min(rowid) + 2 AS line FROM ${raw} WHERE snapshot_date IS NOT NULL AND snapshot_date <> '' GROUP BY 1`,
        );
        const dateSpelling = detectDateSpelling(values, path);
        await db.run('CREATE TABLE month_of (value VARCHAR, month VARCHAR)');
        const appender = await db.createAppender('month_of');
        for (const { value } of values) {
          appender.appendVarchar(value);
          appender.appendVarchar(monthUnder(dateSpelling, value));
          appender.endRow();
        }
        appender.closeSync();

        // rowid follows file order (insertion order is preserved); +2 skips the header. Quoted fields spanning lines
        // would shift this, which the sources never have. The columns are bronze's (bronze.ts links these files).
        await db.run(
          `COPY (SELECT raw.*, raw.rowid + 2 AS source_line, ${sqlString(dateSpelling)} AS date_spelling,
                   ${sqlTimestamp(ingestedAt)} AS ingested_at, month_of.month AS _month
                 FROM ${raw} AS raw JOIN month_of ON raw.snapshot_date = month_of.value)
           TO ${sqlString(join(temporary, PARTITIONS))} (FORMAT parquet, PARTITION_BY (_month), COMPRESSION ${STAGED_COMPRESSION})`,
        );
        const months = [...new Set(values.map(({ value }) => monthUnder(dateSpelling, value)))];
        await gatherMonthFiles(db, temporary, months);
        const slices = inMemory ? await sliceHashesOfTable(db, raw, columns) : await sliceHashes(db, temporary, columns, months);
        const dated = slices.reduce((sum, entry) => sum + entry.rows, 0);
        const undated = rows > dated ? await stageUndated(db, raw, columns, dateSpelling, ingestedAt, join(temporary, UNDATED_FILE)) : undefined;
        return manifestSchema.parse({
          source,
          file: path,
          size,
          mtimeMs,
          columns,
          dateSpelling,
          rows,
          undatedRows: rows - dated,
          undated,
          months: Object.fromEntries(slices.map((entry) => [entry.month, entry.rows])),
          slices: Object.fromEntries(slices.map((entry) => [entry.month, entry.sha])),
        });
      }),
    );
    await writeFile(join(temporary, MANIFEST), JSON.stringify(manifest, null, 2));
    try {
      await rename(temporary, dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
      // Another worker staged the same file first: same content, use theirs.
    }
    await removeOrphanedTemporaries(dir);
    const staged = await readManifest(dir);
    if (!staged) throw new Error(`staging cache ${dir} has no manifest after it was built`);
    return staged;
  } catch (error) {
    // The staged months take about the CSV's size (compressed Parquet of its text, smaller; the raw database, larger).
    throw await diskFullOr(error, dir, { about: size });
  } finally {
    await rm(temporary, { recursive: true, force: true });
  }
}

/**
 * Writes the rows without a snapshot_date (bronze's columns) to `file`; returns their content hash (as a slice's) and
 * their first line numbers.
 */
async function stageUndated(
  db: DuckDBConnection,
  raw: string,
  columns: string[],
  dateSpelling: string,
  ingestedAt: Date,
  file: string,
): Promise<{ sha: string; lines: number[] }> {
  const undated = `snapshot_date IS NULL OR snapshot_date = ''`;
  await db.run(
    `COPY (SELECT raw.*, raw.rowid + 2 AS source_line, ${sqlString(dateSpelling)} AS date_spelling, ${sqlTimestamp(ingestedAt)} AS ingested_at
           FROM ${raw} AS raw WHERE ${undated} ORDER BY raw.rowid)
     TO ${sqlString(file)} (FORMAT parquet, COMPRESSION ${STAGED_COMPRESSION})`,
  );
  const [{ sha }] = await queryRows<{ sha: string }>(db, `SELECT sha256(string_agg(${rowTextOf(columns)}, chr(10) ORDER BY rowid)) AS sha FROM ${raw} WHERE ${undated}`);
  const lines = await queryRows<{ line: number }>(db, `SELECT rowid + 2 AS line FROM ${raw} WHERE ${undated} ORDER BY rowid LIMIT ${UNDATED_LINES_KEPT}`);
  return { sha, lines: lines.map((row) => Number(row.line)) };
}

/**
 * Codec of the staged month files (bronze's), like the feature store's: the 10 x clickstream's partitioned COPY took
 * 3.3 CPU s against 3.8-4.6 with zstd, for files ~20% larger (74 against 61 MB), and each month's silver reads it back
 * cheaper.
 */
const STAGED_COMPRESSION: ParquetCompression = 'lz4_raw';

/** Folder COPY ... PARTITION_BY writes into, under the staging directory; emptied into one file per month. */
const PARTITIONS = '_partitions';

/**
 * Moves the file COPY ... PARTITION_BY (_month) wrote for each month to `<month>.parquet` (monthFileIn). A month
 * written as several files (DuckDB closes and reopens partition files past partitioned_write_max_open_files, 100 by
 * default: a source spanning more months) is rewritten into one, so bronze can still link a single file.
 */
async function gatherMonthFiles(db: DuckDBConnection, dir: string, months: string[]): Promise<void> {
  for (const month of months) {
    const partition = join(dir, PARTITIONS, `_month=${month}`);
    const files = (await readdir(partition)).filter((name) => name.endsWith('.parquet')).map((name) => join(partition, name));
    if (files.length === 1) await rename(files[0], monthFileIn(dir, month));
    else await db.run(`COPY (SELECT * FROM ${readParquet(files)}) TO ${sqlString(monthFileIn(dir, month))} (FORMAT parquet, COMPRESSION ${STAGED_COMPRESSION})`);
  }
  await rm(join(dir, PARTITIONS), { recursive: true, force: true });
}

/**
 * Runs `work` with a table name in a database of its own: in memory, or a DuckDB file at `file` (removed afterwards)
 * where a whole CSV is paged out under the memory limit, since an in-memory table of a large source outgrew it.
 */
async function withStagingDatabase<T>(db: DuckDBConnection, file: string, inMemory: boolean, work: (raw: string) => Promise<T>): Promise<T> {
  const name = `staging_${process.pid}_${++stagingDatabases}`;
  await db.run(`ATTACH ${inMemory ? `':memory:'` : sqlString(file)} AS ${name}`);
  try {
    return await work(`${name}.main.raw`);
  } finally {
    await db.run(`DETACH ${name}`);
    await rm(file, { force: true });
    await rm(`${file}.wal`, { force: true });
  }
}
let stagingDatabases = 0;
const RAW_DATABASE = '_raw.duckdb';
/** Source files up to this size are staged in memory (see buildStage). */
const IN_MEMORY_STAGING_MAX_BYTES = 256 * 1024 * 1024;

/** Reads the CSV as text with the header's columns, strict about quoting and column counts, into table `raw`. */
async function loadCsv(db: DuckDBConnection, raw: string, path: string, columns: string[]): Promise<void> {
  const schema = `{${columns.map((column) => `${sqlString(column)}: 'VARCHAR'`).join(', ')}}`;
  try {
    // Keys trimmed once here so that month assignment and detection see the same text.
    await db.run(
      `CREATE TABLE ${raw} AS SELECT * REPLACE (trim(snapshot_date) AS snapshot_date)
       FROM read_csv(${sqlString(path)}, columns = ${schema}, header = true,
         auto_detect = false, delim = ',', quote = '"', escape = '"', strict_mode = true, encoding = 'utf-8')`,
    );
  } catch (error) {
    throw csvError(path, error);
  }
}

type SliceHash = { month: string; rows: number; sha: string };

/**
 * Row count and content hash of each month's slice, read back from its month file one month at a time (a month's
 * rows, not the whole file's, in memory at once): sha256 of the rows' text joined by newlines in file order.
 */
async function sliceHashes(
  db: DuckDBConnection,
  dir: string,
  columns: string[],
  months: string[],
): Promise<SliceHash[]> {
  const rowText = rowTextOf(columns);
  const slices: SliceHash[] = [];
  for (const month of months.sort()) {
    const [slice] = await queryRows<{ rows: number; sha: string }>(
      db,
      `SELECT count(*) AS rows, sha256(string_agg(${rowText}, chr(10) ORDER BY source_line)) AS sha
       FROM ${readParquet(monthFileIn(dir, month))}`,
    );
    slices.push({ month, ...slice });
  }
  return slices;
}

/** The same hashes as sliceHashes, in one grouped pass over the staged table (its months' text all in memory at once). */
async function sliceHashesOfTable(db: DuckDBConnection, raw: string, columns: string[]): Promise<SliceHash[]> {
  return queryRows<SliceHash>(
    db,
    `SELECT month_of.month AS month, count(*) AS rows, sha256(string_agg(${rowTextOf(columns)}, chr(10) ORDER BY raw.rowid)) AS sha
     FROM ${raw} AS raw JOIN month_of ON raw.snapshot_date = month_of.value GROUP BY month_of.month ORDER BY month_of.month`,
  );
}

function rowTextOf(columns: string[]): string {
  return `concat_ws(chr(31), ${columns.map((c) => `coalesce(${sqlIdent(c)}, chr(30))`).join(', ')})`;
}

function csvError(path: string, error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  // Running out of memory says nothing about the file: it stays a retryable failure, not InvalidSourceData.
  if (/Out of Memory Error/i.test(message)) return error instanceof Error ? error : new Error(message);
  const line = /Line:\s*(\d+)/.exec(message);
  const problem = message
    .split('\n')
    .map((text) => text.trim())
    .filter((text) => text && !/^(Invalid Input Error|Original Line|Possible (fixes|Solution)|file =|\*)/.test(text))
    .slice(0, 2)
    .join('; ');
  return new InvalidSourceData(
    { file: path, line: line ? Number(line[1]) : undefined },
    `unreadable CSV: ${problem || message.split('\n')[0]}`,
  );
}

/**
 * Removes the staged versions of source files that no bronze partition references any more (the file changed since),
 * keeping the newest version of each source (a backfill may be about to use it). Returns the removed directories.
 */
export async function pruneStaging(datamartDir: string, referenced: ReadonlySet<string>): Promise<string[]> {
  const removed: string[] = [];
  for (const source of await readdir(stagingRoot(datamartDir)).catch(() => [] as string[])) {
    const sourceDir = join(stagingRoot(datamartDir), source);
    const versions: Array<{ dir: string; at: number }> = [];
    for (const name of await readdir(sourceDir).catch(() => [] as string[])) {
      if (name.endsWith('.tmp')) continue; // a staging in progress, or an orphan its next build removes
      const dir = join(sourceDir, name);
      const at = await stat(join(dir, MANIFEST)).then((s) => s.mtimeMs, () => 0);
      versions.push({ dir, at });
    }
    const newest = versions.reduce<{ dir: string; at: number } | undefined>((best, v) => (!best || v.at > best.at ? v : best), undefined);
    for (const { dir } of versions) {
      if (dir === newest?.dir || referenced.has(dir)) continue;
      await rm(dir, { recursive: true, force: true });
      removed.push(dir);
    }
  }
  return removed;
}
