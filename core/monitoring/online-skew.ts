// Training-serving skew seen from the outputs: for each application month with online scores of the monitored model
// (gold/predictions_online, written by the scoring API), the PSI of those scores against the batch scores of the same
// model and month (gold/predictions), on the model's baseline score deciles with SPEC §4's rules (outer bins open,
// proportions floored at 1e-4; batch is the expected distribution). Stored beside the monitoring table in
// gold/monitoring_online/model_id=<id>/data.parquet (one row per month with online scores), judged by governance as an
// alert only: a retrain cannot fix a serving path that computes other scores than the batch path.
import { readdir } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Config } from '../../lib/config.js';
import { onlineSkewRowSchema, type Finding, type ModelMetadata, type OnlineSkewRow } from '../../lib/contracts.js';
import { datamart, partitionDir, partitionFile, partitionMonthOf } from '../../lib/layout.js';
import { MonitoringInputError } from '../../lib/errors.js';
import { compareMonths, monthOf, snapshotDate, type Month } from '../../lib/months.js';
import { queryRows, readParquet, sqlString, withDuckDB, writeParquetAtomic } from '../duckdb.js';
import { exists } from '../files.js';
import { readMetadata } from '../models/metadata.js';
import { numericProportions, psi } from '../statistics/drift.js';
import { toNumber } from './inputs.js';
import { sqlDouble } from './sql-literals.js';

export interface SkewThresholds {
  /** Online-vs-batch PSI of the latest month with online scores at or above this: a skew warning. */
  onlinePsiWarning: number;
  /** Fewer online scores than this in the month: its PSI is stored and shown but not judged (sampling noise ≈ 9 / n). */
  onlineMinRows: number;
}

export function skewThresholdsFrom(config: Pick<Config, 'ONLINE_PSI_WARNING' | 'ONLINE_PSI_MIN_ROWS'>): SkewThresholds {
  return { onlinePsiWarning: config.ONLINE_PSI_WARNING, onlineMinRows: config.ONLINE_PSI_MIN_ROWS };
}

async function parquetFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((name) => name.endsWith('.parquet')).sort().map((name) => `${dir}/${name}`);
}

/** Application months with an online-scores partition, up to and including `asOf`, in order (any model's). */
export async function onlineMonths(datamartDir: string, asOf: Month): Promise<Month[]> {
  const entries = await readdir(datamart.predictionsOnline(datamartDir)).catch(() => [] as string[]);
  return entries
    .map(partitionMonthOf)
    .filter((month): month is Month => month !== null && compareMonths(month, asOf) <= 0)
    .sort(compareMonths);
}

function probabilitiesOf(file: string, values: readonly unknown[]): number[] {
  return values.map((value, row) => {
    const probability = toNumber(value);
    if (probability === null || probability < 0 || probability > 1) {
      throw new MonitoringInputError(file, `row ${row + 1}: default_probability ${String(value)} is not in [0, 1]`);
    }
    return probability;
  });
}

/** The month's online scores by `modelId` (other models' rows, e.g. before a hot swap, are left out). */
export async function readOnlineScores(db: DuckDBConnection, datamartDir: string, modelId: string, month: Month): Promise<number[]> {
  const dir = partitionDir(datamart.predictionsOnline(datamartDir), month);
  const files = await parquetFiles(dir);
  if (files.length === 0) return [];
  const rows = await queryRows<{ p: unknown }>(
    db,
    `SELECT default_probability AS p FROM ${readParquet(files)} WHERE model_id = ${sqlString(modelId)}`,
  );
  return probabilitiesOf(dir, rows.map((row) => row.p));
}

/** The month's batch scores by `modelId`; empty when the month is not batch-scored (yet). */
export async function readBatchScores(db: DuckDBConnection, datamartDir: string, modelId: string, month: Month): Promise<number[]> {
  const file = partitionFile(datamart.predictions(datamartDir, modelId), month);
  if (!(await exists(file))) return [];
  const rows = await queryRows<{ p: unknown }>(db, `SELECT default_probability AS p FROM ${readParquet(file)}`);
  return probabilitiesOf(file, rows.map((row) => row.p));
}

/** PSI of online against batch scores on the baseline score deciles; null when either side has no score. */
export function onlineVsBatchPsi(baseline: ModelMetadata['baseline'], batch: readonly number[], online: readonly number[]): number | null {
  if (batch.length === 0 || online.length === 0) return null;
  const { edges } = baseline.score;
  return psi(numericProportions(batch, edges, false), numericProportions(online, edges, false));
}

