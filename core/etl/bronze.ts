// Bronze: the raw text rows of one month of one source, plus where they came from and when they were read. Staging
// has written them in bronze's shape, so a month with rows is a hard link to its staged file (no rows are rewritten);
// a month without rows is an empty partition.
import { datamart, partitionFile, type Source } from '../../lib/layout.js';
import type { Month } from '../../lib/months.js';
import { sqlIdent, withDuckDB, writeParquetAtomic } from '../duckdb.js';
import { linkFileAtomic } from '../fs-atomic.js';
import { sliceFingerprint, stagedMonthFile, stageSource } from './staging.js';
import { bronzeLineage, writeWithLineage } from '../datamart/lineage.js';
import { judgeSliceVolume, knownRowsOf, volumeAnnotation } from '../datamart/completeness.js';
import { DEFAULT_MIN_SOURCE_VOLUME_SHARE } from '../../lib/config.js';
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
 * Writes bronze/<source>/snapshot_date=<month>; a month without rows in the source gets an empty partition. Its
 * lineage carries the slice's completeness verdict, judged against the rows ingested for the month before and the
 * source's previous months.
 */
export async function ingestBronze(options: {
  datamartDir: string;
  sourceDir: string;
  source: Source;
  month: Month;
  /** MIN_SOURCE_VOLUME_SHARE. */
  minSourceVolumeShare?: number;
  signal?: AbortSignal;
  /** A forced backfill's token: the source file is read and hashed again (stageSource). */
  restage?: string;
}): Promise<BronzeResult> {
  const { datamartDir, sourceDir, source, month, signal, restage, minSourceVolumeShare = DEFAULT_MIN_SOURCE_VOLUME_SHARE } = options;
  const staged = await stageSource(datamartDir, sourceDir, source, signal, undefined, restage);
  const path = bronzeFile(datamartDir, source, month);
  const monthFile = stagedMonthFile(staged, month);
  const { previous, knownRows } = await knownRowsOf(path);
  const incomplete = judgeSliceVolume({ source, month, monthly: staged.months, knownRows, minShare: minSourceVolumeShare });
  const volume = volumeAnnotation(incomplete, staged.months[month] ?? 0, previous);
  const lineage = bronzeLineage(source, month, sliceFingerprint(staged, month));
  const rows = await writeWithLineage(path, { ...lineage, stagedFrom: staged.dir, volume }, async () => {
    if (monthFile) {
      await linkFileAtomic(monthFile, path);
      return staged.months[month];
    }
    const empty = `SELECT ${staged.columns.map((column) => `CAST(NULL AS VARCHAR) AS ${sqlIdent(column)}`).join(', ')},
        CAST(NULL AS BIGINT) AS source_line, CAST(NULL AS VARCHAR) AS date_spelling, CAST(NULL AS TIMESTAMP) AS ingested_at
      WHERE false`;
    return withDuckDB((db) => writeParquetAtomic(db, empty, path, signal));
  }, signal);
  return { source, month, rows, path, incomplete };
}
