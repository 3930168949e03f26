// The monitoring dashboard: seven Vega-Lite panels compiled to Vega, rendered headless to SVG, rasterised to PNG with
// resvg (DejaVu fonts), and an HTML page with the picture and the monthly metrics as a table.
import { compile, type TopLevelSpec } from 'vega-lite';
import * as vega from 'vega';
import { renderAsync } from '@resvg/resvg-js';
import { MONTH_WINDOWS, type ModelMetadata, type MonitoringRow, type MonthWindow, type OnlineSkewRow } from '../../lib/contracts.js';
import { addMonths, monthOf } from '../../lib/months.js';
import type { Month } from '../../lib/months.js';
import type { Confusion, CurvePoint } from './metrics.js';
import type { NumericBins } from '../statistics/drift.js';
import type { Thresholds } from './status.js';
import { skewLevel, type SkewLevel, type SkewThresholds } from './online-skew.js';
import type { CalibrationGroup } from '../statistics/calibration.js';
import { backtestOf, describeBacktest, type EstimationBacktest } from './estimated-findings.js';

export const FONT_DIR = '/usr/share/fonts/truetype/dejavu';
export const FONT = 'DejaVu Sans';
const PANEL = { width: 380, height: 250 };
const STATUS_COLORS = { stable: '#2e7d32', warning: '#f9a825', critical: '#c62828', immature: '#9e9e9e' };
/** Background shading of each month by where it stands relative to the model's windows: in-sample months stand out. */
export const WINDOW_COLORS: Record<MonthWindow, string> = {
  before: '#eeeeee',
  train: '#d6dcf5',
  test: '#d3ece9',
  oot: '#fde3c0',
  after: '#ffffff',
};
const WINDOW_LABELS: Record<MonthWindow, string> = {
  before: 'before training',
  train: 'train (in-sample)',
  test: 'test (selection)',
  oot: 'OOT (gate)',
  after: 'after (out-of-sample)',
};

/** The latest mature month's curves and confusion matrix, drawn in the first three panels. */
export interface MatureMonthView {
  month: string;
  auc: number | null;
  defaultRate: number;
  curve: CurvePoint[];
  confusion: Confusion;
}

export interface DashboardData {
  modelId: string;
  /** The model named for a person: id, as-of and training windows. */
  modelLabel?: string;
  /** Challengers scored in shadow beside production, each with its own monitoring rows (same months). */
  challengers?: Array<{ modelId: string; label: string; rows: MonitoringRow[] }>;
  asOf: Month;
  threshold: number;
  thresholds: Thresholds;
  rows: MonitoringRow[];
  mature: MatureMonthView | null;
  /** Score distribution on the baseline's decile bins: the model's training population vs the latest month. */
  scoreBins: { bin: number; label: string; baseline: number; latest: number }[];
  latestMonth: string | null;
  /** Months with online scores by the model: online vs batch (training-serving skew). */
  online: OnlineSkewRow[];
  skew: SkewThresholds;
  /** Performance before labels and calibration (issue 30); absent: those panels say there is nothing to draw. */
  estimation?: EstimationView;
  /**
   * The model's top drivers (largest shares of the training set's total mean |contribution|) and their shares in each
   * monitored month's explanations; null for a model without an attribution baseline.
   */
  drivers: { baseline: { feature: string; share: number }[]; months: { month: string; feature: string; share: number }[] } | null;
}

/** What the estimated-performance and reliability panels draw. */
export interface EstimationView {
  backtest: EstimationBacktest;
  /** The model's OOT AUC and the floor a significant estimated drop falls wholly below (OOT AUC − margin). */
  ootAuc: number;
  estimatedFloor: number;
  /** Reliability curve of the model's OOT months (metadata.json), when it recorded one. */
  ootReliability: CalibrationGroup[] | null;
  ootCalibrationP: number | null;
  /** The same curve on the latest mature month's labelled loans. */
  latestReliability: { month: string; groups: CalibrationGroup[]; pValue: number | null } | null;
  /** Freshness findings' messages: monitoring as of a month later than the newest data. */
  stale: string[];
}

/** The estimation panels' view of a model's monitoring rows: the backtest, its OOT AUC and the floor below it. */
export function estimationViewOf(
  rows: readonly MonitoringRow[],
  metadata: ModelMetadata,
  estimatedAucMargin: number,
  latest: Pick<EstimationView, 'latestReliability' | 'stale'>,
): EstimationView {
  return {
    backtest: backtestOf(rows),
    ootAuc: metadata.metrics.oot_auc,
    estimatedFloor: metadata.metrics.oot_auc - estimatedAucMargin,
    ootReliability: metadata.calibration?.reliability ?? null,
    ootCalibrationP: metadata.calibration?.hl_p_value ?? null,
    ...latest,
  };
}

