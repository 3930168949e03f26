// Lineage per partition: each bronze, silver and gold partition records, in `_lineage.json` beside its data.parquet,
// the fingerprints of what it was built from and the version of its transform, and its own fingerprint (a hash of
// those). The chain starts at the content hash of the month's slice of a source file (staging.ts computes it), so the
// fingerprint a gold partition *should* have follows from the current sources alone (expectedGoldFingerprints), and
// "done" means: the recorded fingerprint equals the expected one. Plain functions over files: the activity layer only
// calls them, whatever shape the month's ETL activities take.
import { readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { Source } from '../../lib/layout.js';
import { addMonths, monthSchema, type Month } from '../../lib/months.js';
import { prepareFileAtomic } from '../fs-atomic.js';
import { temporaryPathFor } from '../temp-files.js';
import { CLICKSTREAM_LOOKBACK } from '../../lib/temporal.js';
import { canonicalJson, sha256Hex } from '../hashing.js';
import { incompleteSliceSchema } from '../../lib/completeness.js';
import { MissingLineage } from '../../lib/errors.js';

/**
 * Version of each transform: bump one when its SQL or output schema changes, and every partition built by the older
 * code becomes stale and is rebuilt by the next backfill.
 */
export const TRANSFORM_VERSIONS = {
  bronze: 1,
  silver: 2,
  feature_store: 1,
  label_store: 1,
  explanations: 1,
} as const;
export type LineageTable = keyof typeof TRANSFORM_VERSIONS;

/** Fingerprint of a month a source file has no row in. */
export const EMPTY_SLICE = 'empty';
/** The clickstream months a feature-store partition reads before its own (feature-store.ts). */
export const CLICKSTREAM_LOOKBACK_MONTHS = CLICKSTREAM_LOOKBACK;

export const LINEAGE_FILE = '_lineage.json';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);
export const lineageSchema = z.object({
  table: z.string().min(1),
  month: monthSchema,
  version: z.number().int().min(1),
  /** What it was built from: input name → fingerprint (a slice's content hash or an upstream partition's fingerprint). */
  inputs: z.record(z.string(), z.string().min(1)),
  fingerprint: sha256,
  /** Bronze only: the staging cache version it was read from; pruning keeps the versions still referenced. */
  stagedFrom: z.string().optional(),
  /**
   * Bronze only: the slice's row count, the rows of the last complete ingestion of the month (what the next one is
   * judged against) and the completeness verdict (core/datamart/completeness.ts). Not part of the fingerprint.
   */
  volume: z
    .object({ rows: z.number().int().min(0), knownRows: z.number().int().min(0).nullable(), incomplete: incompleteSliceSchema.nullable() })
    .optional(),
  /** Gold only: the incomplete source slices it was built from (none: complete). Not part of the fingerprint. */
  incomplete: z.array(incompleteSliceSchema).optional(),
});
export type Lineage = z.infer<typeof lineageSchema>;

export function lineageFile(partitionFile: string): string {
  return join(dirname(partitionFile), LINEAGE_FILE);
}

/** The lineage of a partition of `table` built from `inputs` by the current code (fingerprint included). */
export function lineageOf(table: string, kind: LineageTable, month: Month, inputs: Record<string, string>): Lineage {
  const version = TRANSFORM_VERSIONS[kind];
  return {
    table,
    month,
    version,
    inputs,
    fingerprint: sha256Hex(canonicalJson({ table, month, version, inputs })),
  };
}

