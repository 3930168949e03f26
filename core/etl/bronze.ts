// Bronze: the raw text rows of one month of one source, plus where they came from and when they were read.
import { datamart, partitionFile, type Source } from '../../lib/layout.js';
import type { Month } from '../../lib/months.js';
import { readParquet, sqlIdent, sqlString, withDuckDB, writeParquetAtomic } from '../duckdb.js';
import { sliceFingerprint, stagedMonthFile, stageSource } from './staging.js';
import { bronzeLineage, writeWithLineage } from '../datamart/lineage.js';

export interface BronzeResult {
  source: Source;
  month: Month;
  rows: number;
  path: string;
}

export function bronzeFile(datamartDir: string, source: Source, month: Month): string {
  return partitionFile(datamart.sourceTable(datamartDir, 'bronze', source), month);
}

/** Writes bronze/<source>/snapshot_date=<month>; a month without rows in the source gets an empty partition. */
export async function ingestBronze(options: {
  datamartDir: string;
  sourceDir: string;
  source: Source;
  month: Month;
  signal?: AbortSignal;
}): Promise<BronzeResult> {
  const { datamartDir, sourceDir, source, month, signal } = options;
  const staged = await stageSource(datamartDir, sourceDir, source, signal);
  const path = bronzeFile(datamartDir, source, month);
  const monthFile = stagedMonthFile(staged, month);
  const ingestedAt = `TIMESTAMP ${sqlString(new Date().toISOString().replace('T', ' ').replace('Z', ''))}`;
  const rawColumns = staged.columns.map((column) =>
    monthFile ? `CAST(${sqlIdent(column)} AS VARCHAR) AS ${sqlIdent(column)}` : `CAST(NULL AS VARCHAR) AS ${sqlIdent(column)}`,
  );
  const select = monthFile
    ? `SELECT ${rawColumns.join(', ')}, CAST(source_line AS BIGINT) AS source_line,
              ${sqlString(staged.dateSpelling)} AS date_spelling, ${ingestedAt} AS ingested_at
       FROM ${readParquet(monthFile)} ORDER BY source_line`
    : `SELECT ${rawColumns.join(', ')}, CAST(NULL AS BIGINT) AS source_line,
              CAST(NULL AS VARCHAR) AS date_spelling, CAST(NULL AS TIMESTAMP) AS ingested_at
       WHERE false`;
  const lineage = bronzeLineage(source, month, sliceFingerprint(staged, month));
  const rows = await writeWithLineage(path, { ...lineage, stagedFrom: staged.dir }, () =>
    withDuckDB((db) => writeParquetAtomic(db, select, path, signal)),
  signal);
  return { source, month, rows, path };
}
