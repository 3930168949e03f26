// Completeness per source and month (issue 27), in one place: a source month is judged when its bronze partition is
// written (judgeSliceVolume, from the staged file's row count per month and the rows ingested for it before), the
// verdict is kept in bronze's lineage (`volume`), every gold partition lists the incomplete slices it was built from
// (`incomplete` in its lineage), and a training refuses gold that lists one no operator accepted (incompleteGoldInputs).
// The verdicts are annotations beside the fingerprints, not part of them: the same data judged again gives the same
// verdict, and a partition is rebuilt when its data changes, not when a neighbouring month's volume does.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import {
  acceptedGapSchema,
  isAccepted,
  SOURCE_PRESENCE,
  VOLUME_REFERENCE_MONTHS,
  type AcceptedGap,
  type IncompleteSlice,
} from '../../lib/completeness.js';
import { datamart, partitionFile, partitionMonthOf, type Source } from '../../lib/layout.js';
import { addMonths, compareMonths, type Month } from '../../lib/months.js';
import { writeFileAtomic } from '../fs-atomic.js';
import { exists } from '../files.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { readLineage, type Lineage } from './lineage.js';

export interface SliceVolumeInput {
  source: Source;
  month: Month;
  /** Rows per month in the current source file (the staging manifest's `months`). */
  monthly: Readonly<Record<Month, number>>;
  /** Rows of the last complete ingestion of this month (bronze lineage before), or null when there was none. */
  knownRows: number | null;
  /** MIN_SOURCE_VOLUME_SHARE. */
  minShare: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * Whether a source's month is incomplete, and against what: fewer rows than `minShare` of what was ingested for the same
 * month before (a file cut or emptied since), or of the median of its previous three months within the source's own
 * history (a month emptied or cut in a file seen for the first time), or none where the month before had rows. A month
 * before the source's first month with rows has no history to judge; a source that may stop (SOURCE_PRESENCE) is not
 * incomplete after its last month with rows.
 */
export function judgeSliceVolume(input: SliceVolumeInput): IncompleteSlice | null {
  const { source, month, monthly, knownRows, minShare } = input;
  const rows = monthly[month] ?? 0;
  const withRows = Object.keys(monthly).filter((m) => monthly[m] > 0).sort(compareMonths);
  const first = withRows[0];
  const last = withRows.at(-1);
  if (rows === 0 && SOURCE_PRESENCE[source].mayStop && (last === undefined || compareMonths(month, last) > 0)) return null;
  const verdict = (expected: number, basis: string): IncompleteSlice => ({ source, month, rows, expected, basis });

  if (knownRows !== null && knownRows > 0 && rows < minShare * knownRows) return verdict(knownRows, 'the rows ingested for this month before');
  if (first === undefined || compareMonths(month, first) <= 0) return null;
  const previous = Array.from({ length: VOLUME_REFERENCE_MONTHS }, (_, i) => addMonths(month, i - VOLUME_REFERENCE_MONTHS)).filter(
    (m) => compareMonths(m, first) >= 0,
  );
  const reference = median(previous.map((m) => monthly[m] ?? 0));
  if (reference > 0 && rows < minShare * reference) {
    const span = previous.length === 1 ? previous[0] : `${previous[0]}..${previous.at(-1)}`;
    return verdict(reference, `the median of ${span}`);
  }
  const before = monthly[addMonths(month, -1)] ?? 0;
  if (rows === 0 && before > 0) return verdict(before, `the rows of ${addMonths(month, -1)}`);
  return null;
}

/** The volume annotation bronze's lineage carries (see lineage.ts `volume`). */
export function volumeAnnotation(judged: IncompleteSlice | null, rows: number, previous: Lineage | null): NonNullable<Lineage['volume']> {
  const knownBefore = previous?.volume?.knownRows ?? null;
  // An incomplete slice does not become the expectation: the next ingestion is judged against the last complete one.
  return { rows, knownRows: judged ? knownBefore : rows, incomplete: judged };
}

/**
 * A partition's lineage once no one is rewriting it. A month and its neighbours' clickstream lookback may rebuild the
 * same bronze partition at once, and a rewrite moves the old lineage aside until its data is in place: read in that
 * moment, a partition that exists would seem to have no lineage (no verdict, no rows ingested before). So it is read
 * again shortly; a partition that does not exist has none.
 */
async function settledLineage(partition: string): Promise<Lineage | null> {
  let lineage = await readLineage(partition);
  for (let attempt = 0; !lineage && attempt < 50 && (await exists(partition)); attempt++) {
    await sleep(100);
    lineage = await readLineage(partition);
  }
  return lineage;
}

/**
 * The rows of the last complete ingestion recorded in a bronze partition's lineage (null: none). Read settled: seen
 * without its lineage mid-rewrite, a month cut since would be judged with no reference at all, found complete, and
 * its cut row count would become the reference for every later ingestion.
 */
export async function knownRowsOf(bronzePartition: string): Promise<{ previous: Lineage | null; knownRows: number | null }> {
  const previous = await settledLineage(bronzePartition);
  return { previous, knownRows: previous?.volume?.knownRows ?? null };
}

/** The incomplete slices among the bronze partitions a gold partition reads (their lineage's verdicts). */
export async function incompleteInputs(datamartDir: string, inputs: ReadonlyArray<{ source: Source; month: Month }>): Promise<IncompleteSlice[]> {
  const found: IncompleteSlice[] = [];
  for (const { source, month } of inputs) {
    const lineage = await settledLineage(partitionFile(datamart.sourceTable(datamartDir, 'bronze', source), month));
    const verdict = lineage?.volume?.incomplete;
    if (verdict) found.push(verdict);
  }
  return found;
}

const GOLD_TABLES = (datamartDir: string) => [datamart.featureStore(datamartDir), datamart.labelStore(datamartDir)];

/**
 * The incomplete slices the gold partitions up to `upTo` were built from, that no operator accepted: what a training
 * as of `upTo` must not read. Oldest month first, each slice once.
 */
export async function incompleteGoldInputs(datamartDir: string, upTo: Month): Promise<IncompleteSlice[]> {
  const accepted = await readAcceptedGaps(datamartDir);
  const bySlice = new Map<string, IncompleteSlice>();
  for (const slice of await goldIncompleteSlices(datamartDir, upTo)) {
    if (!isAccepted(slice, accepted)) bySlice.set(`${slice.month} ${slice.source}`, slice);
  }
  return [...bySlice.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, slice]) => slice);
}