/** Labels of right-closed bins on inner edges: "≤ a", "a–b", …, "> z". */
export function binLabels(bins: NumericBins): string[] {
  const edges = bins.edges.map((edge) => edge.toFixed(3));
  if (edges.length === 0) return ['all'];
  return [`≤ ${edges[0]}`, ...edges.slice(1).map((edge, i) => `${edges[i]}–${edge}`), `> ${edges.at(-1)}`];
}

function emptyPanel(title: string, message: string): Record<string, unknown> {
  return {
    title,
    width: PANEL.width,
    height: PANEL.height,
    data: { values: [{ message }] },
    mark: { type: 'text', fontSize: 13, color: '#666' },
    encoding: { text: { field: 'message' } },
  };
}

function rocPanel(mature: MatureMonthView | null): Record<string, unknown> {
  if (!mature) return emptyPanel('ROC curve', 'No mature month with labels yet');
  const auc = mature.auc === null ? 'n/a' : mature.auc.toFixed(3);
  return {
    title: { text: `ROC curve — ${mature.month.slice(0, 7)}`, subtitle: `AUC ${auc} · rates as shares of non-defaulters (x) and defaulters (y)` },
    width: PANEL.width,
    height: PANEL.height,
    layer: [
      {
        data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] },
        mark: { type: 'line', strokeDash: [5, 4], color: '#999' },
        encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
      },
      {
        data: { values: mature.curve.map((point, order) => ({ order, fpr: point.fpr, tpr: point.tpr })) },
        mark: { type: 'line', color: '#1565c0', strokeWidth: 2.5 },
        encoding: {
          x: { field: 'fpr', type: 'quantitative', title: 'False positive rate', scale: { domain: [0, 1] } },
          y: { field: 'tpr', type: 'quantitative', title: 'True positive rate', scale: { domain: [0, 1] } },
          order: { field: 'order' },
        },
      },
    ],
  };
}

function prPanel(mature: MatureMonthView | null): Record<string, unknown> {
  if (!mature) return emptyPanel('Precision–recall curve', 'No mature month with labels yet');
  return {
    title: {
      text: `Precision–recall — ${mature.month.slice(0, 7)}`,
      subtitle: `dashed: default rate ${(mature.defaultRate * 100).toFixed(1)}%, the no-skill precision`,
    },
    width: PANEL.width,
    height: PANEL.height,
    layer: [
      {
        data: { values: [{ rate: mature.defaultRate }] },
        mark: { type: 'rule', strokeDash: [5, 4], color: '#999' },
        encoding: { y: { field: 'rate', type: 'quantitative' } },
      },
      {
        data: { values: mature.curve.slice(1).map((point, order) => ({ order, recall: point.recall, precision: point.precision })) },
        mark: { type: 'line', color: '#6a1b9a', strokeWidth: 2.5 },
        encoding: {
          x: { field: 'recall', type: 'quantitative', title: 'Recall', scale: { domain: [0, 1] } },
          y: { field: 'precision', type: 'quantitative', title: 'Precision', scale: { domain: [0, 1] } },
          order: { field: 'order' },
        },
      },
    ],
  };
}

function confusionPanel(mature: MatureMonthView | null, threshold: number): Record<string, unknown> {
  if (!mature) return emptyPanel('Confusion matrix', 'No mature month with labels yet');
  const { truePositives, falsePositives, trueNegatives, falseNegatives } = mature.confusion;
  const cells = [
    { actual: 'Default (1)', predicted: 'Default (1)', count: truePositives },
    { actual: 'Default (1)', predicted: 'No default (0)', count: falseNegatives },
    { actual: 'No default (0)', predicted: 'Default (1)', count: falsePositives },
    { actual: 'No default (0)', predicted: 'No default (0)', count: trueNegatives },
  ];
  const order = ['No default (0)', 'Default (1)'];
  return {
    title: { text: `Confusion matrix — ${mature.month.slice(0, 7)}`, subtitle: `loans, at threshold ${threshold.toFixed(3)}` },
    width: PANEL.width,
    height: PANEL.height,
    data: { values: cells },
    encoding: {
      x: { field: 'predicted', type: 'nominal', sort: order, title: 'Predicted', axis: { labelAngle: 0, grid: false } },
      y: { field: 'actual', type: 'nominal', sort: order, title: 'Actual (MOB 6)', axis: { grid: false } },
    },
    layer: [
      {
        mark: { type: 'rect', stroke: 'white', strokeWidth: 2 },
        encoding: {
          color: { field: 'count', type: 'quantitative', scale: { scheme: 'blues' }, legend: null },
        },
      },
      {
        mark: { type: 'text', fontSize: 20, fontWeight: 'bold' },
        encoding: {
          text: { field: 'count', type: 'quantitative', format: ',d' },
          color: { condition: { test: `datum.count > ${Math.max(...cells.map((c) => c.count)) / 2}`, value: 'white' }, value: '#222' },
        },
      },
    ],
  };
}

