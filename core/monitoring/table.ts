// The monitoring table of a model (gold/monitoring/model_id=<id>/data.parquet): one row per application month with
// performance (mature months only) and drift, recomputed from the predictions, labels and features on every run.
import type { DuckDBConnection } from '@duckdb/node-api';
import { monitoringRowSchema, type ModelMetadata, type MonitoringRow, type OnlineSkewRow } from '../../lib/contracts.js';
import { datamart } from '../../lib/layout.js';
import { monthOf, snapshotDate, type Month } from '../../lib/months.js';
import { queryRows, readParquet, sqlString, withDuckDB, writeParquetAtomic } from '../duckdb.js';
import { stabilityIndex, type Bins } from '../statistics/drift.js';
import { loadModelMetadata, predictionMonths, readMonthFeatureRows, readMonthScores, toNumber } from './inputs.js';
import { compareWithBaseline, dataQualityThresholdsFrom, type DataQualityThresholds } from './data-quality.js';
import type { Config } from '../../lib/config.js';
import { NO_PERFORMANCE, performanceMetrics } from './metrics.js';
import { monthStatus, monthWindow, thresholdsFrom, type Thresholds } from './status.js';
import { sqlDouble } from './sql-literals.js';
import { computeOnlineSkewRows, skewThresholdsFrom, writeOnlineSkewTable, type SkewThresholds } from './online-skew.js';
import { stat } from 'node:fs/promises';
import { estimatePerformance, seedOf } from './estimation.js';
import { estimationThresholdsFrom, type EstimationThresholds } from './estimated-findings.js';
import { hosmerLemeshow } from '../statistics/calibration.js';
import { attributionShiftOf, monthsMeanAbsoluteContributions } from '../explain/attribution.js';

export interface MonitoringSettings {
  datamartDir: string;
  modelBankDir: string;
  thresholds: Thresholds;
  dataQuality: DataQualityThresholds;
  skew: SkewThresholds;
  estimation: EstimationThresholds;
}

/** The settings of monitoring, from the configuration (each part overridable, as tests do). */
export function monitoringSettings(config: Config, overrides: Partial<MonitoringSettings> = {}): MonitoringSettings & { reportsDir: string } {
  return {
    datamartDir: config.DATAMART_DIR,
    modelBankDir: config.MODEL_BANK_DIR,
    reportsDir: config.REPORTS_DIR,
    thresholds: thresholdsFrom(config),
    dataQuality: dataQualityThresholdsFrom(config),
    skew: skewThresholdsFrom(config),
    estimation: estimationThresholdsFrom(config),
    ...overrides,
  };
}

/** A month's values of one feature: numbers (NaN for NULL) of a numeric column, or the column's values. */
type FeatureValues = Float64Array | readonly unknown[];

/** Feature values as the stored bins expect them: numbers for numeric bins, text for categorical ones. */
function valuesForBins(bins: Bins, values: FeatureValues): ArrayLike<number | string | null> {
  if (values instanceof Float64Array) {
    return bins.kind === 'numeric' ? values : Array.from(values, (value) => (Number.isNaN(value) ? null : String(value)));
  }
  if (bins.kind === 'numeric') return values.map(toNumber);
  return values.map((value) => (value === null || value === undefined ? null : String(value)));
}

/** Largest CSI over the model's features present this month, and which feature it is; NULLs when none is present. */
export function maxCsi(
  baseline: ModelMetadata['baseline'],
  features: Record<string, FeatureValues>,
): { max_csi: number | null; max_csi_feature: string | null } {
  let best: { max_csi: number | null; max_csi_feature: string | null } = { max_csi: null, max_csi_feature: null };
  for (const [feature, values] of Object.entries(features).sort(([a], [b]) => a.localeCompare(b))) {
    const bins = baseline.features[feature];
    if (!bins || values.length === 0) continue;
    const csi = stabilityIndex(bins, valuesForBins(bins, values));
    if (best.max_csi === null || csi > best.max_csi) best = { max_csi: csi, max_csi_feature: feature };
  }
  return best;
}

/** The rows of `values` that `keep` marks (the same array when it marks all: `everyRow`). */
function pick<T extends FeatureValues>(values: T, keep: readonly boolean[], everyRow: boolean): T {
  if (everyRow) return values;
  return (values instanceof Float64Array ? values.filter((_, row) => keep[row]) : values.filter((_, row) => keep[row])) as T;
}

/**
 * One month's row of the monitoring table. PSI is the contract's (every scored row); `psi_covered` and the CSI are
 * computed on the rows every source still covers, so that a source that stopped covering new applications shows up
 * as a data finding (coverage beside its baseline) and not as a population shift. Its attribution drift columns are
 * NULL: monitorMonths fills them from every month's explanations, read at once.
 */
