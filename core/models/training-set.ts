// Building the training set: a time-aware split of the application months whose labels are mature by the as-of
// month (oldest → train, then test, most recent → out-of-time), encoded with a preprocessor fitted on the train
// months, and written to a content-addressed working directory MODEL_BANK_DIR/_work/<training_data_sha256>/.
import { open, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { setImmediate } from 'node:timers/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { DataQualityError } from '../../lib/errors.js';
import type { Month } from '../../lib/months.js';
import { loadLabelledTable, matureApplicationMonths, type LabelledTable } from './dataset.js';
import { canonicalJson, sha256Hex } from '../hashing.js';
import { publishDirectory } from '../fs-atomic.js';
import { dataProfile } from '../features/profile.js';
import { encodeTable, fitPreprocessor, preprocessorSchema, rawFeatureNames, type FeatureTable, type Preprocessor } from '../features/preprocessor.js';
import { trainingSetSummarySchema, type TrainingSetSummary } from '../../lib/model-summaries.js';
import { exists } from '../files.js';
import { trainingGoldLineage } from './staleness.js';

export const SPLITS = ['train', 'test', 'oot'] as const;
export type Split = (typeof SPLITS)[number];

export interface Matrix {
  data: Float32Array;
  rows: number;
  cols: number;
}
export interface LabelledMatrix extends Matrix {
  labels: Float32Array;
}

const MANIFEST = 'manifest.json';
const ootRawSchema = z.record(z.string(), z.array(z.union([z.number(), z.string(), z.null()])));
const manifestSchema = trainingSetSummarySchema.omit({ path: true }).extend({
  preprocessor: preprocessorSchema,
  positives: z.object({ train: z.number().int(), test: z.number().int(), oot: z.number().int() }),
});
type Manifest = z.infer<typeof manifestSchema>;

export interface LoadedTrainingSet {
  summary: TrainingSetSummary;
  preprocessor: Preprocessor;
  splits: Record<Split, LabelledMatrix>;
  /** Raw feature-store values of the OOT rows, by feature: the population of the PSI/CSI baseline. */
  ootRaw: Record<string, Array<number | string | null>>;
}

export interface BuildTrainingSetOptions {
  datamartDir: string;
  modelBankDir: string;
  asOf: Month;
  ootMonths?: number;
  testMonths?: number;
  /** Only the most recent labelled months (0: all). After a concept drift, old months would drown the new pattern. */
  windowMonths?: number;
}

export function workRoot(modelBankDir: string): string {
  return join(modelBankDir, '_work');
}

/** Splits months (oldest first): the last `oot` → OOT, the `test` before them → test, the rest → train. */
export function splitMonths(months: readonly Month[], ootMonths: number, testMonths: number): Record<Split, Month[]> {
  const trainCount = months.length - ootMonths - testMonths;
  return {
    train: months.slice(0, Math.max(0, trainCount)),
    test: months.slice(Math.max(0, trainCount), months.length - ootMonths),
    oot: months.slice(months.length - ootMonths),
  };
}

interface SplitTable extends FeatureTable {
  labels: Float32Array;
  values: LabelledTable['values'];
}

/** The rows of `months` (consecutive: the table is ordered by month), as views of the table's columns. */
function splitOf(table: LabelledTable, months: readonly Month[]): SplitTable {
  const wanted = new Set(months);
  const first = table.months.findIndex((month) => wanted.has(month));
  const from = first < 0 ? table.rows : first;
  let end = from;
  while (end < table.rows && wanted.has(table.months[end])) end++;
  for (let row = end; row < table.rows; row++) {
    if (wanted.has(table.months[row])) throw new Error(`labelled rows of ${months.join(', ')} are not ordered by month`);
  }
  const values = Object.fromEntries(Object.entries(table.values).map(([name, column]) => [name, column instanceof Float64Array ? column.subarray(from, end) : column.slice(from, end)]));
  return { rows: end - from, labels: table.labels.slice(from, end), values };
}

function countPositives(labels: Float32Array): number {
  return labels.reduce((sum, label) => sum + label, 0);
}

function fileName(split: Split, what: 'x' | 'y'): string {
  return `${split}.${what}.f32`;
}


export async function buildTrainingSet(options: BuildTrainingSetOptions): Promise<TrainingSetSummary> {
  const { datamartDir, modelBankDir, asOf, ootMonths = 2, testMonths = 2, windowMonths = 0 } = options;
  const months = (await matureApplicationMonths(datamartDir, asOf)).slice(windowMonths > 0 ? -windowMonths : 0);
  if (months.length < ootMonths + testMonths + 1) {
    throw new DataQualityError(
      `only ${months.length} application month(s) have labels mature by ${asOf} (${months.join(', ') || 'none'}); ` +
        `training needs at least ${ootMonths + testMonths + 1} (${ootMonths} OOT, ${testMonths} test, 1 train)`,
    );
  }
  const byMonth = splitMonths(months, ootMonths, testMonths);
  const data = await loadLabelledTable(datamartDir, asOf, months);
  const splitTables = Object.fromEntries(SPLITS.map((split) => [split, splitOf(data, byMonth[split])])) as Record<Split, SplitTable>;

  const preprocessor = await fitPreprocessor(data.columns, splitTables.train);
  const matrices = {} as Record<Split, LabelledMatrix>;
  const positives = {} as Record<Split, number>;
  for (const split of SPLITS) {
    const { labels } = splitTables[split];
    positives[split] = countPositives(labels);
    if (positives[split] === 0 || positives[split] === labels.length) {
      throw new DataQualityError(
        `the ${split} months ${byMonth[split].join(', ')} have ${labels.length} labelled row(s), all of one class: ` +
          'AUC and early stopping need both defaults and non-defaults',
      );
    }
    matrices[split] = { ...encodeTable(preprocessor, splitTables[split]), labels };
    await setImmediate(); // heartbeats between the splits' encodings
  }
  const ootRaw: Record<string, Array<number | string | null>> = {};
  for (const name of rawFeatureNames(preprocessor)) {
    const column: ArrayLike<number | string | null> = splitTables.oot.values[name];
    ootRaw[name] = Array.from(column); // NaN (missing number) is written as null in JSON, as before
  }

  const trainRaw = Object.fromEntries(rawFeatureNames(preprocessor).map((name) => [name, splitTables.train.values[name]]));
  const dataBaseline = dataProfile(trainRaw, splitTables.train.rows);

  const windows = {
    train: { from: byMonth.train[0], to: byMonth.train[byMonth.train.length - 1] },
    test: { from: byMonth.test[0], to: byMonth.test[byMonth.test.length - 1] },
    oot: { from: byMonth.oot[0], to: byMonth.oot[byMonth.oot.length - 1] },
  };
  const featureSchemaSha256 = sha256Hex(canonicalJson(preprocessor));
  const trainingDataSha256 = sha256Hex(
    canonicalJson({ windows, preprocessor }),
    ...SPLITS.flatMap((split) => [matrices[split].data, matrices[split].labels]),
  );
  const totalRows = SPLITS.reduce((sum, split) => sum + matrices[split].rows, 0);
  const totalPositives = SPLITS.reduce((sum, split) => sum + positives[split], 0);
  const goldLineage = await trainingGoldLineage(datamartDir, asOf, months);
  const manifest: Manifest = {
    asOf,
    trainingDataSha256,
    featureSchemaSha256,
    windows,
    rows: { train: matrices.train.rows, test: matrices.test.rows, oot: matrices.oot.rows },
    defaultRate: totalPositives / totalRows,
    dataBaseline,
    goldLineage,
    preprocessor,
    positives,
  };

  const path = join(workRoot(modelBankDir), trainingDataSha256);
  if (!(await exists(join(path, MANIFEST)))) {
    await publishDirectory(path, async (dir) => {
      for (const split of SPLITS) {
        await writeFile(join(dir, fileName(split, 'x')), new Uint8Array(matrices[split].data.buffer));
        await writeFile(join(dir, fileName(split, 'y')), new Uint8Array(matrices[split].labels.buffer));
      }
      await writeFile(join(dir, 'oot-raw.json'), JSON.stringify(ootRaw));
      await writeFile(join(dir, 'preprocessor.json'), JSON.stringify(preprocessor, null, 2));
      await writeFile(join(dir, MANIFEST), JSON.stringify(manifest, null, 2)); // last: its presence marks completeness
    });
  }
  await markUsed(path);
  await pruneTrainingWork(modelBankDir, path);
  const { preprocessor: _p, positives: _n, ...summary } = manifest;
  return trainingSetSummarySchema.parse({ path, ...summary });
}

/**
 * How long a training set stays after its last use: a training reads its set at each candidate's start, so a set
 * unused this long belongs to no running training (its models keep their own artifacts) and is removed.
 */
export const TRAINING_WORK_RETENTION_MS = 6 * 60 * 60 * 1000;

/** Records a use of a training set (its manifest's mtime), which keeps pruneTrainingWork off it. */
async function markUsed(path: string): Promise<void> {
  const now = new Date();
  await utimes(join(path, MANIFEST), now, now).catch(() => undefined);
}

/**
 * Removes the training sets under MODEL_BANK_DIR/_work unused for `retentionMs` (each is ~3 MB at the sample's size,
 * one per distinct training data), except `keep` (the one just built); like the staging cache's pruning, a version
 * being written (`.tmp`) is left alone. Returns the removed directories.
 */
export async function pruneTrainingWork(modelBankDir: string, keep: string, retentionMs = TRAINING_WORK_RETENTION_MS, now = Date.now()): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(workRoot(modelBankDir)).catch(() => [] as string[])) {
    const dir = join(workRoot(modelBankDir), name);
    if (name.endsWith('.tmp') || dir === keep) continue;
    const lastUse = await stat(join(dir, MANIFEST)).then((s) => s.mtimeMs, () => null);
    // A directory without a manifest is an unfinished build (publishDirectory renames only complete ones): an orphan.
    if (lastUse !== null && now - lastUse < retentionMs) continue;
    await rm(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}

async function readFloat32(path: string, expectedLength: number): Promise<Float32Array> {
  const values = new Float32Array(expectedLength);
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    if (size !== expectedLength * 4) throw new Error(`${path}: expected ${expectedLength} float32 values, found ${size} bytes`);
    // Read straight into the array: no intermediate Buffer of the same size.
    const { bytesRead } = await file.read(new Uint8Array(values.buffer), 0, size, 0);
    if (bytesRead !== size) throw new Error(`${path}: read ${bytesRead} of ${size} bytes`);
  } finally {
    await file.close();
  }
  return values;
}