function scorePanel(data: DashboardData): Record<string, unknown> {
  if (!data.latestMonth || data.scoreBins.length === 0) return emptyPanel('Score distribution', 'No scored month');
  const series = ['Baseline (training)', `${data.latestMonth.slice(0, 7)} (latest month)`];
  const values = data.scoreBins.flatMap((bin) => [
    { bin: bin.bin, label: bin.label, series: series[0], share: bin.baseline * 100 },
    { bin: bin.bin, label: bin.label, series: series[1], share: bin.latest * 100 },
  ]);
  return {
    title: { text: 'Score distribution: baseline vs latest month', subtitle: 'on the baseline score deciles' },
    width: PANEL.width,
    height: PANEL.height,
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      x: {
        field: 'label',
        type: 'ordinal',
        sort: { field: 'bin' },
        title: 'Default probability bin',
        axis: { labelAngle: -40, labelFontSize: 9 },
      },
      xOffset: { field: 'series', sort: series },
      y: { field: 'share', type: 'quantitative', title: 'Share of loans (%)' },
      color: {
        field: 'series',
        type: 'nominal',
        scale: { domain: series, range: ['#90a4ae', '#1565c0'] },
        legend: { orient: 'top', title: null, labelLimit: 300 },
      },
    },
  };
}

const statusColor = {
  field: 'status',
  type: 'nominal',
  title: 'Status',
  scale: { domain: Object.keys(STATUS_COLORS), range: Object.values(STATUS_COLORS) },
  legend: { orient: 'top', title: null },
};

function psiLevel(psi: number, thresholds: Thresholds): 'stable' | 'warning' | 'critical' {
  return psi >= thresholds.psiCritical ? 'critical' : psi >= thresholds.psiWarning ? 'warning' : 'stable';
}

function monthly(rows: readonly MonitoringRow[], thresholds: Thresholds) {
  return rows.map((row) => ({
    month: row.snapshot_date,
    monthEnd: `${addMonths(monthOf(row.snapshot_date), 1)}-01`,
    auc: row.auc,
    psi: row.psi,
    psiLevel: psiLevel(row.psi, thresholds),
    status: row.status,
    window: WINDOW_LABELS[row.window],
  }));
}

const windowsPresent = (rows: readonly MonitoringRow[]) => MONTH_WINDOWS.filter((window) => rows.some((row) => row.window === window));

/** The months' background bands, coloured by window (a legend says which is which). */
function windowBands(
  data: DashboardData,
  x: Record<string, unknown>,
  x2: Record<string, unknown> | null,
  [bottom, top]: [number, number],
): Record<string, unknown> {
  const present = windowsPresent(data.rows);
  return {
    data: { values: monthly(data.rows, data.thresholds) },
    mark: { type: 'rect', opacity: 1 },
    encoding: {
      x,
      ...(x2 ? { x2 } : {}),
      y: { datum: bottom, type: 'quantitative', scale: { domain: [bottom, top], zero: false } },
      y2: { datum: top },
      color: {
        field: 'window',
        type: 'nominal',
        title: 'Window',
        scale: { domain: present.map((w) => WINDOW_LABELS[w]), range: present.map((w) => WINDOW_COLORS[w]) },
        legend: { orient: 'bottom', title: null, symbolStrokeColor: '#999', symbolStrokeWidth: 0.5, columns: 2, labelLimit: 170 },
      },
    },
  };
}