export async function monitorMonth(
  db: DuckDBConnection,
  settings: MonitoringSettings,
  metadata: ModelMetadata,
  month: Month,
  asOf: Month,
): Promise<MonitoringRow | null> {
  const scores = await readMonthScores(db, settings.datamartDir, metadata.model_id, month, asOf);
  if (scores.probabilities.length === 0) return null;
  const psi = stabilityIndex(metadata.baseline.score, scores.probabilities);
  const profiled = new Set([...Object.keys(metadata.baseline.features), ...Object.keys(metadata.data_baseline?.null_rate ?? {})]);
  const wanted = metadata.features.filter((feature) => profiled.has(feature));
  const scored = await readMonthFeatureRows(db, settings.datamartDir, metadata.model_id, month, wanted);
  const rows = scored.probabilities.length;
  const quality = compareWithBaseline(scored.features, rows, scored.featuresFound ? metadata.data_baseline : undefined, settings.dataQuality);
  const everyRow = quality.covered.every(Boolean);
  const coveredScores = pick(scored.probabilities, quality.covered, everyRow);
  const coveredFeatures = Object.fromEntries(Object.entries(scored.features).map(([name, values]) => [name, pick(values, quality.covered, everyRow)]));
  const psiCovered = coveredScores.length > 0 ? stabilityIndex(metadata.baseline.score, coveredScores) : null;
  const drift = maxCsi(metadata.baseline, coveredFeatures);
  const performance = scores.mature ? performanceMetrics(scores.outcomes) : NO_PERFORMANCE;
  const meanProbability = scores.probabilities.reduce((sum, value) => sum + value, 0) / scores.probabilities.length;
  const estimated = estimatePerformance(scores.probabilities, seedOf(`${metadata.model_id}|${month}`));
  const calibration = scores.mature
    ? hosmerLemeshow(scores.outcomes.map((outcome) => outcome.probability), scores.outcomes.map((outcome) => outcome.label))
    : null;
  return monitoringRowSchema.parse({
    model_id: metadata.model_id,
    snapshot_date: snapshotDate(month),
    n_scored: scores.probabilities.length,
    ...performance,
    mean_probability: meanProbability,
    psi,
    ...drift,
    status: monthStatus({ mature: scores.mature, psi: psiCovered, auc: performance.auc }, settings.thresholds),
    window: monthWindow(month, metadata.windows),
    coverage_source: quality.coverage_source,
    coverage: quality.coverage,
    coverage_baseline: quality.coverage_baseline,
    psi_covered: psiCovered,
    n_covered: coveredScores.length,
    max_null_jump: quality.max_null_jump,
    max_null_jump_feature: quality.max_null_jump_feature,
    ...estimated,
    calibration_p_value: calibration?.p_value ?? null,
    attribution_shift: null,
    max_attribution_shift: null,
    max_attribution_shift_feature: null,
  });
}

const DOUBLE_COLUMNS = [
  'observed_default_rate',
  'mean_probability',
  'auc',
  'gini',
  'ks',
  'accuracy',
  'precision',
  'recall',
  'f1',
  'brier',
  'psi',
  'max_csi',
  'coverage',
  'coverage_baseline',
  'psi_covered',
  'max_null_jump',
  'auc_estimated',
  'auc_estimated_low',
  'auc_estimated_high',
  'expected_default_rate',
  'calibration_p_value',
  'attribution_shift',
  'max_attribution_shift',
] as const;
const TEXT_COLUMNS = ['max_csi_feature', 'window', 'coverage_source', 'max_null_jump_feature', 'max_attribution_shift_feature'] as const;

function rowSelect(row: MonitoringRow): string {
  return `SELECT ${sqlString(row.model_id)} AS model_id, DATE ${sqlString(row.snapshot_date)} AS snapshot_date,
    ${row.n_scored}::BIGINT AS n_scored, ${row.n_labelled}::BIGINT AS n_labelled, ${row.n_covered}::BIGINT AS n_covered,
    ${DOUBLE_COLUMNS.map((column) => `${sqlDouble(row[column])} AS ${column}`).join(', ')},
    ${TEXT_COLUMNS.map((column) => `${row[column] === null ? 'NULL::VARCHAR' : sqlString(row[column])} AS "${column}"`).join(', ')},
    ${sqlString(row.status)} AS status`;
}

/** Replaces the table with `rows`, atomically. An empty table keeps its columns (a typed SELECT with no row). */
export async function writeMonitoringTable(db: DuckDBConnection, rows: readonly MonitoringRow[], path: string): Promise<void> {
  const empty: MonitoringRow = monitoringRowSchema.parse({
    model_id: '', snapshot_date: '1970-01-01', n_scored: 0, n_labelled: 0, observed_default_rate: null,
    mean_probability: 0, auc: null, gini: null, ks: null, accuracy: null, precision: null, recall: null, f1: null,
    brier: null, psi: 0, max_csi: null, max_csi_feature: null, status: 'immature', window: 'after', coverage_source: null,
    coverage: null, coverage_baseline: null, psi_covered: null, n_covered: 0, max_null_jump: null, max_null_jump_feature: null,
    auc_estimated: null, auc_estimated_low: null, auc_estimated_high: null, expected_default_rate: 0, calibration_p_value: null,
    attribution_shift: null, max_attribution_shift: null, max_attribution_shift_feature: null,
  });
  const select = rows.length > 0 ? rows.map(rowSelect).join('\nUNION ALL\n') : `${rowSelect(empty)} LIMIT 0`;
  await writeParquetAtomic(db, `SELECT * FROM (${select}) ORDER BY snapshot_date`, path);
}

