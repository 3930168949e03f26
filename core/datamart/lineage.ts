// Lineage per partition, the record: each bronze, silver and gold partition keeps, in `_lineage.json` beside its
// data.parquet, the fingerprints of what it was built from and the version of its transform, and its own fingerprint
// (a hash of those). Which inputs a partition has is declared once, in the table graph (graph.ts); the chain starts at
// the content hash of the month's slice of a source file (etl/staging.ts), so the fingerprint a partition *should*
// have follows from the current sources alone, and "done" means: the recorded fingerprint equals the expected one.
// This file only reads, writes and hashes the record.
import { readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { monthSchema, type Month } from '../../lib/months.js';
import { prepareFileAtomic } from '../fs-atomic.js';
import { temporaryPathFor } from '../temp-files.js';
import { canonicalJson, sha256Hex } from '../hashing.js';
import { incompleteSliceSchema } from '../../lib/completeness.js';
import { MissingLineage } from '../../lib/errors.js';

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

/** The name a partition's lineage goes by, and its inputs' keys: `silver/clickstream/2024-01`. */
export function partitionName(table: string, month: Month): string {
  return `${table}/${month}`;
}

/** The table and month of a partition name (partitionName's inverse). */
export function parsePartitionName(name: string): { table: string; month: Month } {
  const cut = name.lastIndexOf('/');
  return { table: name.slice(0, cut), month: name.slice(cut + 1) };
}

/**
 * The lineage of the partition `table` (its partition name, `partitionName`) of `month`, built from `inputs` by
 * transform `version` (fingerprint included).
 */
export function lineageOf(table: string, version: number, month: Month, inputs: Record<string, string>): Lineage {
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