export function aucPanel(data: DashboardData): Record<string, unknown> {
  const values = monthly(data.rows, data.thresholds).filter((row) => row.auc !== null);
  if (values.length === 0) return emptyPanel('Monthly AUC', 'No mature month with labels yet');
  const low = Math.floor(Math.min(0.5, ...values.map((row) => row.auc as number)) * 10) / 10;
  const x = { field: 'month', type: 'temporal', timeUnit: 'yearmonth', title: 'Application month', axis: { format: '%Y-%m', labelAngle: -40 } };
  return {
    title: {
      text: 'Monthly AUC (mature months)',
      subtitle: `shaded: in-sample · governance reads white months · red: < ${data.thresholds.aucCritical}${(data.challengers ?? []).length > 0 ? ' · dashed grey: challengers' : ''}`,
    },
    width: PANEL.width,
    height: PANEL.height,
    resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } },
    layer: [
      windowBands(data, { field: 'month', type: 'temporal', title: 'Application month', axis: { format: '%Y-%m', labelAngle: -40 } }, { field: 'monthEnd', type: 'temporal' }, [low, 1]),
      {
        data: { values },
        mark: { type: 'line', color: '#1565c0', point: false },
        encoding: { x, y: { field: 'auc', type: 'quantitative', title: 'AUC', scale: { domain: [low, 1] } } },
      },
      ...(data.challengers ?? []).map((challenger) => ({
        data: { values: challenger.rows.filter((row) => row.auc !== null).map((row) => ({ month: row.snapshot_date, auc: row.auc })) },
        mark: { type: 'line', color: '#757575', strokeDash: [4, 3], point: { filled: false, size: 25, color: '#757575' } },
        encoding: { x, y: { field: 'auc', type: 'quantitative', scale: { domain: [low, 1] } } },
      })),
      {
        data: { values },
        mark: { type: 'point', filled: true, size: 50 },
        encoding: { x, y: { field: 'auc', type: 'quantitative' }, color: statusColor },
      },
      {
        data: { values: [{ y: data.thresholds.aucCritical }] },
        mark: { type: 'rule', color: STATUS_COLORS.critical, strokeDash: [6, 4], strokeWidth: 1.5 },
        encoding: { y: { field: 'y', type: 'quantitative' } },
      },
    ],
  };
}

export function psiPanel(data: DashboardData): Record<string, unknown> {
  const values = monthly(data.rows, data.thresholds);
  if (values.length === 0) return emptyPanel('Monthly PSI', 'No scored month');
  const top = Math.max(data.thresholds.psiCritical * 1.25, ...values.map((row) => row.psi));
  const x = { field: 'month', type: 'ordinal', timeUnit: 'yearmonth', title: 'Application month', axis: { format: '%Y-%m', labelAngle: -40 } };
  const levels = ['stable', 'warning', 'critical'] as const;
  return {
    title: {
      text: 'Monthly score PSI (all scored loans)',
      subtitle: `coloured by PSI · rules: warning ${data.thresholds.psiWarning}, critical ${data.thresholds.psiCritical}`,
    },
    width: PANEL.width,
    height: PANEL.height,
    resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } },
    layer: [
      windowBands(data, x, null, [0, top]),
      {
        data: { values },
        mark: { type: 'bar', width: { band: 0.7 } },
        encoding: {
          x,
          y: { field: 'psi', type: 'quantitative', title: 'PSI (score vs baseline)', scale: { domain: [0, top] } },
          color: {
            field: 'psiLevel',
            type: 'nominal',
            title: 'PSI',
            scale: { domain: [...levels], range: levels.map((level) => STATUS_COLORS[level]) },
            legend: { orient: 'top', title: null },
          },
        },
      },
      ...(['psiWarning', 'psiCritical'] as const).map((level) => ({
        data: { values: [{ y: data.thresholds[level] }] },
        mark: {
          type: 'rule',
          strokeDash: [6, 4],
          strokeWidth: 1.5,
          color: level === 'psiWarning' ? STATUS_COLORS.warning : STATUS_COLORS.critical,
        },
        encoding: { y: { field: 'y', type: 'quantitative' } },
      })),
    ],
  };
}

const SKEW_COLORS: Record<SkewLevel, string> = { skew: STATUS_COLORS.critical, 'no skew': STATUS_COLORS.stable, 'too few to judge': STATUS_COLORS.immature };

function onlinePanel(data: DashboardData): Record<string, unknown> {
  const title = 'Online vs batch score PSI';
  if (data.online.length === 0) return emptyPanel(title, 'No online scores of this model');
  const values = data.online.map((row) => ({
    month: row.snapshot_date,
    psi: row.online_psi ?? 0,
    level: skewLevel(row, data.skew) ?? 'too few to judge',
    label: row.online_psi === null ? `${row.n_online} online, no batch yet` : `${row.n_online} online`,
  }));
  const top = Math.max(data.skew.onlinePsiWarning * 2, ...values.map((row) => row.psi)) * 1.15;
  const x = { field: 'month', type: 'ordinal', timeUnit: 'yearmonth', title: 'Application month', axis: { format: '%Y-%m', labelAngle: -40 } };
  return {
    title: {
      text: title,
      subtitle: `same model and month · rule: skew warning ${data.skew.onlinePsiWarning} · judged from ${data.skew.onlineMinRows} online scores`,
    },
    width: PANEL.width,
    height: PANEL.height,
    data: { values },
    layer: [
      {
        mark: { type: 'bar', width: { band: 0.7 } },
        encoding: {
          x,
          y: { field: 'psi', type: 'quantitative', title: 'PSI (online vs batch)', scale: { domain: [0, top] } },
          color: {
            field: 'level',
            type: 'nominal',
            scale: { domain: Object.keys(SKEW_COLORS), range: Object.values(SKEW_COLORS) },
            legend: { orient: 'top', title: null },
          },
        },
      },
      {
        mark: { type: 'text', dy: -8, fontSize: 9, color: '#444' },
        encoding: { x, y: { field: 'psi', type: 'quantitative' }, text: { field: 'label' } },
      },
      {
        data: { values: [{ y: data.skew.onlinePsiWarning }] },
        mark: { type: 'rule', strokeDash: [6, 4], strokeWidth: 1.5, color: STATUS_COLORS.warning },
        encoding: { y: { field: 'y', type: 'quantitative' } },
      },
    ],
  };
}