/** The stored table, validated row by row. */
export async function readMonitoringTable(db: DuckDBConnection, path: string): Promise<MonitoringRow[]> {
  try {
    await stat(path);
  } catch {
    throw new Error(`${path}: no monitoring table: run computeMonitoring for this model first`);
  }
  const rows = await queryRows(db, `SELECT * FROM ${readParquet(path)} ORDER BY snapshot_date`);
  return rows.map((row, index) => {
    const parsed = monitoringRowSchema.safeParse(row);
    if (!parsed.success) {
      throw new Error(`${path}: row ${index + 1} is not a monitoring row: ${parsed.error.issues[0]?.message ?? ''}`);
    }
    return parsed.data;
  });
}

export interface MonitoringResult {
  rows: MonitoringRow[];
  path: string;
  /** Months with online scores by the model: online vs batch (gold/monitoring_online). */
  online: OnlineSkewRow[];
  onlinePath: string;
  metadata: ModelMetadata;
}

/**
 * Months monitored at once, each lane on a DuckDB connection of its own: one month's reads (DuckDB, on libuv's pool)
 * overlap another's PSI, CSI and metrics (JavaScript, on the event loop). One lane left a core idle (1.1 of 2 cores at
 * S = 10); two: 0.66-0.68 against 0.75-0.84 s for the S = 10 table, the same rows.
 */
const MONITORING_LANES = 2;

/** Progress after each month monitored: the months finish in any order (two lanes), so the count says how far along. */
export type MonthDone = (progress: { month: Month; monthsDone: number; months: number }) => void;

/** monitorMonth of every month, MONITORING_LANES at a time; the rows in month order (months without scores left out). */
async function monitorMonths(
  settings: MonitoringSettings,
  metadata: ModelMetadata,
  months: readonly Month[],
  asOf: Month,
  onMonth: MonthDone,
): Promise<MonitoringRow[]> {
  const rows = new Array<MonitoringRow | null>(months.length).fill(null);
  let next = 0;
  let monthsDone = 0;
  // Every month's explanations in one query (each row's JSON parsed once per process: the dashboard's drivers read the
  // same means), on a connection of its own beside the lanes: DuckDB's threads parse the JSON while the lanes' reads and
  // statistics go on. A model without an attribution baseline has no attribution drift.
  const attribution = metadata.attribution
    ? withDuckDB((db) => monthsMeanAbsoluteContributions(db, settings.datamartDir, metadata.model_id, months, metadata.features)).catch((error: unknown) => {
        next = months.length; // the lanes stop after their current month: the table is not written
        throw error;
      })
    : Promise.resolve(new Map<Month, Readonly<Record<string, number>>>());
  const lane = () =>
    withDuckDB(async (db) => {
      for (let index = next++; index < months.length; index = next++) {
        try {
          rows[index] = await monitorMonth(db, settings, metadata, months[index], asOf);
        } catch (error) {
          next = months.length; // the other lanes stop after their current month: the table is not written
          throw error;
        }
        onMonth({ month: months[index], monthsDone: ++monthsDone, months: months.length });
      }
    });
  // Every lane and the explanations' query settle before this returns or throws: a failed table leaves nothing reading
  // (or heartbeating) behind it.
  const lanes = Array.from({ length: Math.min(MONITORING_LANES, months.length) }, lane);
  const [means, ...settled] = await Promise.allSettled([attribution, ...lanes]);
  const failed = [...settled, means].find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (failed) throw failed.reason;
  const meanContributions = (means as PromiseFulfilledResult<Map<Month, Readonly<Record<string, number>>>>).value;
  return rows
    .filter((row): row is MonitoringRow => row !== null)
    .map((row) => ({ ...row, ...attributionShiftOf(metadata, meanContributions.get(monthOf(row.snapshot_date))) }));
}

/**
 * Recomputes and rewrites the whole table of `modelId` as of `asOf`, and its online-vs-batch table beside it;
 * `onMonth` is told after each month (heartbeats), in the order the months finish.
 */
export async function computeMonitoringTable(
  settings: MonitoringSettings,
  asOf: Month,
  modelId: string,
  onMonth: MonthDone = () => {},
): Promise<MonitoringResult> {
  const metadata = await loadModelMetadata(settings.modelBankDir, modelId); // validated, and its id checked
  const months = await predictionMonths(settings.datamartDir, modelId, asOf);
  const path = datamart.monitoring(settings.datamartDir, modelId);
  const onlinePath = datamart.monitoringOnline(settings.datamartDir, modelId);
  const rows = await monitorMonths(settings, metadata, months, asOf, onMonth);
  return withDuckDB(async (db) => {
    const online = await computeOnlineSkewRows(db, settings.datamartDir, metadata, asOf);
    await writeMonitoringTable(db, rows, path);
    await writeOnlineSkewTable(db, online, onlinePath);
    return { rows, path, online, onlinePath, metadata };
  });
}
