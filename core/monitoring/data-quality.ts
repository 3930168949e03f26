// Data-quality findings, kept apart from drift (SPEC §4): a source that stops covering new applications, a feature
// whose NULL share jumps, a month with too few rows, a source whose latest rows are old. They are problems upstream
// of the model: alerted and logged, never a reason to retrain (a retrain on the same gap learns nothing new).
import type { DuckDBConnection } from '@duckdb/node-api';
import type { DataBaseline } from '../../lib/baseline.js';
import type { Config } from '../../lib/config.js';
import type { Finding, MonitoringRow } from '../../lib/contracts.js';
import { datamart, partitionFile, partitionMonthOf, SOURCES, type Source } from '../../lib/layout.js';
import { addMonths, compareMonths, monthOf, monthRange, monthsBetween, snapshotDate, type Month } from '../../lib/months.js';
import { readParquet, queryValue } from '../duckdb.js';
import { FEATURE_SOURCES } from '../etl/feature-store.js';
import { coveredBy, dataProfile, sourcesOf } from '../features/profile.js';
import { readdir, stat } from 'node:fs/promises';

export interface DataQualityThresholds {
  /** A source's coverage this far (absolute share) below its baseline is a warning … */
  coverageDropWarning: number;
  /** … and this far below, critical. */
  coverageDropCritical: number;
  /** A feature's NULL share this far above its baseline is a warning. */
  nullRateJump: number;
  /** A month with fewer rows than (1 − this) × the median of the months before it is a warning; none at all, critical. */
  volumeDrop: number;
  /** Monitoring as of more than this many months after the newest month with source rows is a freshness finding. */
  freshnessGraceMonths: number;
}

export function dataQualityThresholdsFrom(
  config: Pick<Config, 'DATA_COVERAGE_DROP_WARNING' | 'DATA_COVERAGE_DROP_CRITICAL' | 'DATA_NULL_RATE_JUMP' | 'DATA_VOLUME_DROP' | 'DATA_FRESHNESS_GRACE_MONTHS'>,
): DataQualityThresholds {
  return {
    coverageDropWarning: config.DATA_COVERAGE_DROP_WARNING,
    coverageDropCritical: config.DATA_COVERAGE_DROP_CRITICAL,
    nullRateJump: config.DATA_NULL_RATE_JUMP,
    volumeDrop: config.DATA_VOLUME_DROP,
    freshnessGraceMonths: config.DATA_FRESHNESS_GRACE_MONTHS,
  };
}

export interface MonthDataQuality {
  coverage_source: string | null;
  coverage: number | null;
  coverage_baseline: number | null;
  max_null_jump: number | null;
  max_null_jump_feature: string | null;
  /** Sources whose coverage fell at least the warning drop below baseline: drift is judged on rows they still cover. */
  gapSources: Source[];
  /** Rows covered by every gap source (all rows when there is no gap). */
  covered: boolean[];
}

/** The month's profile against the training baseline: the worst coverage drop, the worst NULL jump, the covered rows. */
export function compareWithBaseline(
  features: Record<string, ArrayLike<unknown>>,
  rows: number,
  baseline: DataBaseline | undefined,
  thresholds: DataQualityThresholds,
): MonthDataQuality {
  const none: MonthDataQuality = {
    coverage_source: null, coverage: null, coverage_baseline: null, max_null_jump: null, max_null_jump_feature: null,
    gapSources: [], covered: new Array<boolean>(rows).fill(true),
  };
  if (!baseline || rows === 0) return none;
  const profile = dataProfile(features, rows);
  const result = { ...none };
  let worstDrop = 0;
  for (const source of SOURCES) {
    const expected = baseline.coverage[source];
    const actual = profile.coverage[source];
    if (expected === undefined || actual === undefined) continue;
    const drop = expected - actual;
    if (drop >= thresholds.coverageDropWarning) result.gapSources = [...result.gapSources, source];
    if (drop > worstDrop) {
      worstDrop = drop;
      Object.assign(result, { coverage_source: source, coverage: actual, coverage_baseline: expected });
    }
  }
  let worstJump = 0;
  for (const [feature, rate] of Object.entries(profile.null_rate)) {
    const expected = baseline.null_rate[feature];
    if (expected === undefined) continue;
    const jump = rate - expected;
    if (jump > worstJump || (jump === worstJump && jump > 0 && feature < (result.max_null_jump_feature ?? '~'))) {
      worstJump = jump;
      Object.assign(result, { max_null_jump: jump, max_null_jump_feature: feature });
    }
  }
  if (result.gapSources.length > 0) {
    const bySource = sourcesOf(Object.keys(features));
    const masks = result.gapSources.map((source) => coveredBy(features, bySource.get(source) ?? [], rows));
    result.covered = Array.from({ length: rows }, (_, row) => masks.every((mask) => mask[row]));
  }
  return result;
}