function backtestLines(estimation: EstimationView): string[] {
  const { backtest } = estimation;
  const floor = `red dashed: OOT AUC ${estimation.ootAuc.toFixed(3)} − margin`;
  if (backtest.months === 0) return ['backtest: no mature month yet', floor];
  const band = backtest.share_inside_band === null ? 'no band' : `${backtest.inside_band}/${backtest.banded_months} inside the band`;
  return [`backtest, ${backtest.months} mature month(s): mean |realized − est.| ${backtest.mean_absolute_error!.toFixed(3)}`, `${band} · ${floor}`];
}

export function estimatedAucPanel(data: DashboardData): Record<string, unknown> {
  const title = 'Realized vs estimated AUC';
  const estimation = data.estimation;
  const values = data.rows
    .filter((row) => row.auc_estimated !== null)
    .map((row) => ({
      month: row.snapshot_date,
      estimated: row.auc_estimated,
      low: row.auc_estimated_low ?? row.auc_estimated,
      high: row.auc_estimated_high ?? row.auc_estimated,
      realized: row.auc,
    }));
  if (!estimation || values.length === 0) return emptyPanel(title, 'No month with an estimate');
  const realized = values.filter((row) => row.realized !== null);
  const all = [...values.flatMap((row) => [row.low!, row.high!]), ...realized.map((row) => row.realized!), estimation.estimatedFloor];
  const low = Math.floor(Math.min(0.5, ...all) * 10) / 10;
  const top = Math.min(1, Math.ceil(Math.max(...all) * 10) / 10 + 0.05);
  const x = { field: 'month', type: 'temporal', timeUnit: 'yearmonth', title: 'Application month', axis: { format: '%Y-%m', labelAngle: -40 } };
  const series = ['estimated (90% band)', 'realized (mature)'];
  const seriesColor = { scale: { domain: series, range: ['#ef6c00', '#1565c0'] }, legend: { orient: 'top', title: null } };
  return {
    title: {
      text: `${title} (90% band)`,
      // short lines: one long line would widen the whole column of the grid
      subtitle: backtestLines(estimation),
    },
    width: PANEL.width,
    height: PANEL.height,
    resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } },
    layer: [
      windowBands(data, { field: 'month', type: 'temporal', title: 'Application month', axis: { format: '%Y-%m', labelAngle: -40 } }, { field: 'monthEnd', type: 'temporal' }, [low, top]),
      {
        data: { values },
        mark: { type: 'area', opacity: 0.3, color: '#ef6c00' },
        encoding: { x, y: { field: 'low', type: 'quantitative', title: 'AUC', scale: { domain: [low, top] } }, y2: { field: 'high' } },
      },
      {
        data: { values: values.map((row) => ({ ...row, series: series[0] })) },
        mark: { type: 'line', strokeDash: [4, 3], strokeWidth: 2, point: { size: 20 } },
        encoding: { x, y: { field: 'estimated', type: 'quantitative' }, color: { field: 'series', type: 'nominal', ...seriesColor } },
      },
      {
        data: { values: realized.map((row) => ({ ...row, series: series[1] })) },
        mark: { type: 'line', strokeWidth: 2.5, point: { filled: true, size: 40 } },
        encoding: { x, y: { field: 'realized', type: 'quantitative' }, color: { field: 'series', type: 'nominal', ...seriesColor, legend: null } },
      },
      {
        data: { values: [{ y: estimation.estimatedFloor }] },
        mark: { type: 'rule', color: STATUS_COLORS.critical, strokeDash: [6, 4], strokeWidth: 1.5 },
        encoding: { y: { field: 'y', type: 'quantitative' } },
      },
    ],
  };
}

