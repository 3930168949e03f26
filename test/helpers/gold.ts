// Content fingerprints of gold tables: a hash over sorted rows (volatile timestamps left out), so two runs can be
// compared however their partitions were written.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { LINEAGE_FILE } from '../../core/datamart/lineage.js';
import { queryRows, queryValue, sqlIdent, sqlString, withDuckDB } from '../../core/duckdb.js';

const VOLATILE_COLUMNS = ['scored_at', 'ingested_at'];

/**
 * The content hash of a gold table: every row, ordered, over its columns (or only `onlyColumns`, to compare the
 * columns an earlier version wrote while later versions add others), volatile timestamps left out.
 */
export async function goldTableHash(tableDir: string, onlyColumns?: readonly string[]): Promise<string> {
  if (!existsSync(tableDir)) return 'absent';
  return withDuckDB(async (db) => {
    const source = `read_parquet(${sqlString(join(tableDir, '**', 'data.parquet'))}, hive_partitioning = false, union_by_name = true)`;
    const present = (await queryRows<{ column_name: string }>(db, `DESCRIBE SELECT * FROM ${source}`)).map((row) => row.column_name);
    const missing = (onlyColumns ?? []).filter((name) => !present.includes(name));
    if (missing.length > 0) throw new Error(`${tableDir} lacks the column(s) ${missing.join(', ')}`);
    const columns = (onlyColumns ?? present).filter((name) => !VOLATILE_COLUMNS.includes(name));
    const rows = `SELECT ${columns.map(sqlIdent).join(', ')} FROM ${source}`;
    return String(await queryValue(db, `SELECT md5(coalesce(string_agg(t::VARCHAR, chr(10) ORDER BY t::VARCHAR), '')) || ':' || count(*) FROM (${rows}) t`));
  });
}

/**
 * Every `_lineage.json` under a datamart, by its path relative to the datamart, with bronze's `stagedFrom` made
 * relative too: two datamarts built from the same sources by different ETL paths must record the same lineage.
 */
export async function lineageContents(datamartDir: string): Promise<Record<string, unknown>> {
  const files = (await readdir(datamartDir, { recursive: true })).filter((file) => basename(file) === LINEAGE_FILE).sort();
  const contents: Record<string, unknown> = {};
  for (const file of files) {
    const lineage = JSON.parse(await readFile(join(datamartDir, file), 'utf8')) as { stagedFrom?: string };
    if (lineage.stagedFrom) lineage.stagedFrom = relative(datamartDir, lineage.stagedFrom);
    contents[file] = lineage;
  }
  return contents;
}

/**
 * One hash over every `_lineage.json` of a datamart (lineageContents, in path order, each file's keys in their written
 * order), bronze's `stagedFrom` left out: it names the staging cache version, a hash of this machine's file metadata.
 */
export async function lineageHash(datamartDir: string): Promise<string> {
  const contents = (await lineageContents(datamartDir)) as Record<string, { stagedFrom?: string }>;
  for (const lineage of Object.values(contents)) delete lineage.stagedFrom;
  return `${createHash('sha256').update(JSON.stringify(contents)).digest('hex')}:${Object.keys(contents).length}`;
}
