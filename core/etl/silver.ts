// Silver: one month of one source typed and cleaned (silver-sql.ts), with rejected rows moved to quarantine with a
// reason. Everything is decided in memory before anything is written, so a month refused for too many rejects
// (DataQualityError) leaves its earlier partitions untouched.
import { access } from 'node:fs/promises';
import { DataQualityError } from '../../lib/errors.js';
import { datamart, partitionFile, type Source } from '../../lib/layout.js';
import { snapshotDate, type Month } from '../../lib/months.js';
import type { DuckDBConnection } from '@duckdb/node-api';
import { queryRows, queryValue, readParquet, sqlIdent, sqlString, withDuckDB, writeParquetAtomic } from '../duckdb.js';
import { bronzeFile } from './bronze.js';
import { defineCleaningMacros } from './cleaning-sql.js';
import { DATE_SPELLINGS, type DateSpelling } from './date-spelling.js';
import { SILVER_DEFINITIONS } from './silver-sql.js';
import { BRONZE_LINEAGE_COLUMNS } from './source-columns.js';
import { NUMERIC_COLUMNS } from '../../lib/column-ranges.js';
import { addMonths } from '../../lib/months.js';
import { exists, type Publish } from './partitions.js';
import { stagedUndatedRows } from './staging.js';

export interface SilverResult {
  source: Source;
  month: Month;
  rows: number;
  quarantined: number;
  path: string;
  /** Per column kept as NULL because its value was out of range or unreadable (lib/column-ranges.ts), counted. */
  nulledValues: NulledValues[];
  /** Data findings: a column with no usable value this month although the month before had some. */
  findings: string[];
}

export interface NulledValues {
  column: string;
  /** Values given (not blank, not a placeholder) that became NULL. */
  count: number;
  /** Of the accepted rows of the month. */
  rows: number;
  firstLine: number;
  reason: string;
}

export function silverFile(datamartDir: string, source: Source, month: Month): string {
  return partitionFile(datamart.sourceTable(datamartDir, 'silver', source), month);
}

export function quarantineFile(datamartDir: string, source: Source, month: Month): string {
  return partitionFile(datamart.sourceTable(datamartDir, 'quarantine', source), month);
}

/**
 * Writes silver/<source> of `month` (through `publish`) and its quarantine from the bronze partition of the month.
 * `stagedFrom` is the staging version the bronze was read from: its undated rows are quarantined with the month.
 */
