// What the datamart already holds: which month partitions exist, which label months have rows. Backfills and
// monitoring plan from this, so idempotency rests on the data rather than on workflow ids (which months are current
// for the sources is plan.ts's question).
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { datamart, partitionFile } from '../../lib/layout.js';
import { compareMonths, monthRange, type Month } from '../../lib/months.js';
import { queryValue, readParquet, withDuckDB } from '../duckdb.js';
import { SOURCES } from '../../lib/layout.js';
import { readLineage } from './lineage.js';
import { exists } from '../files.js';

export type Requirement = 'gold' | 'features' | 'predictions';

function requiredFiles(datamartDir: string, month: Month, requirement: Requirement, modelId?: string): string[] {
  const features = partitionFile(datamart.featureStore(datamartDir), month);
  switch (requirement) {
    case 'features':
      return [features];
    case 'gold':
      return [features, partitionFile(datamart.labelStore(datamartDir), month)];
    case 'predictions':
      if (!modelId) throw new Error('a predictions requirement needs a model id');
      return [partitionFile(datamart.predictions(datamartDir, modelId), month)];
  }
}

/** Splits the months of [from, to] into those whose required partitions all exist and those missing one. */
export async function inventoryMonths(
  datamartDir: string,
  from: Month,
  to: Month,
  requirement: Requirement,
  modelId?: string,
): Promise<{ present: Month[]; missing: Month[] }> {
  const present: Month[] = [];
  const missing: Month[] = [];
  for (const month of monthRange(from, to)) {
    const files = requiredFiles(datamartDir, month, requirement, modelId);
    const all = (await Promise.all(files.map(exists))).every(Boolean);
    (all ? present : missing).push(month);
  }
  return { present, missing };
}

/** The last month in [from, to] whose label-store partition has at least one row: labels are mature up to there. */
export async function latestLabelledMonth(datamartDir: string, from: Month, to: Month): Promise<Month | null> {
  const months = monthRange(from, to).sort(compareMonths).reverse();
  return withDuckDB(async (db) => {
    for (const month of months) {
      const file = partitionFile(datamart.labelStore(datamartDir), month);
      if (!(await exists(file))) continue;
      const rows = Number(await queryValue(db, `SELECT count(*) FROM ${readParquet(file)}`));
      if (rows > 0) return month;
    }
    return null;
  });
}

/** The staging versions the bronze partitions were read from (their lineage's `stagedFrom`). */
export async function referencedStagingVersions(datamartDir: string): Promise<Set<string>> {
  const referenced = new Set<string>();
  for (const source of SOURCES) {
    const table = datamart.sourceTable(datamartDir, 'bronze', source);
    for (const entry of await readdir(table).catch(() => [] as string[])) {
      if (!entry.startsWith('snapshot_date=')) continue;
      const lineage = await readLineage(join(table, entry, 'data.parquet'));
      if (lineage?.stagedFrom) referenced.add(lineage.stagedFrom);
    }
  }
  return referenced;
}