/** Bytes of a training set's feature matrices on disk (what a fit of it holds in memory, before libxgboost's own). */
export async function trainingMatrixBytes(path: string): Promise<number> {
  // A missing file counts 0 here: loading the set then reports it.
  const sizes = await Promise.all(SPLITS.map((split) => stat(join(path, fileName(split, 'x'))).then((s) => s.size, () => 0)));
  return sizes.reduce((sum, size) => sum + size, 0);
}

/** Reads a training set written by buildTrainingSet back, validating its manifest and matrix sizes. */
export async function loadTrainingSet(path: string): Promise<LoadedTrainingSet> {
  let manifestJson: unknown;
  try {
    manifestJson = JSON.parse(await readFile(join(path, MANIFEST), 'utf8'));
  } catch (error) {
    throw new Error(`training set ${path} is unreadable (${(error as Error).message}): build it again`, { cause: error });
  }
  const manifest = manifestSchema.parse(manifestJson);
  await markUsed(path);
  const cols = manifest.preprocessor.encoded.length;
  const splits = {} as Record<Split, LabelledMatrix>;
  for (const split of SPLITS) {
    const rows = manifest.rows[split];
    splits[split] = {
      rows,
      cols,
      data: await readFloat32(join(path, fileName(split, 'x')), rows * cols),
      labels: await readFloat32(join(path, fileName(split, 'y')), rows),
    };
  }
  const ootRaw = ootRawSchema.parse(JSON.parse(await readFile(join(path, 'oot-raw.json'), 'utf8')));
  const { preprocessor, positives: _n, ...summary } = manifest;
  return { summary: { path, ...summary }, preprocessor, splits, ootRaw };
}