export async function buildSilver(options: {
  datamartDir: string;
  source: Source;
  month: Month;
  maxQuarantineShare: number;
  stagedFrom: string;
  signal?: AbortSignal;
  publish: Publish;
}): Promise<SilverResult> {
  const { datamartDir, source, month, maxQuarantineShare, stagedFrom, signal, publish } = options;
  const bronze = bronzeFile(datamartDir, source, month);
  await access(bronze).catch(() => {
    throw new Error(`bronze partition ${bronze} does not exist: ingest ${source} ${month} first`);
  });
  // Rows of the file without a snapshot_date may belong to this month: quarantined with it and counted against it.
  const undated = await stagedUndatedRows(stagedFrom);
  const path = silverFile(datamartDir, source, month);
  const quarantinePath = quarantineFile(datamartDir, source, month);

  return withDuckDB(async (db) => {
    await defineCleaningMacros(db, 'connection');
    await db.run(`CREATE VIEW bronze AS SELECT * FROM ${readParquet(bronze)}`);
    const spellings = await queryRows<{ spelling: string }>(db, 'SELECT DISTINCT date_spelling AS spelling FROM bronze');
    const spelling = (spellings[0]?.spelling ?? 'YYYY-MM-DD') as DateSpelling;
    if (!DATE_SPELLINGS.includes(spelling) || spellings.length > 1) {
      throw new Error(`bronze partition ${bronze} has an invalid date_spelling column`);
    }
    const rawColumns = (await queryRows<{ name: string }>(db, `SELECT column_name AS name FROM (DESCRIBE bronze)`))
      .map((row) => row.name)
      .filter((name) => !(BRONZE_LINEAGE_COLUMNS as readonly string[]).includes(name));
    await db.run(`CREATE TABLE cleaned AS ${cleanedSelect(source, { snapshotDate: snapshotDate(month), dateSpelling: spelling }, rawColumns)}`);

    // The accepted values of each range-checked column are counted in the same pass (emptiedColumns reads them).
    const checked = Object.keys(NUMERIC_COLUMNS[source]).filter((column) => rawColumns.includes(column));
    const [counts] = await queryRows<{ total: number; quarantined: number } & Record<string, number>>(
      db,
      `SELECT count(*) AS total, count(reason) AS quarantined${checked.map((column, i) => `, count(${sqlIdent(column)}) FILTER (WHERE reason IS NULL) AS c${i}`).join('')}
       FROM cleaned`,
    );
    const acceptedValues = new Map(checked.map((column, i) => [column, Number(counts[`c${i}`])]));
    // A month without rows of the source is the completeness check's matter (completeness.ts), not a quarantine share.
    const undatedHere = counts.total > 0 && undated ? undated : null;
    const total = counts.total + (undatedHere?.rows ?? 0);
    const quarantined = counts.quarantined + (undatedHere?.rows ?? 0);

    if (total > 0 && quarantined / total > maxQuarantineShare) {
      const reasons = [
        ...(undatedHere ? [{ reason: `${UNDATED_REASON} (lines ${undatedHere.lines.join(', ')}${undatedHere.rows > undatedHere.lines.length ? ', …' : ''})`, n: undatedHere.rows }] : []),
        ...(await queryRows<{ reason: string; n: number }>(
          db,
          'SELECT reason, count(*) AS n FROM cleaned WHERE reason IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 3',
        )),
      ].sort((a, b) => b.n - a.n).slice(0, 3);
      throw new DataQualityError(
        `${source} ${month}: ${quarantined} of ${total} rows quarantined (${((100 * quarantined) / total).toFixed(1)}% > ` +
          `${(100 * maxQuarantineShare).toFixed(1)}%); top reasons: ${reasons.map((r) => `${r.reason} (${r.n})`).join('; ')}`,
      );
    }
    const accepted = total - quarantined;
    const nulledValues = await countNulledValues(db, source, accepted, acceptedValues);
    const tooMany = nulledValues.filter((n) => n.count / n.rows > maxQuarantineShare);
    if (tooMany.length > 0) {
      throw new DataQualityError(
        `${source} ${month}: ` +
          tooMany
            .map((n) => `column ${n.column}: ${n.count} of ${n.rows} values ${n.reason} (${((100 * n.count) / n.rows).toFixed(1)}%, first at line ${n.firstLine})`)
            .join('; ') +
          ` > ${(100 * maxQuarantineShare).toFixed(1)}% (MAX_QUARANTINE_SHARE)`,
      );
    }
    const findings = accepted > 0 ? await emptiedColumns(db, datamartDir, source, month, acceptedValues) : [];
    // No row of the month rejected (the usual case): the quarantine's columns without joining the month's rows back.
    const rejected =
      counts.quarantined > 0
        ? `SELECT bronze.* EXCLUDE (ingested_at), cleaned.reason FROM bronze JOIN cleaned USING (source_line) WHERE cleaned.reason IS NOT NULL`
        : `SELECT bronze.* EXCLUDE (ingested_at), CAST(NULL AS VARCHAR) AS reason FROM bronze WHERE false`;
    const withUndated = undatedHere
      ? `SELECT * FROM (${rejected} UNION ALL BY NAME
           SELECT * EXCLUDE (ingested_at), ${sqlString(UNDATED_REASON)} AS reason FROM ${readParquet(undatedHere.file)})`
      : rejected;
    await writeParquetAtomic(db, `${withUndated} ORDER BY source_line`, quarantinePath, signal);
    const rows = await publish(() => writeParquetAtomic(db, 'SELECT * EXCLUDE (reason) FROM cleaned WHERE reason IS NULL ORDER BY source_line', path, signal));
    return { source, month, rows, quarantined, path, nulledValues, findings };
  });
}

/**
 * The columns kept as NULL in place of a given value (a `null` column of lib/column-ranges.ts), per column, among the
 * `acceptedRows` accepted rows (`acceptedValues`: their non-NULL values per range-checked column). Only a column with
 * a NULL among them is looked at, and only the accepted rows with a NULL in such a column are joined back to their raw
 * text (usually few), their raw values unnested into one column so that etl_text appears once in the query: a test of
 * every raw value of every row, with etl_text copied twice per column, cost a clickstream month of S = 1 ~50 ms of CPU
 * (~70 at S = 10) against ~10, mostly setting up the copies' patterns.
 */
