// What the datamart already holds: which month partitions exist, which label months have rows. Backfills and
// monitoring plan from this, so idempotency rests on the data rather than on workflow ids.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { datamart, partitionFile } from '../../lib/layout.js';
import { compareMonths, monthRange, type Month } from '../../lib/months.js';
import { queryValue, readParquet, withDuckDB } from '../duckdb.js';
import { SOURCES, type Source } from '../../lib/layout.js';
import { sliceFingerprint, stageSource, type StagedSource } from '../etl/staging.js';
import { expectedGoldFingerprints, readLineage } from './lineage.js';
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

export interface MonthPlan {
  month: Month;
  /** True when both gold partitions exist and record the fingerprints the current sources give. */
  current: boolean;
  /** Why not, for people: "no feature store", "label store built from other inputs", … */
  reason: string;
}

/** The current sources staged (cached), for their slice fingerprints. */
export async function stageAllSources(datamartDir: string, sourceDir: string, signal?: AbortSignal): Promise<Record<Source, StagedSource>> {
  const staged = await Promise.all(SOURCES.map((source) => stageSource(datamartDir, sourceDir, source, signal)));
  return Object.fromEntries(SOURCES.map((source, i) => [source, staged[i]])) as Record<Source, StagedSource>;
}

/**
 * For each month, whether its gold partitions are current: "done" means done from the current inputs, so a
 * partition that is missing, has no lineage, or records other fingerprints than the current source slices give
 * (a changed slice of its month, of a clickstream lookback month, or a new transform version) is stale.
 */
export async function planMonths(datamartDir: string, sourceDir: string, months: readonly Month[], signal?: AbortSignal): Promise<MonthPlan[]> {
  const staged = await stageAllSources(datamartDir, sourceDir, signal);
  const slice = (source: Source, month: Month) => sliceFingerprint(staged[source], month);
  const plans: MonthPlan[] = [];
  for (const month of months) {
    const expected = expectedGoldFingerprints(month, slice);
    const problems: string[] = [];
    for (const [what, file, fingerprint] of [
      ['feature store', partitionFile(datamart.featureStore(datamartDir), month), expected.featureStore],
      ['label store', partitionFile(datamart.labelStore(datamartDir), month), expected.labelStore],
    ] as const) {
      if (!(await exists(file))) problems.push(`no ${what}`);
      else {
        const lineage = await readLineage(file);
        if (!lineage) problems.push(`${what} has no lineage`);
        else if (lineage.fingerprint !== fingerprint) problems.push(`${what} built from other inputs`);
      }
    }
    plans.push({ month, current: problems.length === 0, reason: problems.join(', ') || 'current' });
  }
  return plans;
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
