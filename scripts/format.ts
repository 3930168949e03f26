// Plain-text tables for the terminal.
import type { MonitoringRow } from '../lib/contracts.js';

/** Cuts text to `width` characters, marking the cut, so one long cell cannot widen a whole table. */
export function truncate(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

export function formatTable(header: string[], rows: (string | number | null)[][]): string {
  const cells = [header, ...rows.map((row) => row.map((cell) => (cell === null ? '—' : String(cell))))];
  const widths = header.map((_, column) => Math.max(...cells.map((row) => row[column].length)));
  const line = (row: string[]) => row.map((cell, column) => cell.padEnd(widths[column])).join('  ');
  return [line(cells[0]), widths.map((width) => '-'.repeat(width)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

const fixed = (value: number | null, digits = 3) => (value === null ? null : value.toFixed(digits));

/** "0.781 [0.752–0.809]": the AUC estimated from the probabilities and its 90% band from the month's size. */
function estimatedAuc(row: MonitoringRow): string | null {
  if (row.auc_estimated === null) return null;
  const band = row.auc_estimated_low === null || row.auc_estimated_high === null ? '' : ` [${row.auc_estimated_low.toFixed(3)}–${row.auc_estimated_high.toFixed(3)}]`;
  return `${row.auc_estimated.toFixed(3)}${band}`;
}

export function formatMonitoringTable(rows: MonitoringRow[]): string {
  return formatTable(
    ['month', 'window', 'scored', 'labelled', 'default rate', 'mean p', 'AUC', 'AUC est. [90%]', 'HL p', 'Gini', 'KS', 'PSI', 'max CSI', 'CSI feature', 'coverage', 'status'],
    rows.map((row) => [
      row.snapshot_date.slice(0, 7),
      row.window,
      row.n_scored,
      row.n_labelled,
      fixed(row.observed_default_rate),
      fixed(row.mean_probability),
      fixed(row.auc),
      estimatedAuc(row),
      row.calibration_p_value === null ? null : row.calibration_p_value < 0.001 ? '<0.001' : row.calibration_p_value.toFixed(3),
      fixed(row.gini),
      fixed(row.ks),
      fixed(row.psi),
      fixed(row.max_csi),
      row.max_csi_feature,
      row.coverage === null ? null : `${row.coverage_source} ${(row.coverage * 100).toFixed(0)}% (${((row.coverage_baseline ?? 0) * 100).toFixed(0)}%)`,
      row.status,
    ]),
  );
}