async function countNulledValues(
  db: DuckDBConnection,
  source: Source,
  acceptedRows: number,
  acceptedValues: ReadonlyMap<string, number>,
): Promise<NulledValues[]> {
  const columns = Object.entries(NUMERIC_COLUMNS[source]).filter(
    ([column, range]) => range.outside === 'null' && acceptedValues.has(column) && Number(acceptedValues.get(column)) < acceptedRows,
  );
  if (columns.length === 0) return [];
  const names = columns.map(([column]) => sqlIdent(column));
  const counts = await queryRows<{ k: number; n: number; line: number }>(
    db,
    `SELECT k, count(*) AS n, min(source_line) AS line
     FROM (
       SELECT source_line, unnest(range(${names.length})) AS k,
         unnest([${names.map((name) => `CASE WHEN nulled.${name} IS NULL THEN bronze.${name} END`).join(', ')}]) AS raw
       FROM (SELECT source_line, ${names.join(', ')} FROM cleaned WHERE reason IS NULL AND (${names.map((name) => `${name} IS NULL`).join(' OR ')})) AS nulled
       JOIN bronze USING (source_line)
     )
     WHERE etl_text(raw) IS NOT NULL
     GROUP BY k ORDER BY k`,
  );
  return counts.map(({ k, n, line }) => {
    const [column, range] = columns[Number(k)];
    return { column, count: Number(n), rows: acceptedRows, firstLine: Number(line), reason: `out of range [${range.min}, ${range.max}] or unreadable` };
  });
}

/**
 * Columns with no value at all in the month's accepted rows (`acceptedValues`: non-NULL values per range-checked
 * column) although the previous month's silver partition had some: a data finding (logged with the month's summary),
 * not a failure (a column blank for a month is possible data). The previous partition's values are counted from its
 * Parquet footer (values less nulls per column chunk, which DuckDB writes), not by reading its columns; a chunk without
 * a null count is counted by reading.
 */
async function emptiedColumns(db: DuckDBConnection, datamartDir: string, source: Source, month: Month, acceptedValues: ReadonlyMap<string, number>): Promise<string[]> {
  const emptied = [...acceptedValues].filter(([, values]) => values === 0).map(([column]) => column);
  if (emptied.length === 0) return [];
  const previous = silverFile(datamartDir, source, addMonths(month, -1));
  if (!(await exists(previous))) return [];
  const footer = await queryRows<{ name: string; present: number | null }>(
    db,
    `SELECT path_in_schema AS name,
       CASE WHEN bool_and(stats_null_count IS NOT NULL) THEN CAST(sum(num_values) - sum(stats_null_count) AS BIGINT) END AS present
     FROM parquet_metadata(${sqlString(previous)}) WHERE path_in_schema IN (${emptied.map(sqlString).join(', ')}) GROUP BY 1`,
  );
  const before = new Map<string, number>();
  for (const { name, present } of footer) {
    before.set(name, present ?? Number(await queryValue(db, `SELECT count(${sqlIdent(name)}) FROM ${readParquet(previous)}`)));
  }
  return emptied.flatMap((column) => {
    const values = before.get(column) ?? 0;
    return values > 0 ? [`${source} ${month}: column ${column} has no usable value (${values} in ${addMonths(month, -1)})`] : [];
  });
}

/** The quarantine reason of the rows without a snapshot_date, counted against every month of their source. */
export const UNDATED_REASON = 'snapshot_date missing: a row of no month, counted against every month of its source';

/**
 * Every row of a relation `bronze` (one month of `source`, raw text columns `rawColumns` plus source_line), typed by
 * the source's silver SELECT, with `reason` NULL for an accepted row and the quarantine reason otherwise. The batch
 * ETL and online scoring (core/serving) both clean through this one query.
 *
 * `monthColumn` (online scoring, clickstream): `bronze` holds rows of several months, each row's snapshot date (a DATE)
 * in this column. Every row is then cleaned as in its own month's partition: repeats are looked for within its month
 * and its snapshot_date is its month, so one query does what one query per month would (source_line must be unique
 * across the months). Only for a source whose silver SELECT uses the snapshot date for its snapshot_date column alone.
 *
 * `keysUnique` (online scoring's micro-batches): the caller guarantees at most one row per key (per key and month with
 * `monthColumn`), so the repeat checks cannot reject anything and are left out; every other check is the same SQL.
 * On a handful of rows they are a third of the query's cost (two GROUP BYs and three joins set up per execution).
 */
