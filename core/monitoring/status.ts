// From numbers to judgements: a month's status and the findings that governance acts on (SPEC §4 thresholds).
import type { Config } from '../../lib/config.js';
import type { Finding, MonitoringRow } from '../../lib/contracts.js';

export interface Thresholds {
  psiWarning: number;
  psiCritical: number;
  aucCritical: number;
}

export function thresholdsFrom(config: Pick<Config, 'PSI_WARNING' | 'PSI_CRITICAL' | 'AUC_CRITICAL'>): Thresholds {
  return { psiWarning: config.PSI_WARNING, psiCritical: config.PSI_CRITICAL, aucCritical: config.AUC_CRITICAL };
}

/** Status of a month: immature months are not judged on performance; PSI and AUC otherwise, the worse one wins. */
export function monthStatus(
  month: { mature: boolean; psi: number; auc: number | null },
  thresholds: Thresholds,
): MonitoringRow['status'] {
  if (!month.mature) return 'immature';
  if (month.psi >= thresholds.psiCritical) return 'critical';
  if (month.auc !== null && month.auc < thresholds.aucCritical) return 'critical';
  if (month.psi >= thresholds.psiWarning) return 'warning';
  return 'stable';
}

const format = (value: number) => value.toFixed(4);

/**
 * What governance acts on at an as-of date: the drift of the latest scored month (score PSI, and feature CSI as a
 * warning only, since one drifting feature does not by itself mean the model is wrong) and the AUC of the latest
 * mature month. Older months are history, not news: acting on them again would retrain for the same cause forever.
 */
export function findingsOf(rows: readonly MonitoringRow[], thresholds: Thresholds): Finding[] {
  const findings: Finding[] = [];
  const byMonth = [...rows].sort((a, b) => a.snapshot_date.localeCompare(b.snapshot_date));
  const latest = byMonth.at(-1);
  if (latest) {
    const month = latest.snapshot_date;
    if (latest.psi >= thresholds.psiCritical) {
      findings.push({
        severity: 'critical',
        metric: 'psi',
        snapshot_date: month,
        value: latest.psi,
        threshold: thresholds.psiCritical,
        message: `score PSI ${format(latest.psi)} of ${month} is at or above the critical ${thresholds.psiCritical}`,
      });
    } else if (latest.psi >= thresholds.psiWarning) {
      findings.push({
        severity: 'warning',
        metric: 'psi',
        snapshot_date: month,
        value: latest.psi,
        threshold: thresholds.psiWarning,
        message: `score PSI ${format(latest.psi)} of ${month} is at or above the warning ${thresholds.psiWarning}`,
      });
    }
    if (latest.max_csi !== null && latest.max_csi >= thresholds.psiCritical) {
      findings.push({
        severity: 'warning',
        metric: `csi:${latest.max_csi_feature}`,
        snapshot_date: month,
        value: latest.max_csi,
        threshold: thresholds.psiCritical,
        message: `feature ${latest.max_csi_feature} has CSI ${format(latest.max_csi)} in ${month}, at or above ${thresholds.psiCritical}`,
      });
    }
  }
  const latestMature = byMonth.filter((row) => row.status !== 'immature' && row.auc !== null).at(-1);
  if (latestMature && latestMature.auc !== null && latestMature.auc < thresholds.aucCritical) {
    findings.push({
      severity: 'critical',
      metric: 'auc',
      snapshot_date: latestMature.snapshot_date,
      value: latestMature.auc,
      threshold: thresholds.aucCritical,
      message: `AUC ${format(latestMature.auc)} of ${latestMature.snapshot_date} (latest mature month) is below ${thresholds.aucCritical}`,
    });
  }
  return findings;
}
