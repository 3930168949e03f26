// From numbers to judgements: a month's window and status, and the drift and performance findings governance acts on
// (SPEC §4 thresholds). Data findings are core/monitoring/data-quality.ts's.
import type { Config } from '../../lib/config.js';
import type { Finding, ModelMetadata, MonitoringRow, MonthWindow } from '../../lib/contracts.js';
import { compareMonths, type Month } from '../../lib/months.js';

export interface Thresholds {
  psiWarning: number;
  psiCritical: number;
  aucCritical: number;
}

export function thresholdsFrom(config: Pick<Config, 'PSI_WARNING' | 'PSI_CRITICAL' | 'AUC_CRITICAL'>): Thresholds {
  return { psiWarning: config.PSI_WARNING, psiCritical: config.PSI_CRITICAL, aucCritical: config.AUC_CRITICAL };
}

/** Where an application month stands relative to the model's training windows. */
export function monthWindow(month: Month, windows: ModelMetadata['windows']): MonthWindow {
  if (compareMonths(month, windows.oot.to) > 0) return 'after';
  if (compareMonths(month, windows.oot.from) >= 0) return 'oot';
  if (compareMonths(month, windows.test.from) >= 0) return 'test';
  if (compareMonths(month, windows.train.from) >= 0) return 'train';
  return 'before';
}

/**
 * Status of a month: immature months are not judged on performance; PSI (on the covered rows: drift that missing
 * data explains is a data finding, not drift) and AUC otherwise, the worse one wins.
 */
export function monthStatus(
  month: { mature: boolean; psi: number | null; auc: number | null },
  thresholds: Thresholds,
): MonitoringRow['status'] {
  if (!month.mature) return 'immature';
  if (month.psi !== null && month.psi >= thresholds.psiCritical) return 'critical';
  if (month.auc !== null && month.auc < thresholds.aucCritical) return 'critical';
  if (month.psi !== null && month.psi >= thresholds.psiWarning) return 'warning';
  return 'stable';
}

const format = (value: number) => value.toFixed(4);

/**
 * What governance acts on at an as-of date, out-of-sample months only (`after` the model's OOT window: in-sample months
 * say nothing about how the model does on new data): the drift of the latest such month (score PSI on the rows every
 * source still covers, and feature CSI as a warning only, since one drifting feature does not by itself mean the model
 * is wrong) and the AUC of the latest mature such month. Older months are history, not news: acting on them again
 * would retrain for the same cause forever.
 */
export function findingsOf(rows: readonly MonitoringRow[], thresholds: Thresholds): Finding[] {
  const findings: Finding[] = [];
  const byMonth = rows.filter((row) => row.window === 'after').sort((a, b) => a.snapshot_date.localeCompare(b.snapshot_date));
  const latest = byMonth.at(-1);
  if (latest && latest.psi_covered !== null) {
    const month = latest.snapshot_date;
    const psi = latest.psi_covered;
    const onCovered = latest.n_covered < latest.n_scored ? ` (on the ${latest.n_covered} of ${latest.n_scored} rows every source covers)` : '';
    for (const [severity, threshold] of [['critical', thresholds.psiCritical], ['warning', thresholds.psiWarning]] as const) {
      if (psi < threshold) continue;
      findings.push({
        severity,
        kind: 'drift',
        metric: 'psi',
        snapshot_date: month,
        value: psi,
        threshold,
        message: `score PSI ${format(psi)} of ${month}${onCovered} is at or above the ${severity} ${threshold}`,
      });
      break;
    }
    if (latest.max_csi !== null && latest.max_csi >= thresholds.psiCritical) {
      findings.push({
        severity: 'warning',
        kind: 'drift',
        metric: `csi:${latest.max_csi_feature}`,
        snapshot_date: month,
        value: latest.max_csi,
        threshold: thresholds.psiCritical,
        message: `feature ${latest.max_csi_feature} has CSI ${format(latest.max_csi)} in ${month}${onCovered}, at or above ${thresholds.psiCritical}`,
      });
    }
  }
  const latestMature = byMonth.filter((row) => row.status !== 'immature' && row.auc !== null).at(-1);
  if (latestMature && latestMature.auc !== null && latestMature.auc < thresholds.aucCritical) {
    findings.push({
      severity: 'critical',
      kind: 'performance',
      metric: 'auc',
      snapshot_date: latestMature.snapshot_date,
      value: latestMature.auc,
      threshold: thresholds.aucCritical,
      message: `AUC ${format(latestMature.auc)} of ${latestMature.snapshot_date} (latest mature month) is below ${thresholds.aucCritical}`,
    });
  }
  return findings;
}
