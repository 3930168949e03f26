// Bronze: the raw text rows of one month of one source, plus where they came from and when they were read. Staging
// has written them in bronze's shape, so a month with rows is a hard link to its staged file (no rows are rewritten);
// a month without rows is an empty partition.
import { datamart, partitionFile, type Source } from '../../lib/layout.js';
import type { Month } from '../../lib/months.js';
import { sqlIdent, withDuckDB, writeParquetAtomic } from '../duckdb.js';
import { linkFileAtomic } from '../fs-atomic.js';
import { stagedMonthFile, type StagedSource } from './staging.js';
import type { Publish } from './partitions.js';
import type { IncompleteSlice } from '../../lib/completeness.js';

export interface BronzeResult {
  source: Source;
  month: Month;
  rows: number;
  path: string;
  /** The slice is incomplete (core/datamart/completeness.ts): against what. */
  incomplete: IncompleteSlice | null;
}

export function bronzeFile(datamartDir: string, source: Source, month: Month): string {
  return partitionFile(datamart.sourceTable(datamartDir, 'bronze', source), month);
}

/**
 * Writes one month of a staged source as its bronze partition `path`, through `publish`: a hard link to the staged
 * month file, or an empty partition with bronze's columns when the source has no row in the month. Returns its rows.
 */
export async function ingestBronze(options: { staged: StagedSource; month: Month; path: string; signal?: AbortSignal; publish: Publish }): Promise<number> {
  const { staged, month, path, signal, publish } = options;
  const monthFile = stagedMonthFile(staged, month);
  return publish(async () => {
    if (monthFile) {
      await linkFileAtomic(monthFile, path);
      return staged.months[month];
    }
    const empty = `SELECT ${staged.columns.map((column) => `CAST(NULL AS VARCHAR) AS ${sqlIdent(column)}`).join(', ')},
        CAST(NULL AS BIGINT) AS source_line, CAST(NULL AS VARCHAR) AS date_spelling, CAST(NULL AS TIMESTAMP) AS ingested_at
      WHERE false`;
    return withDuckDB((db) => writeParquetAtomic(db, empty, path, signal));
  });
}