const percent = (share: number) => `${(share * 100).toFixed(share > 0 && share < 0.01 ? 1 : 0)}%`;

/**
 * Data findings of the monitoring table's latest month: the coverage gap (with the month it started) and the worst
 * NULL-rate jump of a feature whose source is not already reported as a gap.
 */
export function dataFindingsOf(rows: readonly MonitoringRow[], thresholds: DataQualityThresholds): Finding[] {
  const byMonth = [...rows].sort((a, b) => a.snapshot_date.localeCompare(b.snapshot_date));
  const latest = byMonth.at(-1);
  if (!latest) return [];
  const findings: Finding[] = [];
  const month = monthOf(latest.snapshot_date);
  const dropOf = (row: MonitoringRow) =>
    row.coverage_baseline !== null && row.coverage !== null ? row.coverage_baseline - row.coverage : 0;
  const drop = dropOf(latest);
  if (latest.coverage_source && drop >= thresholds.coverageDropWarning) {
    let since = latest;
    for (let i = byMonth.length - 2; i >= 0; i--) {
      const row = byMonth[i];
      if (row.coverage_source !== latest.coverage_source || dropOf(row) < thresholds.coverageDropWarning) break;
      since = row;
    }
    const sinceMonth = monthOf(since.snapshot_date);
    const span = sinceMonth === month ? '' : ` (every month since ${sinceMonth})`;
    const critical = drop >= thresholds.coverageDropCritical;
    findings.push({
      severity: critical ? 'critical' : 'warning',
      kind: 'data',
      metric: `coverage:${latest.coverage_source}`,
      snapshot_date: latest.snapshot_date,
      value: latest.coverage!,
      threshold: latest.coverage_baseline! - (critical ? thresholds.coverageDropCritical : thresholds.coverageDropWarning),
      message:
        `${latest.coverage_source}: ${percent(latest.coverage!)} of ${month} applications covered, baseline ${percent(latest.coverage_baseline!)}${span}; ` +
        `its features are NULL for the rest, drift is judged on the ${latest.n_covered} covered row(s)`,
    });
  }
  const jumpSource = latest.max_null_jump_feature ? FEATURE_SOURCES[latest.max_null_jump_feature] : undefined;
  const explained = jumpSource !== undefined && jumpSource === latest.coverage_source && drop >= thresholds.coverageDropWarning;
  if (latest.max_null_jump !== null && latest.max_null_jump >= thresholds.nullRateJump && !explained) {
    findings.push({
      severity: 'warning',
      kind: 'data',
      metric: `null_rate:${latest.max_null_jump_feature}`,
      snapshot_date: latest.snapshot_date,
      value: latest.max_null_jump,
      threshold: thresholds.nullRateJump,
      message: `feature ${latest.max_null_jump_feature}: NULL share up ${percent(latest.max_null_jump)} in ${month} against its training baseline`,
    });
  }
  return findings;
}

async function rowCount(db: DuckDBConnection, file: string): Promise<number | null> {
  try {
    if (!(await stat(file)).isFile()) return null;
  } catch {
    return null;
  }
  return Number(await queryValue(db, `SELECT count(*) FROM ${readParquet(file)}`));
}

/** Months looked back over for volume and freshness. */
export const SOURCE_LOOKBACK_MONTHS = 12;
const VOLUME_REFERENCE_MONTHS = 3;

/**
 * Volume and freshness of each source's bronze partitions (what arrived) up to `asOf`: the latest month with rows per
 * source against the freshest source, and each source's latest month against the median of the months before it.
 */
