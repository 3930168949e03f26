// Judgements on performance before labels and on calibration (issue 30), kept apart from drift (status.ts) and data
// (data-quality.ts): a significant drop of the estimated AUC on an out-of-sample month (`performance_estimated`), a
// latest mature out-of-sample month whose default rates do not match its probabilities (`calibration`), and the
// backtest that says how far the estimates have been from the realized AUC on mature months.
import type { Config } from '../../lib/config.js';
import type { Finding, ModelMetadata, MonitoringRow } from '../../lib/contracts.js';

export interface EstimationThresholds {
  /** A Hosmer–Lemeshow p-value below this is a calibration finding. */
  calibrationAlpha: number;
  /** The estimated band lying wholly below OOT AUC − margin is a significant drop. */
  estimatedAucMargin: number;
  /** `retrain`: a significant estimated drop is critical (a retrain request, as a realized one); `alert`: a warning. */
  estimatedPerformanceAction: 'alert' | 'retrain';
}

export function estimationThresholdsFrom(
  config: Pick<Config, 'CALIBRATION_ALPHA' | 'ESTIMATED_AUC_MARGIN' | 'ESTIMATED_PERFORMANCE_ACTION'>,
): EstimationThresholds {
  return {
    calibrationAlpha: config.CALIBRATION_ALPHA,
    estimatedAucMargin: config.ESTIMATED_AUC_MARGIN,
    estimatedPerformanceAction: config.ESTIMATED_PERFORMANCE_ACTION,
  };
}

const format = (value: number) => value.toFixed(4);
const percent = (share: number) => `${(share * 100).toFixed(1)}%`;
const month = (row: MonitoringRow) => row.snapshot_date.slice(0, 7);

/** How far the estimates were from the realized AUC: mature months with both, over the whole table of a model. */
export interface EstimationBacktest {
  /** Mature months with a realized and an estimated AUC. */
  months: number;
  /** Mean |auc − auc_estimated|; NULL without such a month. */
  mean_absolute_error: number | null;
  /** Months whose realized AUC lies inside the estimated 90% band, and their share of the months with a band. */
  inside_band: number;
  banded_months: number;
  share_inside_band: number | null;
}

export function backtestOf(rows: readonly MonitoringRow[]): EstimationBacktest {
  const mature = rows.filter((row) => row.auc !== null && row.auc_estimated !== null);
  const banded = mature.filter((row) => row.auc_estimated_low !== null && row.auc_estimated_high !== null);
  const inside = banded.filter((row) => row.auc! >= row.auc_estimated_low! && row.auc! <= row.auc_estimated_high!).length;
  const error = mature.reduce((sum, row) => sum + Math.abs(row.auc! - row.auc_estimated!), 0);
  return {
    months: mature.length,
    mean_absolute_error: mature.length === 0 ? null : error / mature.length,
    inside_band: inside,
    banded_months: banded.length,
    share_inside_band: banded.length === 0 ? null : inside / banded.length,
  };
}

/** One line for people: "backtest on 18 mature months: mean |realized − estimated| AUC 0.0213, 16/18 inside the band". */
export function describeBacktest(backtest: EstimationBacktest): string {
  if (backtest.months === 0) return 'backtest of the estimated AUC: no mature month with labels yet';
  const band = backtest.share_inside_band === null ? 'no band' : `${backtest.inside_band}/${backtest.banded_months} (${percent(backtest.share_inside_band)}) inside the 90% band`;
  return `backtest of the estimated AUC on ${backtest.months} mature month(s): mean |realized − estimated| ${format(backtest.mean_absolute_error!)}, ${band}`;
}

/**
 * A significant estimated drop: the latest out-of-sample (`after`) month with an estimate whose whole 90% band lies
 * below the model's OOT AUC minus the margin. Mature or not: the point is to see it before the labels, and a mature
 * month's realized AUC is judged by status.ts as well. Older months are history, as for drift.
 */
export function estimatedPerformanceFindingsOf(
  rows: readonly MonitoringRow[],
  metadata: Pick<ModelMetadata, 'metrics'>,
  thresholds: EstimationThresholds,
): Finding[] {
  const latest = rows
    .filter((row) => row.window === 'after' && row.auc_estimated_high !== null)
    .sort((a, b) => a.snapshot_date.localeCompare(b.snapshot_date))
    .at(-1);
  if (!latest) return [];
  const floor = metadata.metrics.oot_auc - thresholds.estimatedAucMargin;
  if (latest.auc_estimated_high! >= floor) return [];
  const retrain = thresholds.estimatedPerformanceAction === 'retrain';
  const labels = latest.status === 'immature' ? 'labels not mature yet' : 'labels mature';
  return [
    {
      severity: retrain ? 'critical' : 'warning',
      kind: 'performance_estimated',
      metric: 'auc_estimated',
      snapshot_date: latest.snapshot_date,
      value: latest.auc_estimated!,
      threshold: floor,
      message:
        `estimated AUC ${format(latest.auc_estimated!)} of ${month(latest)} (${labels}; 90% band ${format(latest.auc_estimated_low!)}–${format(latest.auc_estimated_high!)}) ` +
        `is wholly below the OOT AUC ${format(metadata.metrics.oot_auc)} minus ${thresholds.estimatedAucMargin}: the scores lost confidence` +
        (retrain ? '' : ' (alerted; ESTIMATED_PERFORMANCE_ACTION=retrain would retrain on it)'),
    },
  ];
}

/**
 * The latest mature out-of-sample month's calibration: a Hosmer–Lemeshow p-value below alpha means its default rates do
 * not match its probabilities. Recalibration (a new intercept and slope on recent labelled months) is the remedy, not
 * necessarily a retrain: the ranking (AUC) may still be fine, but prices, provisions and estimated AUC are off.
 */
export function calibrationFindingsOf(rows: readonly MonitoringRow[], thresholds: EstimationThresholds): Finding[] {
  const latest = rows
    .filter((row) => row.window === 'after' && row.status !== 'immature' && row.calibration_p_value !== null)
    .sort((a, b) => a.snapshot_date.localeCompare(b.snapshot_date))
    .at(-1);
  if (!latest || latest.calibration_p_value! >= thresholds.calibrationAlpha) return [];
  const observed = latest.observed_default_rate === null ? 'n/a' : percent(latest.observed_default_rate);
  return [
    {
      severity: 'warning',
      kind: 'calibration',
      metric: 'calibration_p_value',
      snapshot_date: latest.snapshot_date,
      value: latest.calibration_p_value!,
      threshold: thresholds.calibrationAlpha,
      message:
        `${month(latest)} is miscalibrated: expected default rate ${percent(latest.expected_default_rate)}, observed ${observed}, ` +
        `Hosmer–Lemeshow p ${latest.calibration_p_value!.toExponential(2)} < ${thresholds.calibrationAlpha}; recalibrate ` +
        '(probabilities no longer mean default rates: pricing, provisions and estimated AUC are off)',
    },
  ];
}