/** The lineage recorded beside a partition; null when there is none or it is unreadable (the partition is stale). */
export async function readLineage(partitionFile: string): Promise<Lineage | null> {
  let text: string;
  try {
    text = await readFile(lineageFile(partitionFile), 'utf8');
  } catch {
    return null;
  }
  try {
    const parsed = lineageSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** The lineage of an input partition that the step before must have written; a clear error when it did not. */
export async function requireLineage(partitionFile: string, what: string): Promise<Lineage> {
  const lineage = await readLineage(partitionFile);
  if (!lineage) throw new MissingLineage(`${what} (${partitionFile}) has no readable ${LINEAGE_FILE}: rebuild it first`);
  return lineage;
}

/**
 * Publishes a partition and its lineage: the old lineage goes first, then `writeData` (atomic itself), then the new
 * lineage (atomic). A crash anywhere in between leaves a partition without lineage, which counts as stale, never a
 * lineage that claims inputs its data was not built from. A cancellation leaves no partition without lineage: one
 * before the data is replaced puts the old lineage back (old data, old lineage), and once the data is published its
 * lineage is written whatever the signal says (the caller stops right after).
 */
export async function writeWithLineage<T>(partitionFile: string, lineage: Lineage, writeData: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  signal?.throwIfAborted();
  const file = lineageFile(partitionFile);
  // The new lineage is written beside its place first: a full disk (DiskFull) stops the write here, before anything
  // changed, and publishing it after the data is a rename, which needs no space. So running out of space never
  // leaves a partition's data without its lineage.
  const pending = await prepareFileAtomic(file, JSON.stringify(lineage, null, 2) + '\n');
  // The old lineage is moved aside (a rename: no space needed) and moved back if the data stays the old one.
  const aside = temporaryPathFor(file);
  const hadPrevious = await rename(file, aside).then(() => true, () => false);
  const before = await stat(partitionFile).catch(() => null);
  let result: T;
  try {
    result = await writeData();
  } catch (error) {
    await pending.discard();
    const after = await stat(partitionFile).catch(() => null);
    const untouched = before && after && before.ino === after.ino && before.mtimeMs === after.mtimeMs;
    if (hadPrevious && untouched) await rename(aside, file);
    else await rm(aside, { force: true });
    throw error;
  }
  await pending.commit();
  await rm(aside, { force: true });
  return result;
}

// The chain of names and fingerprints, shared by the builders (which record it) and the planner (which predicts it).

export const lineageNames = {
  bronze: (source: Source, month: Month) => `bronze/${source}/${month}`,
  silver: (source: Source, month: Month) => `silver/${source}/${month}`,
  featureStore: (month: Month) => `gold/feature_store/${month}`,
  labelStore: (month: Month) => `gold/label_store/${month}`,
  explanations: (modelId: string, month: Month) => `gold/explanations/${modelId}/${month}`,
};

export const bronzeLineage = (source: Source, month: Month, sliceSha256: string) =>
  lineageOf(lineageNames.bronze(source, month), 'bronze', month, { slice: sliceSha256 });

export const silverLineage = (source: Source, month: Month, bronze: Lineage) =>
  lineageOf(lineageNames.silver(source, month), 'silver', month, { [bronze.table]: bronze.fingerprint });

/** The silver partitions a feature-store month reads: its own month's three sources and the clickstream lookback. */
export function featureStoreInputs(month: Month): Array<{ source: Source; month: Month }> {
  const lookback = Array.from({ length: CLICKSTREAM_LOOKBACK_MONTHS + 1 }, (_, i) => ({
    source: 'clickstream' as const,
    month: addMonths(month, i - CLICKSTREAM_LOOKBACK_MONTHS),
  }));
  return [
    { source: 'loan_daily', month },
    { source: 'attributes', month },
    { source: 'financials', month },
    ...lookback,
  ];
}

export const featureStoreLineage = (month: Month, silver: Lineage[]) =>
  lineageOf(lineageNames.featureStore(month), 'feature_store', month, Object.fromEntries(silver.map((l) => [l.table, l.fingerprint])));

/** The label partition of month M reads the ledger of M (loans reaching MOB 6 then, applied for at M-6). */
export const labelStoreLineage = (month: Month, ledger: Lineage) =>
  lineageOf(lineageNames.labelStore(month), 'label_store', month, { [ledger.table]: ledger.fingerprint });

/** What a silver partition's lineage must be, from the current slice fingerprints. */
export function expectedSilverLineage(source: Source, month: Month, slice: (source: Source, month: Month) => string): Lineage {
  return silverLineage(source, month, bronzeLineage(source, month, slice(source, month)));
}

/** The fingerprints the gold partitions of `month` must record to be current, from the current slice fingerprints. */
export function expectedGoldFingerprints(month: Month, slice: (source: Source, month: Month) => string): { featureStore: string; labelStore: string } {
  const silver = (source: Source, at: Month) => expectedSilverLineage(source, at, slice);
  return {
    featureStore: featureStoreLineage(month, featureStoreInputs(month).map((input) => silver(input.source, input.month))).fingerprint,
    labelStore: labelStoreLineage(month, silver('loan_daily', month)).fingerprint,
  };
}