export async function sourceFindings(db: DuckDBConnection, datamartDir: string, asOf: Month, thresholds: DataQualityThresholds): Promise<Finding[]> {
  const months = monthRange(addMonths(asOf, -SOURCE_LOOKBACK_MONTHS), asOf);
  const counts = new Map<Source, Map<Month, number>>();
  for (const source of SOURCES) {
    const table = datamart.sourceTable(datamartDir, 'bronze', source);
    const bySource = new Map<Month, number>();
    for (const month of months) {
      const count = await rowCount(db, partitionFile(table, month));
      if (count !== null) bySource.set(month, count);
    }
    counts.set(source, bySource);
  }
  const latestWithRows = (source: Source) =>
    [...(counts.get(source) ?? new Map<Month, number>()).entries()].filter(([, n]) => n > 0).map(([m]) => m).sort(compareMonths).at(-1) ?? null;
  const freshest = SOURCES.map(latestWithRows).filter((m): m is Month => m !== null).sort(compareMonths).at(-1);
  if (!freshest) return [];
  const findings: Finding[] = [];
  for (const source of SOURCES) {
    const latest = latestWithRows(source);
    const lag = latest === null ? SOURCE_LOOKBACK_MONTHS + 1 : months.indexOf(freshest) - months.indexOf(latest);
    if (lag > 0) {
      findings.push({
        severity: lag >= 3 ? 'critical' : 'warning',
        kind: 'data',
        metric: `freshness:${source}`,
        snapshot_date: snapshotDate(freshest),
        value: lag,
        threshold: 1,
        message:
          latest === null
            ? `${source}: no rows in the ${SOURCE_LOOKBACK_MONTHS} months up to ${asOf}, other sources have rows for ${freshest}`
            : `${source}: latest month with rows ${latest}, ${lag} month(s) behind the freshest source (${freshest})`,
      });
    }
    const bySource = counts.get(source)!;
    const present = [...bySource.keys()].sort(compareMonths);
    const last = present.at(-1);
    if (!last) continue;
    const before = present.slice(0, -1).slice(-VOLUME_REFERENCE_MONTHS).map((m) => bySource.get(m)!).sort((a, b) => a - b);
    if (before.length === 0) continue;
    const median = before.length % 2 ? before[(before.length - 1) / 2] : (before[before.length / 2 - 1] + before[before.length / 2]) / 2;
    const rows = bySource.get(last)!;
    if (median > 0 && rows < (1 - thresholds.volumeDrop) * median) {
      findings.push({
        severity: rows === 0 ? 'critical' : 'warning',
        kind: 'data',
        metric: `volume:${source}`,
        snapshot_date: snapshotDate(last),
        value: rows,
        threshold: (1 - thresholds.volumeDrop) * median,
        message: `${source}: ${rows} row(s) in ${last}, against a median of ${median} over the ${before.length} month(s) before`,
      });
    }
  }
  return findings;
}

/** The newest month in which any source has bronze rows (what arrived), whatever the as-of date; null when none has. */
export async function newestMonthWithData(db: DuckDBConnection, datamartDir: string): Promise<Month | null> {
  let newest: Month | null = null;
  for (const source of SOURCES) {
    const table = datamart.sourceTable(datamartDir, 'bronze', source);
    const months = (await readdir(table).catch(() => [] as string[]))
      .map(partitionMonthOf)
      .filter((month): month is Month => month !== null)
      .sort(compareMonths)
      .reverse();
    for (const month of months) {
      if (newest !== null && compareMonths(month, newest) <= 0) break;
      if (((await rowCount(db, partitionFile(table, month))) ?? 0) > 0) {
        newest = month;
        break;
      }
    }
  }
  return newest;
}

/**
 * Monitoring as of a month later than the newest data (SPEC §4): how old the data is, in months, when that is more than
 * the grace (the monthly pipeline processes the month just ended, so one month behind is the normal state of a run
 * during a month). Without it a run as of 2026-12 on data ending 2024-12 would judge two-year-old months and report
 * "no finding": every number would be true and the picture false.
 */
export async function freshnessFinding(db: DuckDBConnection, datamartDir: string, asOf: Month, thresholds: DataQualityThresholds): Promise<Finding[]> {
  const newest = await newestMonthWithData(db, datamartDir);
  // no bronze at all (monitoring tables written by hand, as tests do): nothing arrived to be late, as in sourceFindings
  if (newest === null) return [];
  const age = monthsBetween(newest, asOf);
  if (age <= thresholds.freshnessGraceMonths) return [];
  return [
    {
      severity: age >= 3 ? 'critical' : 'warning',
      kind: 'data',
      metric: 'freshness:as_of',
      snapshot_date: snapshotDate(newest),
      value: age,
      threshold: thresholds.freshnessGraceMonths,
      message:
        `stale data: monitoring as of ${asOf}, but the newest month with source rows is ${newest}, ${age} month(s) earlier ` +
        `(no data for ${addMonths(newest, 1)}..${asOf}); nothing after ${newest} is monitored: load the missing months (monthly pipeline or backfill)`,
    },
  ];
}
