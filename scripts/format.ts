// Plain-text tables for the terminal.
import type { MonitoringRow } from '../lib/contracts.js';

/** Cuts text to `width` characters, marking the cut, so one long cell cannot widen a whole table. */
export function truncate(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

/**
 * Wraps text into lines of at most `width` characters at spaces, never cutting a word (a word longer than the width
 * gets a line of its own): for cells whose every word matters, such as a decision's reason.
 */
export function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (current && current.length + 1 + word.length > width) {
      lines.push(current);
      current = word;
    } else {
      current = current ? `${current} ${word}` : word;
    }
  }
  if (current || lines.length === 0) lines.push(current);
  return lines.join('\n');
}

/** Columns padded to their widest cell; a cell with line breaks (see `wrap`) spans as many lines. */
export function formatTable(header: string[], rows: (string | number | null)[][]): string {
  const cells = [header, ...rows.map((row) => row.map((cell) => (cell === null ? '—' : String(cell))))];
  const widths = header.map((_, column) => Math.max(...cells.map((row) => Math.max(...row[column].split('\n').map((part) => part.length)))));
  const line = (row: string[]) => {
    const parts = row.map((cell) => cell.split('\n'));
    const height = Math.max(...parts.map((cellLines) => cellLines.length));
    return Array.from({ length: height }, (_, index) =>
      parts
        .map((cellLines, column) => (cellLines[index] ?? '').padEnd(widths[column]))
        .join('  ')
        .trimEnd(),
    ).join('\n');
  };
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