/** One month's skew row, or null when the month has no online score by this model. */
export async function onlineSkewOfMonth(db: DuckDBConnection, datamartDir: string, metadata: ModelMetadata, month: Month): Promise<OnlineSkewRow | null> {
  const online = await readOnlineScores(db, datamartDir, metadata.model_id, month);
  if (online.length === 0) return null;
  const batch = await readBatchScores(db, datamartDir, metadata.model_id, month);
  return onlineSkewRowSchema.parse({
    model_id: metadata.model_id,
    snapshot_date: snapshotDate(month),
    n_online: online.length,
    n_batch: batch.length,
    online_psi: onlineVsBatchPsi(metadata.baseline, batch, online),
  });
}

/** Every month up to `asOf` with online scores by the model, oldest first. */
export async function computeOnlineSkewRows(db: DuckDBConnection, datamartDir: string, metadata: ModelMetadata, asOf: Month): Promise<OnlineSkewRow[]> {
  const rows: OnlineSkewRow[] = [];
  for (const month of await onlineMonths(datamartDir, asOf)) {
    const row = await onlineSkewOfMonth(db, datamartDir, metadata, month);
    if (row) rows.push(row);
  }
  return rows;
}

/** One month's skew row on its own connection, for tests and scripts (monitoring calls onlineSkewOfMonth). */
export async function onlineBatchPsi(options: { datamartDir: string; modelBankDir: string; modelId: string; month: Month }): Promise<OnlineSkewRow | null> {
  const metadata = await readMetadata(options.modelBankDir, options.modelId);
  return withDuckDB((db) => onlineSkewOfMonth(db, options.datamartDir, metadata, options.month));
}

function rowSelect(row: OnlineSkewRow): string {
  return `SELECT ${sqlString(row.model_id)} AS model_id, DATE ${sqlString(row.snapshot_date)} AS snapshot_date,
    ${row.n_online}::BIGINT AS n_online, ${row.n_batch}::BIGINT AS n_batch, ${sqlDouble(row.online_psi)} AS online_psi`;
}

/** Replaces the model's skew table with `rows`, atomically; no row still writes the table (typed, empty). */
export async function writeOnlineSkewTable(db: DuckDBConnection, rows: readonly OnlineSkewRow[], path: string): Promise<void> {
  const empty: OnlineSkewRow = { model_id: '', snapshot_date: '1970-01-01', n_online: 0, n_batch: 0, online_psi: null };
  const select = rows.length > 0 ? rows.map(rowSelect).join('\nUNION ALL\n') : `${rowSelect(empty)} LIMIT 0`;
  await writeParquetAtomic(db, `SELECT * FROM (${select}) ORDER BY snapshot_date`, path);
}

/** The stored skew table, validated; empty when monitoring has not written one (a datamart from before it existed). */
export async function readOnlineSkewTable(db: DuckDBConnection, path: string): Promise<OnlineSkewRow[]> {
  if (!(await exists(path))) return [];
  const rows = await queryRows(db, `SELECT * FROM ${readParquet(path)} ORDER BY snapshot_date`);
  return rows.map((row, index) => {
    const parsed = onlineSkewRowSchema.safeParse(row);
    if (!parsed.success) throw new Error(`${path}: row ${index + 1} is not an online skew row: ${parsed.error.issues[0]?.message ?? ''}`);
    return parsed.data;
  });
}

export type SkewLevel = 'skew' | 'no skew' | 'too few to judge';

/** How a month's online-vs-batch PSI reads against the thresholds; null when there is no batch score to compare with. */
export function skewLevel(row: OnlineSkewRow, thresholds: SkewThresholds): SkewLevel | null {
  if (row.online_psi === null) return null;
  if (row.n_online < thresholds.onlineMinRows) return 'too few to judge';
  return row.online_psi >= thresholds.onlinePsiWarning ? 'skew' : 'no skew';
}

/**
 * The skew finding governance acts on: the latest month with an online-vs-batch PSI and enough online scores to judge.
 * Older months are history (as for drift); a month with too few online scores is shown, not judged. Kind `skew`:
 * alerted and logged, never a retrain.
 */
export function skewFindingsOf(rows: readonly OnlineSkewRow[], thresholds: SkewThresholds): Finding[] {
  const judged = rows.filter((row) => ['skew', 'no skew'].includes(skewLevel(row, thresholds) ?? ''));
  const latest = judged.at(-1);
  if (!latest || latest.online_psi === null || skewLevel(latest, thresholds) !== 'skew') return [];
  const month = monthOf(latest.snapshot_date);
  return [
    {
      severity: 'warning',
      kind: 'skew',
      metric: 'online_psi',
      snapshot_date: latest.snapshot_date,
      value: latest.online_psi,
      threshold: thresholds.onlinePsiWarning,
      message: `online scores of ${month} (${latest.n_online}) against its batch scores (${latest.n_batch}) by the same model: PSI ${latest.online_psi.toFixed(4)}, at or above ${thresholds.onlinePsiWarning}: training-serving skew`,
    },
  ];
}