function reliabilityPanel(data: DashboardData): Record<string, unknown> {
  const title = 'Reliability: probability vs default rate';
  const estimation = data.estimation;
  const curves: { series: string; order: number; predicted: number; observed: number; loans: number }[] = [];
  const p = (value: number | null) => (value === null ? 'n/a' : value < 0.001 ? '< 0.001' : value.toFixed(3));
  const names: string[] = [];
  if (estimation?.ootReliability) {
    names.push(`OOT at training (HL p ${p(estimation.ootCalibrationP)})`);
    estimation.ootReliability.forEach((g, order) => curves.push({ series: names.at(-1)!, order, predicted: g.mean_probability, observed: g.observed_rate, loans: g.loans }));
  }
  if (estimation?.latestReliability) {
    names.push(`${estimation.latestReliability.month.slice(0, 7)}, latest mature (HL p ${p(estimation.latestReliability.pValue)})`);
    estimation.latestReliability.groups.forEach((g, order) => curves.push({ series: names.at(-1)!, order, predicted: g.mean_probability, observed: g.observed_rate, loans: g.loans }));
  }
  if (curves.length === 0) return emptyPanel(title, 'No reliability curve: no OOT calibration recorded, no mature month');
  const top = Math.min(1, Math.ceil(Math.max(...curves.flatMap((c) => [c.predicted, c.observed])) * 10) / 10 + 0.05);
  return {
    title: { text: title, subtitle: 'probability deciles · on the diagonal a p% probability means p% default' },
    width: PANEL.width,
    height: PANEL.height,
    layer: [
      {
        data: { values: [{ x: 0, y: 0 }, { x: top, y: top }] },
        mark: { type: 'line', strokeDash: [5, 4], color: '#999' },
        encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
      },
      {
        data: { values: curves },
        mark: { type: 'line', strokeWidth: 2, point: { filled: true, size: 40 } },
        encoding: {
          x: { field: 'predicted', type: 'quantitative', title: 'Mean probability of the decile', scale: { domain: [0, top] } },
          y: { field: 'observed', type: 'quantitative', title: 'Observed default rate', scale: { domain: [0, top] } },
          order: { field: 'order' },
          color: { field: 'series', type: 'nominal', scale: { domain: names, range: ['#6a1b9a', '#2e7d32'] }, legend: { orient: 'top', title: null, labelLimit: 300, direction: 'vertical' } },
        },
      },
    ],
  };
}

export const PANEL_TITLES = [
  'ROC', 'Precision–recall', 'Confusion matrix', 'Score distribution', 'Monthly AUC', 'Monthly score PSI', 'Online vs batch score PSI',
  'Realized vs estimated AUC', 'Reliability',
];

/** The whole dashboard as one Vega-Lite spec: nine panels, three per row. */
export function dashboardSpec(data: DashboardData): TopLevelSpec {
  const latest = data.rows.at(-1);
  const stale = data.estimation?.stale.length ? `STALE DATA: ${data.estimation.stale.join('; ')} · ` : '';
  const subtitle = stale + (latest
    ? `latest month ${latest.snapshot_date.slice(0, 7)}: status ${latest.status}, PSI ${latest.psi.toFixed(3)} · ${data.rows.length} month(s) monitored · threshold ${data.threshold.toFixed(3)}`
    : 'no scored month yet');
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `Credit default model ${data.modelId} — monitoring as of ${data.asOf}`, subtitle, fontSize: 20, subtitleFontSize: 13, anchor: 'start' },
    background: 'white',
    padding: 20,
    columns: 3,
    spacing: { row: 40, column: 50 },
    resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } },
    config: {
      font: FONT,
      title: { fontSize: 14, subtitleFontSize: 11, subtitleColor: '#555', anchor: 'start', offset: 8 },
      axis: { titleFontSize: 11, labelFontSize: 10, grid: true, gridColor: '#eee' },
      legend: { labelFontSize: 10, titleFontSize: 10 },
      view: { stroke: '#ddd' },
    },
    concat: [
      rocPanel(data.mature), prPanel(data.mature), confusionPanel(data.mature, data.threshold), scorePanel(data), aucPanel(data), psiPanel(data),
      onlinePanel(data), estimatedAucPanel(data), reliabilityPanel(data),
    ],
  } as unknown as TopLevelSpec;
}

/** SVG of a Vega-Lite spec, rendered without a browser. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * PNG of an SVG. resvg parses it, lays out the text and rasterises on libuv's pool (renderAsync), off the event loop:
 * heartbeats and the governance decision taken beside the dashboard go on meanwhile (about half of the dashboard's
 * CPU ran there, blocking both).
 */