export function cleanedSelect(
  source: Source,
  context: { snapshotDate: string; dateSpelling: DateSpelling },
  rawColumns: readonly string[],
  options: { monthColumn?: string; keysUnique?: boolean } = {},
): string {
  const definition = SILVER_DEFINITIONS[source];
  const { monthColumn, keysUnique } = options;
  if (monthColumn && !MONTH_INDEPENDENT_SOURCES.includes(source)) {
    throw new Error(`cleanedSelect: ${source} rows cannot be cleaned across months (its checks use the snapshot date)`);
  }
  const checked = `
        SELECT typed.*${monthColumn ? ', months.row_month' : ''} FROM (${definition.select(context)}) AS typed${
          monthColumn ? `
        JOIN (SELECT source_line, ${sqlIdent(monthColumn)} AS row_month FROM bronze) AS months USING (source_line)` : ''
        }`;
  const columns = `checked.* EXCLUDE (row_problem${monthColumn ? ', row_month) REPLACE (checked.row_month AS snapshot_date' : ''})`;
  const rowChecks = [
    ...definition.keys.map((key) => `WHEN checked.${sqlIdent(key)} IS NULL THEN ${sqlString(`${key} missing or invalid`)}`),
    'WHEN checked.row_problem IS NOT NULL THEN checked.row_problem',
  ].join('\n          ');
  if (keysUnique) return `SELECT ${columns}, CASE ${rowChecks} END AS reason FROM (${checked}) AS checked`;
  const digest = `md5(concat_ws('\u001f', ${rawColumns.map((c) => `coalesce(raw.${sqlIdent(c)}, '\u001e')`).join(', ')}))`;
  const groups = [...definition.keys.map(sqlIdent), ...(monthColumn ? ['row_month'] : [])];
  const sameGroup = (left: string, right: string) => groups.map((column) => `${left}.${column} = ${right}.${column}`).join(' AND ');
  // Keys first, then the source's own row checks, then repeats: identical repeats keep their first line,
  // conflicting repeats are all rejected (keeping either would be a guess). Repeats are found by grouping the keys
  // and joining the groups back rather than by a window PARTITION BY the keys (a window sorts every row's whole
  // payload into a partition per key, costly when most keys occur once: online scoring spent 3× the query's time
  // there), and only rows whose key occurs more than once have their raw text hashed and compared (digesting every
  // row was most of the batch query).
  return `
      WITH checked AS (${checked}
      ), keysets AS (
        SELECT ${groups.join(', ')}, count(*) AS key_rows, min(source_line) AS first_line
        FROM checked GROUP BY ${groups.join(', ')}
      ), repeats AS (
        SELECT ${groups.join(', ')}, min(row_digest) <> max(row_digest) AS conflicting
        FROM (
          SELECT ${groups.map((column) => `repeated.${column}`).join(', ')}, ${digest} AS row_digest
          FROM checked AS repeated
          JOIN keysets ON ${sameGroup('repeated', 'keysets')} AND keysets.key_rows > 1
          JOIN bronze AS raw ON raw.source_line = repeated.source_line
        )
        GROUP BY ${groups.join(', ')}
      )
      SELECT ${columns},
        CASE
          ${rowChecks}
          WHEN repeats.conflicting THEN ${sqlString(`conflicting duplicate ${definition.keys.join('+')} in the month`)}
          WHEN checked.source_line <> keysets.first_line THEN 'duplicate of line ' || keysets.first_line
        END AS reason
      FROM checked LEFT JOIN keysets ON ${sameGroup('checked', 'keysets')} LEFT JOIN repeats ON ${sameGroup('checked', 'repeats')}`;
}

/** Sources whose silver SELECT uses the snapshot date only as the value of snapshot_date (see cleanedSelect). */
const MONTH_INDEPENDENT_SOURCES: readonly Source[] = ['clickstream', 'attributes', 'financials'];