async function goldIncompleteSlices(datamartDir: string, upTo: Month | null): Promise<IncompleteSlice[]> {
  const slices: IncompleteSlice[] = [];
  for (const table of GOLD_TABLES(datamartDir)) {
    for (const entry of await readdir(table).catch(() => [] as string[])) {
      const month = partitionMonthOf(entry);
      if (!month || (upTo !== null && compareMonths(month, upTo) > 0)) continue;
      slices.push(...((await readLineage(partitionFile(table, month)))?.incomplete ?? []));
    }
  }
  return slices;
}

/** Where operators' acceptances of known gaps are kept (append-only, rewritten atomically). */
export function acceptedGapsFile(datamartDir: string): string {
  return join(datamartDir, 'gold', 'governance', 'accepted_gaps.json');
}

export async function readAcceptedGaps(datamartDir: string): Promise<AcceptedGap[]> {
  const text = await readFile(acceptedGapsFile(datamartDir), 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '[]';
    throw error;
  });
  return z.array(acceptedGapSchema).parse(JSON.parse(text));
}

/**
 * Records an operator's acceptance of the incomplete slices of `months` as they are now (source, month, row count):
 * the gap is accepted for this data only, a later change of the slice is judged again. Returns what was accepted and
 * the months that had no incomplete slice to accept.
 */
export async function acceptGaps(
  datamartDir: string,
  request: { months: Month[]; reason: string; workflowId: string; now?: Date },
): Promise<{ accepted: AcceptedGap[]; nothingToAccept: Month[] }> {
  const wanted = new Set(request.months);
  const existing = await readAcceptedGaps(datamartDir);
  const at = (request.now ?? new Date()).toISOString();
  const accepted: AcceptedGap[] = [];
  for (const slice of await goldIncompleteSlices(datamartDir, null)) {
    if (!wanted.has(slice.month) || isAccepted(slice, [...existing, ...accepted])) continue;
    accepted.push({ month: slice.month, source: slice.source, rows: slice.rows, reason: request.reason, accepted_at: at, workflow_id: request.workflowId });
  }
  if (accepted.length > 0) await writeFileAtomic(acceptedGapsFile(datamartDir), JSON.stringify([...existing, ...accepted], null, 2) + '\n');
  const covered = new Set([...existing, ...accepted].map((gap) => gap.month));
  return { accepted, nothingToAccept: request.months.filter((month) => !covered.has(month)).sort(compareMonths) };
}