export async function svgToPng(svg: string): Promise<Buffer> {
  const image = await renderAsync(svg, {
    background: 'white',
    font: { loadSystemFonts: false, fontDirs: [FONT_DIR], defaultFontFamily: FONT, sansSerifFamily: FONT },
    fitTo: { mode: 'zoom', value: 1.5 },
  });
  return image.asPng();
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const TABLE_COLUMNS: (keyof MonitoringRow)[] = [
  'snapshot_date', 'window', 'status', 'n_scored', 'n_labelled', 'observed_default_rate', 'mean_probability', 'auc', 'gini', 'ks',
  'accuracy', 'precision', 'recall', 'f1', 'brier', 'psi', 'psi_covered', 'n_covered', 'coverage_source', 'coverage',
  'coverage_baseline', 'max_csi', 'max_csi_feature', 'max_null_jump', 'max_null_jump_feature',
  'auc_estimated', 'auc_estimated_low', 'auc_estimated_high', 'expected_default_rate', 'calibration_p_value',
  'attribution_shift', 'max_attribution_shift', 'max_attribution_shift_feature',
];

const ONLINE_COLUMNS: (keyof OnlineSkewRow)[] = ['snapshot_date', 'n_online', 'n_batch', 'online_psi'];

/** The model's top drivers' shares of |contribution|, at training and in each month with explanations. */
function driversTable(data: DashboardData): string {
  if (!data.drivers) return '<p id="drivers">No attribution baseline: the model was registered before explanations existed.</p>';
  if (data.drivers.months.length === 0) return '<p id="drivers">No explanations of this model yet (gold/explanations).</p>';
  const features = data.drivers.baseline.map((driver) => driver.feature);
  const percent = (share: number | undefined) => (share === undefined ? '<td class="null">—</td>' : `<td class="num">${(share * 100).toFixed(1)}%</td>`);
  const months = [...new Set(data.drivers.months.map((entry) => entry.month))];
  const share = new Map(data.drivers.months.map((entry) => [`${entry.month}|${entry.feature}`, entry.share]));
  const rows = [
    `<tr class="stable"><td>training</td>${data.drivers.baseline.map((driver) => percent(driver.share)).join('')}</tr>`,
    ...months.map((month) => `<tr><td>${escapeHtml(month)}</td>${features.map((feature) => percent(share.get(`${month}|${feature}`))).join('')}</tr>`),
  ];
  return `<table id="drivers">
<thead><tr><th>month</th>${features.map((feature) => `<th>${escapeHtml(feature)}</th>`).join('')}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`;
}

function onlineTable(data: DashboardData): string {
  if (data.online.length === 0) return '<p id="online">No online scores of this model.</p>';
  const rows = data.online.map((row) => {
    const level = skewLevel(row, data.skew);
    const judged = level === null ? 'no batch scores yet' : level;
    return `<tr class="${level === 'skew' ? 'warning' : level === 'no skew' ? 'stable' : 'immature'}">${ONLINE_COLUMNS.map((column) => cell(row[column])).join('')}${cell(judged)}</tr>`;
  });
  return `<table id="online">
<thead><tr>${ONLINE_COLUMNS.map((column) => `<th>${column}</th>`).join('')}<th>judged</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`;
}

/** Champion vs challengers, month by month: each model's AUC where labels are mature, and where the month stands for it. */
function challengerTable(data: DashboardData): string {
  const challengers = data.challengers ?? [];
  if (challengers.length === 0) return '<p id="challengers">No challenger scored in shadow.</p>';
  const byMonth = (rows: readonly MonitoringRow[]) => new Map(rows.map((row) => [row.snapshot_date, row]));
  const tables = challengers.map((challenger) => byMonth(challenger.rows));
  const show = (row: MonitoringRow | undefined) =>
    row ? `${row.auc === null ? '<td class="null">—</td>' : cell(row.auc)}${cell(row.window)}` : '<td class="null">not scored</td><td class="null">—</td>';
  const rows = data.rows.map((row) => `<tr>${cell(row.snapshot_date)}${show(row)}${tables.map((table) => show(table.get(row.snapshot_date))).join('')}</tr>`);
  const heads = [`production ${escapeHtml(data.modelId)}`, ...challengers.map((challenger) => `challenger ${escapeHtml(challenger.modelId)}`)];
  return `<ul>${challengers.map((challenger) => `<li>${escapeHtml(challenger.label)}</li>`).join('')}</ul>
<table id="challengers">
<thead><tr><th rowspan="2">month</th>${heads.map((head) => `<th colspan="2">${head}</th>`).join('')}</tr>
<tr>${heads.map(() => '<th>auc</th><th>window</th>').join('')}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
<p>A month compares two models fairly only where it is out of sample for both (<code>oot</code> or <code>after</code> for each); governance judges a
challenger on those months, paired, by DeLong's test.</p>`;
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '<td class="null">—</td>';
  if (typeof value === 'number') return `<td class="num">${Number.isInteger(value) ? value : value.toFixed(4)}</td>`;
  return `<td>${escapeHtml(String(value))}</td>`;
}

/** The freshness warning (first, it changes how everything else reads), the backtest and what the estimate means. */
function estimationParagraphs(data: DashboardData): string {
  const estimation = data.estimation;
  if (!estimation) return '';
  const stale = estimation.stale.map((message) => `<p id="freshness" class="critical"><strong>Stale data:</strong> ${escapeHtml(message)}</p>`).join('\n');
  return `${stale}
<p id="backtest">Performance before labels: <code>auc_estimated</code> is the AUC the model expects from its own probabilities
(confidence-based performance estimation), with a 90% band (<code>auc_estimated_low</code>–<code>auc_estimated_high</code>) from the
month's size. It assumes the probabilities are calibrated and cannot see a change in who defaults that leaves the scores unchanged.
A whole band below the OOT AUC ${estimation.ootAuc.toFixed(4)} minus the margin (${estimation.estimatedFloor.toFixed(4)}) on an out-of-sample
month is a <code>performance_estimated</code> finding. ${escapeHtml(describeBacktest(estimation.backtest))}.
<code>calibration_p_value</code>: Hosmer–Lemeshow over the month's probability deciles (mature months); below the alpha on the latest mature
out-of-sample month it is a <code>calibration</code> finding: recalibrate.</p>`;
}

/** A self-contained page: the dashboard picture (embedded) and the monthly metrics table. */
export function dashboardHtml(data: DashboardData, png: Buffer): string {
  const rows = data.rows
    .map((row) => `<tr class="${row.status} window-${row.window}">${TABLE_COLUMNS.map((column) => cell(row[column])).join('')}</tr>`)
    .join('\n');
  const title = `Monitoring — model ${escapeHtml(data.modelId)} as of ${escapeHtml(data.asOf)}`;
  const named = data.modelLabel ? `<p>Production model: ${escapeHtml(data.modelLabel)}.</p>\n` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<style>
body { font-family: 'DejaVu Sans', sans-serif; margin: 24px; color: #222; }
img { max-width: 100%; border: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 13px; margin-top: 16px; }
th, td { border: 1px solid #ddd; padding: 4px 8px; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.null { color: #999; text-align: center; }
p.critical { background: #ffebee; border-left: 4px solid #c62828; padding: 8px 12px; }
tr.warning td { background: #fff8e1; } tr.critical td { background: #ffebee; } tr.immature td { color: #777; }
${MONTH_WINDOWS.filter((w) => w !== 'after').map((w) => `tr.window-${w} td:first-child { background: ${WINDOW_COLORS[w]}; }`).join(' ')}
</style></head>
<body>
<h1>${title}</h1>
${named}<p>Decision threshold ${data.threshold.toFixed(4)}. PSI warning ≥ ${data.thresholds.psiWarning}, critical ≥ ${data.thresholds.psiCritical};
AUC critical &lt; ${data.thresholds.aucCritical} on mature months. Months whose labels (application + 6 months) are after the as-of date are immature.
<code>window</code> says where a month stands relative to the model's training: <code>train</code>, <code>test</code> and <code>oot</code> months are in-sample
(their AUC is optimistic); governance judges <code>after</code> months only. <code>psi_covered</code> is the PSI on the loans every source still covers:
a source that stops covering new applications (<code>coverage</code> against <code>coverage_baseline</code>) is a data finding, not drift.
<code>attribution_shift</code> is attribution drift: how far the features' shares of the month's total |contribution| (its explanations) moved from
their shares on the training set (½ Σ |Δ share|, 0 to 1), with the feature that moved most and its signed shift.</p>
<p>Online vs batch: <code>online_psi</code> compares the scoring API's scores of a month (<code>gold/predictions_online</code>) with the batch
scores of the same model and month on the baseline score deciles. The latest month with at least ${data.skew.onlineMinRows} online scores is judged:
at or above ${data.skew.onlinePsiWarning} it is a skew warning, alerted and never a retrain (the serving path, not the model, is at fault).</p>
${estimationParagraphs(data)}
<img alt="monitoring dashboard" src="data:image/png;base64,${png.toString('base64')}">
<h2>Monthly metrics</h2>
<table id="metrics">
<thead><tr>${TABLE_COLUMNS.map((column) => `<th>${column}</th>`).join('')}</tr></thead>
<tbody>
${rows}
</tbody>
</table>
<h2>Champion vs challengers</h2>
${challengerTable(data)}
<h2>Top drivers</h2>
<p>The model's five largest drivers, each as a share of the total mean |contribution| (TreeSHAP, or w·x for a linear model) of the
training set and of each month's explanations: how what drives the scores moves month by month.</p>
${driversTable(data)}
<h2>Online vs batch scores</h2>
${onlineTable(data)}
</body></html>
`;
}
