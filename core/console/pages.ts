// The console's pages, server-rendered from what core/console/data.ts reads: models, a comparison of two, monitoring
// over time, a month's lineage, an application, and the operator's actions. Charts are the dashboard's own Vega-Lite
// panels (core/monitoring/dashboard.ts) drawn in the browser by vega-embed, each with its numbers as a table beside it.
import { monitoringRowSchema, type GovernanceDecision, type ModelMetadata, type MonitoringRow } from '../../lib/contracts.js';
import type { Month } from '../../lib/months.js';
import type { Row } from '../duckdb.js';
import { aucPanel, estimatedAucPanel, estimationViewOf, psiPanel, FONT, WINDOW_COLORS, type DashboardData } from '../monitoring/dashboard.js';
import type { Thresholds } from '../monitoring/status.js';
import type { ApplicationView, LineageLayer, MonthLineage, MonthPredictions, ModelView } from './data.js';
import { formatNumber, html, notAvailable, raw, scriptJson, table, type Column, type Html } from './html.js';

export interface WorkflowRun {
  workflowId: string;
  runId: string;
  type: string;
  status: string;
  startTime: string;
  closeTime: string | null;
}

export interface PageContext {
  /** The Temporal Web UI base URL and namespace, for links to workflow runs. */
  uiUrl: string;
  namespace: string;
  production: string | null;
}

const CSS = `
body { font-family: '${FONT}', system-ui, sans-serif; margin: 0; color: #1d1d1f; font-size: 14px; }
header { background: #1f3a5f; color: white; padding: 10px 24px; display: flex; gap: 24px; align-items: baseline; flex-wrap: wrap; }
header a { color: white; text-decoration: none; font-weight: 600; }
header a[aria-current="page"] { text-decoration: underline; }
header .production { margin-left: auto; font-size: 13px; }
header code { background: rgba(255,255,255,.15); padding: 1px 5px; border-radius: 3px; }
main { padding: 16px 24px 40px; max-width: 1500px; }
h1 { font-size: 22px; margin: 8px 0 12px; } h2 { font-size: 17px; margin-top: 28px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
caption { text-align: left; font-weight: 600; padding: 4px 0; color: #444; }
th, td { border: 1px solid #ddd; padding: 3px 8px; vertical-align: top; }
th { background: #f3f4f6; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.production td { background: #e8f5e9; } tr.retired td { color: #777; }
tr.critical td { background: #ffebee; } tr.warning td { background: #fff8e1; } tr.immature td { color: #666; }
tr.stale td { background: #fff3e0; }
.badge { display: inline-block; padding: 0 6px; border-radius: 8px; font-size: 12px; background: #eceff1; }
.badge.production { background: #2e7d32; color: white; } .badge.challenger { background: #1565c0; color: white; }
.badge.stale { background: #ef6c00; color: white; } .badge.current { background: #c8e6c9; }
.missing { background: #fff8e1; border-left: 4px solid #f9a825; padding: 6px 10px; }
.error { background: #ffebee; border-left: 4px solid #c62828; padding: 6px 10px; }
.ok { background: #e8f5e9; border-left: 4px solid #2e7d32; padding: 6px 10px; }
form.inline { display: flex; gap: 12px; align-items: end; flex-wrap: wrap; margin: 8px 0 16px; }
form.action { border: 1px solid #ddd; padding: 12px 16px; margin: 12px 0; max-width: 720px; }
form.action div { margin: 6px 0; } form label { display: block; font-weight: 600; font-size: 13px; }
textarea { width: 100%; min-height: 3em; } input[type=text], input[type=password], select { min-width: 16em; }
figure { margin: 8px 0 24px; } .chart { min-height: 60px; }
.charts { display: flex; flex-wrap: wrap; gap: 8px 40px; align-items: start; }
figure table { font-size: 12px; }
.graph { display: grid; grid-template-columns: repeat(5, minmax(180px, 1fr)); gap: 12px; align-items: start; }
.graph section { background: #fafafa; border: 1px solid #e0e0e0; padding: 8px; }
.graph h3 { margin: 0 0 6px; font-size: 14px; }
.node { background: white; border: 1px solid #cfd8dc; border-radius: 4px; padding: 5px 7px; margin-bottom: 6px; font-size: 12px; word-break: break-all; }
.node.stale { border-color: #ef6c00; border-width: 2px; }
.hash { font-family: monospace; font-size: 12px; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; } dl.kv dt { font-weight: 600; }
.muted { color: #666; }
`;

const NAV: Array<[string, string]> = [
  ['/models', 'Models'],
  ['/monitoring', 'Monitoring'],
  ['/lineage', 'Lineage'],
  ['/application', 'Application'],
  ['/actions', 'Actions'],
];

export function layout(context: PageContext, current: string, title: string, body: Html, charts: ChartSpec[] = []): string {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} — credit-pipeline console</title>
<link rel="icon" href="data:,">
<style>${raw(CSS)}</style></head>
<body>
<header><nav aria-label="Console pages">${NAV.map(([href, label]) => html`<a href="${href}"${href === current ? raw(' aria-current="page"') : ''}>${label}</a> `)}</nav>
<span class="production">Production model: <code id="production-model">${context.production ?? 'none'}</code></span></header>
<main>
<h1>${title}</h1>
${body}
</main>
${charts.length ? html`<script type="application/json" id="chart-specs">${scriptJson(Object.fromEntries(charts.map((chart) => [chart.id, chart.spec])))}</script>
<script src="/assets/vega.min.js"></script><script src="/assets/vega-lite.min.js"></script><script src="/assets/vega-embed.min.js"></script>
<script src="/assets/console.js"></script>` : ''}
</body></html>
`.text;
}

/** Embeds every chart of the page; a click on a month of a chart with data-month-link opens that month. */
export const CONSOLE_SCRIPT = `
(function () {
  var specs = JSON.parse(document.getElementById('chart-specs').textContent);
  document.querySelectorAll('.chart[data-chart]').forEach(function (element) {
    var spec = specs[element.getAttribute('data-chart')];
    vegaEmbed(element, spec, { actions: false, renderer: 'svg' }).then(function (result) {
      var link = element.getAttribute('data-month-link');
      if (!link) return;
      result.view.addEventListener('click', function (event, item) {
        var month = item && item.datum && (item.datum.month || item.datum.snapshot_date);
        if (typeof month === 'string') window.location.href = link + encodeURIComponent(month.slice(0, 7));
      });
    }).catch(function (error) { element.textContent = 'chart failed: ' + error.message; });
  });
})();
`;

export interface ChartSpec {
  id: string;
  spec: Record<string, unknown>;
}

/** A chart and, beside it in the same figure, the table of its numbers (what a screen reader or a copy reads). */
function chartFigure(id: string, caption: string, numbers: Html, monthLink?: string): Html {
  return html`<figure>
<figcaption>${caption}</figcaption>
<div class="chart" data-chart="${id}" role="img" aria-label="${caption} (the numbers are in the table below)"${monthLink ? html` data-month-link="${monthLink}"` : ''}></div>
<details><summary>The numbers of this chart</summary>${numbers}</details>
</figure>`;
}

function topLevel(panel: Record<string, unknown>): Record<string, unknown> {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...panel,
    background: 'white',
    config: { font: FONT, title: { fontSize: 14, subtitleFontSize: 11, anchor: 'start' }, axis: { grid: true, gridColor: '#eee' }, view: { stroke: '#ddd' } },
  };
}

/** A line per series over application months, with a point per month: the console's monthly charts. */
function monthlyLines(chart: {
  id: string;
  title: string;
  subtitle: string;
  width: number;
  points: Array<Record<string, unknown>>;
  y: Record<string, unknown>;
  color: Record<string, unknown>;
}): ChartSpec {
  return {
    id: chart.id,
    spec: topLevel({
      title: { text: chart.title, subtitle: chart.subtitle },
      width: chart.width,
      height: 250,
      data: { values: chart.points },
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'month', type: 'temporal', timeUnit: 'yearmonth', title: 'Application month', axis: { format: '%Y-%m' } },
        y: { type: 'quantitative', ...chart.y },
        color: { type: 'nominal', ...chart.color },
      },
    }),
  };
}

export function workflowUrl(context: PageContext, workflowId: string, runId?: string | null): string {
  const base = `${context.uiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(context.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${encodeURIComponent(runId)}/history` : base;
}

function workflowLink(context: PageContext, workflowId: string | null | undefined, runId?: string | null): Html {
  if (!workflowId) return html`<span class="muted">—</span>`;
  return html`<a href="${workflowUrl(context, workflowId, runId)}" title="open in the Temporal Web UI">${workflowId}</a>`;
}

const short = (hash: string | null | undefined) => (hash ? html`<span class="hash" title="${hash}">${hash.slice(0, 12)}</span>` : html`—`);
const num = (value: unknown, digits = 4) => formatNumber(value, digits);
const windowText = (w: { from: string; to: string }) => `${w.from}..${w.to}`;
const modelLink = (id: string) => html`<a href="/models/${encodeURIComponent(id)}">${id}</a>`;
const roleBadge = (role: string) => html`<span class="badge ${role}">${role}</span>`;

/** A promotion row's evidence in one line (SPEC §4b columns; absent columns read as —). */
function evidence(row: Row): Html {
  const diff = row.auc_diff === null || row.auc_diff === undefined ? 'no paired comparison' : `ΔAUC ${num(row.auc_diff)} [${num(row.auc_diff_low)}, ${num(row.auc_diff_high)}], p = ${num(row.p_value)}`;
  return html`<strong>${String(row.action ?? '?')}</strong> by ${String(row.decided_by ?? '?')} — ${diff}${row.months_compared ? ` on ${String(row.months_compared)} (${num(row.n_rows, 0)} rows)` : ''}: ${String(row.reason ?? '')}`;
}

function latestPromotionOf(promotions: Row[] | null, modelId: string): Row | undefined {
  return promotions?.filter((row) => row.candidate_model_id === modelId).at(-1);
}

const PROMOTIONS_MISSING = () =>
  notAvailable('gate decisions with evidence (gold/governance/promotions.parquet)', 'no promotion decision has been recorded there; the registry’s reasons are shown instead');

export function modelsPage(context: PageContext, models: ModelView[], promotions: Row[] | null): string {
  const columns: Column<ModelView>[] = [
    { header: 'Model', value: (m) => modelLink(m.metadata.model_id) },
    { header: 'Role', value: (m) => roleBadge(m.role) },
    { header: 'Family', value: (m) => m.metadata.family },
    { header: 'As of', value: (m) => m.metadata.as_of },
    { header: 'Train', value: (m) => windowText(m.metadata.windows.train) },
    { header: 'Test', value: (m) => windowText(m.metadata.windows.test) },
    { header: 'OOT', value: (m) => windowText(m.metadata.windows.oot) },
    { header: 'Test AUC', value: (m) => num(m.metadata.metrics.test_auc), numeric: true },
    { header: 'OOT AUC', value: (m) => num(m.metadata.metrics.oot_auc), numeric: true },
    { header: 'OOT Gini', value: (m) => num(m.metadata.metrics.oot_gini), numeric: true },
    { header: 'OOT KS', value: (m) => num(m.metadata.metrics.oot_ks), numeric: true },
    {
      header: 'Gate decision (evidence)',
      value: (m) => {
        const row = latestPromotionOf(promotions, m.metadata.model_id);
        if (row) return evidence(row);
        return m.events.find((event) => event.stage === 'candidate')?.reason ?? '—';
      },
    },
    { header: 'Lineage (training data sha256)', value: (m) => html`${short(m.metadata.training_data_sha256)}<br><a href="/lineage?month=${m.metadata.windows.oot.to}">lineage of its last window month</a>` },
    {
      header: 'Promoted by / why',
      value: (m) => {
        const promotion = promotions?.filter((row) => row.candidate_model_id === m.metadata.model_id && ['promote', 'rollback'].includes(String(row.action))).at(-1);
        if (promotion) return `${String(promotion.decided_by)}: ${String(promotion.reason)}`;
        const event = m.events.filter((e) => e.stage === 'production').at(-1);
        return event ? `${event.at.slice(0, 16).replace('T', ' ')} — ${event.reason}` : '—';
      },
    },
    { header: 'Training run', value: (m) => workflowLink(context, m.metadata.workflow.workflowId, m.metadata.workflow.runId) },
  ];
  const options = (selected?: string) =>
    models.map((m) => html`<option value="${m.metadata.model_id}"${m.metadata.model_id === selected ? raw(' selected') : ''}>${m.metadata.model_id} (${m.role})</option>`);
  const body = html`
${models.length === 0 ? notAvailable('models', 'the model bank has no registered model: run a backfill with training first') : ''}
${promotions === null ? PROMOTIONS_MISSING() : ''}
${table('Registered models: production first, then challengers, then retired', columns, models, { id: 'models', rowClass: (m) => m.role })}
<h2>Compare two models</h2>
<form class="inline" method="get" action="/compare">
<div><label for="compare-a">First model</label><select id="compare-a" name="a">${options(models[0]?.metadata.model_id)}</select></div>
<div><label for="compare-b">Second model</label><select id="compare-b" name="b">${options(models[1]?.metadata.model_id)}</select></div>
<div><button type="submit">Compare</button></div>
</form>`;
  return layout(context, '/models', 'Models', body);
}

export function modelPage(context: PageContext, model: ModelView, promotions: Row[] | null, importance: Array<{ feature: string; importance: number }>): string {
  const m = model.metadata;
  const related = promotions?.filter((row) => row.candidate_model_id === m.model_id || row.production_model_id === m.model_id) ?? [];
  const body = html`
<p>${roleBadge(model.role)} ${m.family} model as of ${m.as_of}, created ${m.created_at} by ${workflowLink(context, m.workflow.workflowId, m.workflow.runId)}.
<a href="/monitoring?model=${encodeURIComponent(m.model_id)}">Monitoring over time</a></p>
<dl class="kv">
<dt>Windows</dt><dd>train ${windowText(m.windows.train)}, test ${windowText(m.windows.test)}, OOT ${windowText(m.windows.oot)}</dd>
<dt>Threshold</dt><dd>${num(m.threshold)}</dd>
<dt>Training data sha256</dt><dd class="hash">${m.training_data_sha256}</dd>
<dt>Feature schema sha256</dt><dd class="hash">${m.feature_schema_sha256}</dd>
<dt>XGBoost</dt><dd>${m.xgboost_version}</dd>
<dt>Parameters</dt><dd class="hash">${JSON.stringify(m.params)}</dd>
</dl>
${metricsTable([m])}
<h2>Registry history</h2>
${table('Registry events of this model', [
    { header: 'At', value: (e) => e.at },
    { header: 'Stage', value: (e) => e.stage },
    { header: 'Reason', value: (e) => e.reason },
  ] as Column<ModelView['events'][number]>[], model.events)}
<h2>Promotion decisions</h2>
${promotions === null ? PROMOTIONS_MISSING() : related.length === 0 ? html`<p>No promotion decision names this model.</p>` : promotionsTable(related)}
<h2>Feature importance (top 15)</h2>
${importance.length ? table('Feature importance', [
    { header: 'Feature', value: (row) => row.feature },
    { header: 'Importance', value: (row) => num(row.importance), numeric: true },
  ] as Column<{ feature: string; importance: number }>[], importance.slice(0, 15)) : html`<p class="muted">No feature_importance.csv.</p>`}`;
  return layout(context, '/models', `Model ${m.model_id}`, body);
}

const METRIC_ROWS = ['train_auc', 'test_auc', 'oot_auc', 'oot_gini', 'oot_ks', 'test_accuracy', 'test_precision', 'test_recall', 'test_f1', 'oot_accuracy', 'oot_precision', 'oot_recall', 'oot_f1'] as const;

function metricsTable(models: ModelMetadata[]): Html {
  const rows = METRIC_ROWS.map((metric) => ({ metric, values: models.map((m) => (m.metrics as Record<string, number | undefined>)[metric] ?? null) }));
  const columns: Column<(typeof rows)[number]>[] = [
    { header: 'Metric', value: (row) => row.metric },
    ...models.map((m, i) => ({ header: m.model_id, value: (row: (typeof rows)[number]) => num(row.values[i]), numeric: true })),
    ...(models.length === 2
      ? [{ header: 'second − first', value: (row: (typeof rows)[number]) => (row.values[0] === null || row.values[1] === null ? '—' : num(row.values[1]! - row.values[0]!)), numeric: true }]
      : []),
  ];
  return table('Metrics at registration (test and OOT windows of each model)', columns, rows, { id: 'metrics' });
}

function promotionsTable(rows: Row[]): Html {
  const columns: Column<Row>[] = [
    'decided_at', 'decided_by', 'action', 'candidate_model_id', 'production_model_id', 'months_compared', 'n_rows',
    'candidate_auc', 'production_auc', 'auc_diff', 'auc_diff_low', 'auc_diff_high', 'p_value', 'reason',
  ].map((name) => ({ header: name, value: (row: Row) => num(row[name]), numeric: typeof rows[0]?.[name] === 'number' }));
  return table('Promotion decisions (gold/governance/promotions.parquet)', columns, rows, { id: 'promotions' });
}

export function comparePage(context: PageContext, a: ModelView, b: ModelView, rowsA: Row[] | null, rowsB: Row[] | null, promotions: Row[] | null): string {
  const ids = [a.metadata.model_id, b.metadata.model_id];
  const byMonth = new Map<string, { month: string; a?: Row; b?: Row }>();
  for (const [key, rows] of [['a', rowsA], ['b', rowsB]] as const) {
    for (const row of rows ?? []) {
      const month = String(row.snapshot_date).slice(0, 7);
      const entry = byMonth.get(month) ?? { month };
      entry[key] = row;
      byMonth.set(month, entry);
    }
  }
  const months = [...byMonth.values()].sort((x, y) => (x.month < y.month ? -1 : 1));
  type M = (typeof months)[number];
  const monthly = table('Monitoring per month, side by side', [
    { header: 'Month', value: (m: M) => m.month },
    { header: `Window (${ids[0]})`, value: (m: M) => String(m.a?.window ?? '—') },
    { header: `AUC (${ids[0]})`, value: (m: M) => num(m.a?.auc), numeric: true },
    { header: `PSI (${ids[0]})`, value: (m: M) => num(m.a?.psi), numeric: true },
    { header: `Window (${ids[1]})`, value: (m: M) => String(m.b?.window ?? '—') },
    { header: `AUC (${ids[1]})`, value: (m: M) => num(m.b?.auc), numeric: true },
    { header: `PSI (${ids[1]})`, value: (m: M) => num(m.b?.psi), numeric: true },
    { header: 'Scored', value: (m: M) => num(m.a?.n_scored ?? m.b?.n_scored, 0), numeric: true },
  ] as Column<M>[], months, { id: 'compare-monthly' });
  const points = months.flatMap((m) =>
    (['a', 'b'] as const).flatMap((key, i) => (m[key] && m[key]!.auc !== null && m[key]!.auc !== undefined ? [{ month: `${m.month}-01`, model: ids[i], auc: m[key]!.auc }] : [])),
  );
  const chart = monthlyLines({
    id: 'compare-auc',
    title: 'Monthly AUC of both models (mature months)',
    subtitle: 'in-sample months of either model are optimistic: see the window columns',
    width: 640,
    points,
    y: { field: 'auc', title: 'AUC', scale: { zero: false } },
    color: { field: 'model', title: 'Model', legend: { orient: 'top', labelLimit: 400 } },
  });
  const paired = promotions?.filter((row) => ids.includes(String(row.candidate_model_id)) && ids.includes(String(row.production_model_id)) && row.candidate_model_id !== row.production_model_id) ?? [];
  const body = html`
<p>${ids.map((id, i) => html`${i ? ' against ' : ''}${modelLink(id)} ${roleBadge(i ? b.role : a.role)}`)}</p>
${metricsTable([a.metadata, b.metadata])}
${table('Models', [
    { header: 'Model', value: (m: ModelView) => m.metadata.model_id },
    { header: 'Family', value: (m: ModelView) => m.metadata.family },
    { header: 'As of', value: (m: ModelView) => m.metadata.as_of },
    { header: 'Windows', value: (m: ModelView) => `train ${windowText(m.metadata.windows.train)}, test ${windowText(m.metadata.windows.test)}, OOT ${windowText(m.metadata.windows.oot)}` },
    { header: 'Training data sha256', value: (m: ModelView) => short(m.metadata.training_data_sha256) },
  ] as Column<ModelView>[], [a, b], { id: 'compare-models' })}
<h2>Paired AUC difference (same rows, DeLong)</h2>
${promotions === null ? PROMOTIONS_MISSING() : paired.length === 0 ? html`<p id="paired">No promotion decision has compared these two models on the same rows.</p>` : promotionsTable(paired)}
<h2>Monitoring per month</h2>
${rowsA === null || rowsB === null ? notAvailable(`the monitoring table of ${rowsA === null ? ids[0] : ids[1]}`, 'run monitoring with that model (Actions) to write it') : ''}
${chartFigure('compare-auc', 'Monthly AUC of both models', monthly)}`;
  return layout(context, '/models', `Compare ${ids[0]} and ${ids[1]}`, body, [chart]);
}

/** Columns of the monitoring table, in the order shown; those not in the table are listed as missing. */
const MONITORING_COLUMNS = [
  'window', 'status', 'n_scored', 'n_labelled', 'auc', 'auc_estimated', 'auc_estimated_low', 'auc_estimated_high', 'gini', 'ks', 'psi', 'psi_covered',
  'max_csi', 'max_csi_feature', 'coverage_source', 'coverage', 'coverage_baseline', 'expected_default_rate', 'observed_default_rate', 'mean_probability',
  'calibration_p_value', 'brier', 'max_null_jump', 'max_null_jump_feature',
];
const ISSUE_COLUMNS = ['auc_estimated', 'auc_estimated_low', 'auc_estimated_high', 'expected_default_rate', 'calibration_p_value'];

export interface MonitoringPageData {
  models: ModelView[];
  model: ModelView | null;
  rows: Row[] | null;
  decisions: GovernanceDecision[];
  month: Month | null;
  predictions: MonthPredictions | null;
  thresholds: Thresholds;
  /** ESTIMATED_AUC_MARGIN: the estimated-AUC floor is the OOT AUC minus this. */
  estimatedAucMargin: number;
}

interface FindingView {
  kind?: string;
  severity?: string;
  metric?: string;
  snapshot_date?: string;
  message?: string;
}

function findingsOf(decision: GovernanceDecision): FindingView[] {
  try {
    const parsed = JSON.parse(decision.findings_json) as unknown;
    return Array.isArray(parsed) ? (parsed as FindingView[]) : [];
  } catch {
    return [];
  }
}

export function monitoringPage(context: PageContext, data: MonitoringPageData): string {
  const picker = html`<form class="inline" method="get" action="/monitoring">
<div><label for="monitoring-model">Model</label><select id="monitoring-model" name="model">${data.models.map((m) => html`<option value="${m.metadata.model_id}"${m.metadata.model_id === data.model?.metadata.model_id ? raw(' selected') : ''}>${m.metadata.model_id} (${m.role})</option>`)}</select></div>
<div><button type="submit">Show</button></div></form>`;
  if (!data.model) return layout(context, '/monitoring', 'Monitoring over time', html`${picker}${notAvailable('monitoring', 'no registered model')}`);
  const modelId = data.model.metadata.model_id;
  if (!data.rows) {
    return layout(context, '/monitoring', `Monitoring of ${modelId}`, html`${picker}${notAvailable(`the monitoring table of ${modelId}`, 'monitoring has not run with this model yet: start it from Actions')}`);
  }
  const rows = data.rows;
  const present = new Set(rows.length ? Object.keys(rows[0]) : MONITORING_COLUMNS);
  const missing = ISSUE_COLUMNS.filter((column) => !present.has(column));
  const shown = MONITORING_COLUMNS.filter((column) => present.has(column));
  const monthHref = (month: string) => `/monitoring?model=${encodeURIComponent(modelId)}&month=${month}`;
  const monthColumns: Column<Row>[] = [
    { header: 'Month', value: (row) => html`<a href="${monthHref(String(row.snapshot_date).slice(0, 7))}">${String(row.snapshot_date).slice(0, 7)}</a>` },
    ...shown.map((column) => ({ header: column, value: (row: Row) => num(row[column]), numeric: typeof rows.find((r) => r[column] !== null)?.[column] === 'number' })),
  ];
  const numbers = table(`Monitoring of ${modelId} per application month (window: where the month stands relative to the model’s training)`, monthColumns, rows, {
    id: 'monitoring',
    rowClass: (row) => `${String(row.status)} window-${String(row.window)}`,
  });
  // A table written before newer columns existed fails today's schema; the panels read only the older columns.
  const validated: MonitoringRow[] = rows.map((row) => {
    const parsed = monitoringRowSchema.safeParse(row);
    return parsed.success ? parsed.data : (row as unknown as MonitoringRow);
  });
  const estimation = estimationViewOf(validated, data.model.metadata, data.estimatedAucMargin, { latestReliability: null, stale: [] });
  const dashboard = { rows: validated, thresholds: data.thresholds, estimation } as unknown as DashboardData;
  const charts: ChartSpec[] = [
    { id: 'auc', spec: topLevel(aucPanel(dashboard)) },
    { id: 'psi', spec: topLevel(psiPanel(dashboard)) },
  ];
  const estimated = present.has('auc_estimated') ? rows.filter((row) => row.auc_estimated !== null && row.auc_estimated !== undefined) : [];
  if (estimated.length) {
    charts.push({ id: 'estimated', spec: topLevel(estimatedAucPanel(dashboard)) });
  }
  const calibrated = present.has('expected_default_rate') ? rows.filter((row) => row.expected_default_rate !== null && row.expected_default_rate !== undefined) : [];
  if (calibrated.length) {
    const points = calibrated.flatMap((row) => [
      { month: row.snapshot_date, series: 'expected (mean probability)', rate: row.expected_default_rate },
      ...(row.observed_default_rate === null || row.observed_default_rate === undefined ? [] : [{ month: row.snapshot_date, series: 'observed (mature labels)', rate: row.observed_default_rate }]),
    ]);
    charts.push(
      monthlyLines({
        id: 'calibration',
        title: 'Calibration: expected and observed default rate',
        subtitle: 'per application month; the p-value is in the table',
        width: 380,
        points,
        y: { field: 'rate', title: 'Default rate', axis: { format: '%' } },
        color: { field: 'series', title: null, legend: { orient: 'top' } },
      }),
    );
  }
  const decisions = data.decisions.filter((decision) => decision.model_id === modelId).reverse();
  const findings = decisions.flatMap((decision) => findingsOf(decision).map((finding) => ({ decision, finding })));
  const windows = data.model.metadata.windows;
  const body = html`${picker}
<p>${roleBadge(data.model.role)} ${modelLink(modelId)}: train ${windowText(windows.train)}, test ${windowText(windows.test)}, OOT ${windowText(windows.oot)}; the charts shade those months
(${Object.entries(WINDOW_COLORS).map(([w, color], i) => html`${i ? ', ' : ''}<span style="background:${color};padding:0 4px">${w}</span>`)}). Governance judges <em>after</em> months only. Click a month (chart or table) to see its rows.</p>
${missing.length ? notAvailable(`monitoring columns ${missing.join(', ')}`, 'this monitoring table was written before performance estimation and calibration existed; the next monitoring run adds them') : ''}
<div class="charts">
${chartFigure('auc', 'Monthly AUC (mature months), windows shaded', table('AUC per month', [
    { header: 'Month', value: (row: Row) => String(row.snapshot_date).slice(0, 7) },
    { header: 'Window', value: (row: Row) => String(row.window) },
    { header: 'AUC', value: (row: Row) => num(row.auc), numeric: true },
    { header: 'Status', value: (row: Row) => String(row.status) },
  ] as Column<Row>[], rows), '/monitoring?model=' + encodeURIComponent(modelId) + '&month=')}
${chartFigure('psi', 'Monthly score PSI, windows shaded', table('PSI per month', [
    { header: 'Month', value: (row: Row) => String(row.snapshot_date).slice(0, 7) },
    { header: 'Window', value: (row: Row) => String(row.window) },
    { header: 'PSI', value: (row: Row) => num(row.psi), numeric: true },
    { header: 'Max CSI', value: (row: Row) => `${num(row.max_csi)} ${row.max_csi_feature ? String(row.max_csi_feature) : ''}` },
  ] as Column<Row>[], rows), '/monitoring?model=' + encodeURIComponent(modelId) + '&month=')}
${estimated.length ? chartFigure('estimated', 'Estimated and realized AUC', table('Estimated and realized AUC per month', [
    { header: 'Month', value: (row: Row) => String(row.snapshot_date).slice(0, 7) },
    { header: 'auc_estimated', value: (row: Row) => num(row.auc_estimated), numeric: true },
    { header: 'low', value: (row: Row) => num(row.auc_estimated_low), numeric: true },
    { header: 'high', value: (row: Row) => num(row.auc_estimated_high), numeric: true },
    { header: 'auc (realized)', value: (row: Row) => num(row.auc), numeric: true },
  ] as Column<Row>[], estimated)) : ''}
${calibrated.length ? chartFigure('calibration', 'Calibration per month', table('Expected and observed default rate per month', [
    { header: 'Month', value: (row: Row) => String(row.snapshot_date).slice(0, 7) },
    { header: 'expected_default_rate', value: (row: Row) => num(row.expected_default_rate), numeric: true },
    { header: 'observed_default_rate', value: (row: Row) => num(row.observed_default_rate), numeric: true },
    { header: 'calibration_p_value', value: (row: Row) => num(row.calibration_p_value), numeric: true },
    { header: 'brier', value: (row: Row) => num(row.brier), numeric: true },
  ] as Column<Row>[], calibrated)) : ''}
</div>
${data.month ? monthSection(modelId, data.month, rows, data.predictions) : ''}
<h2>Every column per month</h2>
${numbers}
<h2>Findings and decisions</h2>
${decisions.length === 0 ? html`<p>No governance decision about this model in gold/governance/decisions.parquet.</p>` : table('Governance decisions about this model, newest first', [
    { header: 'Decided at', value: (d: GovernanceDecision) => d.decided_at },
    { header: 'As of', value: (d: GovernanceDecision) => d.as_of },
    { header: 'Action', value: (d: GovernanceDecision) => d.action },
    { header: 'Reason', value: (d: GovernanceDecision) => d.reason },
    { header: 'Findings', value: (d: GovernanceDecision) => num(findingsOf(d).length, 0), numeric: true },
    { header: 'Workflow', value: (d: GovernanceDecision) => workflowLink(context, d.workflow_id) },
  ] as Column<GovernanceDecision>[], decisions, { id: 'decisions' })}
${findings.length ? table('Findings of those decisions', [
    { header: 'As of', value: (f: (typeof findings)[number]) => f.decision.as_of },
    { header: 'Kind', value: (f: (typeof findings)[number]) => f.finding.kind ?? '—' },
    { header: 'Severity', value: (f: (typeof findings)[number]) => f.finding.severity ?? '—' },
    { header: 'Metric', value: (f: (typeof findings)[number]) => f.finding.metric ?? '—' },
    { header: 'Month', value: (f: (typeof findings)[number]) => String(f.finding.snapshot_date ?? '—').slice(0, 7) },
    { header: 'Message', value: (f: (typeof findings)[number]) => f.finding.message ?? '' },
  ] as Column<(typeof findings)[number]>[], findings, { id: 'findings' }) : ''}`;
  return layout(context, '/monitoring', `Monitoring of ${modelId}`, body, charts);
}

function monthSection(modelId: string, month: Month, rows: Row[], predictions: MonthPredictions | null): Html {
  const row = rows.find((r) => String(r.snapshot_date).slice(0, 7) === month);
  return html`<h2 id="month">${month}: the month’s rows</h2>
${row ? html`<dl class="kv">${Object.entries(row).map(([key, value]) => html`<dt>${key}</dt><dd>${num(value)}</dd>`)}</dl>` : html`<p>No monitoring row for ${month}.</p>`}
${predictions === null ? notAvailable(`predictions of ${modelId} for ${month}`, 'the month has not been scored by this model') : table(
    `The ${Math.min(predictions.rows.length, predictions.count)} riskiest of ${predictions.count} applications scored in ${month}`,
    [
      { header: 'Loan', value: (p: Row) => html`<a href="/application?loan_id=${encodeURIComponent(String(p.loan_id))}">${String(p.loan_id)}</a>` },
      { header: 'Customer', value: (p: Row) => String(p.Customer_ID ?? '') },
      { header: 'Default probability', value: (p: Row) => num(p.default_probability), numeric: true },
      { header: 'Predicted default', value: (p: Row) => num(p.predicted_default, 0), numeric: true },
      { header: 'Risk band', value: (p: Row) => String(p.risk_band ?? '') },
      { header: 'Role', value: (p: Row) => String(p.model_role ?? '—') },
    ] as Column<Row>[],
    predictions.rows,
    { id: 'month-rows' },
  )}`;
}

const LAYERS: Array<[LineageLayer[], string]> = [
  [['source'], 'Source slices'],
  [['bronze'], 'Bronze'],
  [['silver'], 'Silver'],
  [['gold'], 'Gold'],
  [['model', 'predictions'], 'Models and predictions'],
];

export function lineagePage(context: PageContext, lineage: MonthLineage | null, months: Month[], runs: Map<string, WorkflowRun | null>, temporalProblem: string | null): string {
  const picker = html`<form class="inline" method="get" action="/lineage">
<div><label for="lineage-month">Application month</label><select id="lineage-month" name="month">${months.map((m) => html`<option${m === lineage?.month ? raw(' selected') : ''}>${m}</option>`)}</select></div>
<div><button type="submit">Show</button></div></form>`;
  if (!lineage) return layout(context, '/lineage', 'Lineage', html`${picker}${notAvailable('lineage', 'the datamart has no feature-store partition yet: run a backfill')}`);
  const stale = lineage.nodes.filter((node) => node.stale);
  const writer = (name: string) => {
    const run = runs.get(name);
    return run ? workflowLink(context, run.workflowId, run.runId) : html`<span class="muted">no workflow run of this month covers its write time</span>`;
  };
  const body = html`${picker}
${temporalProblem ? html`<p class="error" role="note">Workflow runs unavailable: ${temporalProblem}</p>` : ''}
<p>${stale.length === 0 ? html`<span class="badge current">every partition current</span>` : html`<span class="badge stale">${stale.length} stale</span> ${stale.map((n) => n.name).join(', ')}`}</p>
<div class="graph" role="list" aria-label="Lineage of ${lineage.month} by layer">
${LAYERS.map(([layers, title]) => html`<section role="listitem"><h3>${title}</h3>${lineage.nodes.filter((node) => layers.includes(node.layer)).map((node) => html`<div class="node${node.stale ? ' stale' : ''}">
<strong>${node.name}</strong><br>${short(node.fingerprint)} ${node.stale ? html`<span class="badge stale">stale</span> ${node.why}` : ''}
${Object.keys(node.inputs).length ? html`<br><span class="muted">from ${Object.keys(node.inputs).map((input) => (input === 'slice' ? `source/${node.name.split('/').slice(1).join('/')}` : input)).join(', ')}</span>` : ''}</div>`)}</section>`)}
</div>
${table(`Partitions of ${lineage.month} and what each was built from`, [
    { header: 'Node', value: (n) => n.name },
    { header: 'Layer', value: (n) => n.layer },
    { header: 'Fingerprint / hash', value: (n) => html`<span class="hash">${n.fingerprint ?? '—'}</span>` },
    { header: 'Inputs (recorded fingerprint)', value: (n) => Object.entries(n.inputs).map(([input, fp]) => html`${input}${fp ? html` <span class="hash">${fp.slice(0, 12)}</span>` : ''}<br>`) },
    { header: 'State', value: (n) => (n.stale ? html`<span class="badge stale">stale</span> ${n.why}` : html`<span class="badge current">current</span> ${n.layer === 'source' || n.layer === 'model' ? n.why : ''}`) },
    { header: 'Written at', value: (n) => n.writtenAt ?? '—' },
    { header: 'Written by', value: (n) => (n.path ? writer(n.name) : n.layer === 'model' ? html`see the model` : '—') },
  ] as Column<MonthLineage['nodes'][number]>[], lineage.nodes, { id: 'lineage', rowClass: (n) => (n.stale ? 'stale' : '') })}`;
  return layout(context, '/lineage', `Lineage of ${lineage.month}`, body);
}

export function applicationPage(context: PageContext, loanId: string | null, view: ApplicationView | null): string {
  const form = html`<form class="inline" method="get" action="/application">
<div><label for="loan-id">Loan id</label><input type="text" id="loan-id" name="loan_id" value="${loanId ?? ''}" required></div>
<div><button type="submit">Show</button></div></form>`;
  if (!loanId || !view) return layout(context, '/application', 'An application', html`${form}<p>Enter a loan id, or open one from a month’s rows on the Monitoring page.</p>`);
  const features = view.features;
  const body = html`${form}
${features === null ? html`<p class="error">No application ${loanId} in the feature store.</p>` : ''}
<h2>Scores</h2>
${view.predictions.length === 0 ? html`<p>No model has scored this application.</p>` : table(`Predictions of ${loanId}`, [
    { header: 'Model', value: (p: Row) => modelLink(String(p.model_id)) },
    { header: 'Role', value: (p: Row) => String(p.model_role ?? (p.model_id === context.production ? 'production' : '—')) },
    { header: 'Month', value: (p: Row) => String(p.snapshot_date).slice(0, 7) },
    { header: 'Default probability', value: (p: Row) => num(p.default_probability), numeric: true },
    { header: 'Predicted default', value: (p: Row) => num(p.predicted_default, 0), numeric: true },
    { header: 'Risk band', value: (p: Row) => String(p.risk_band ?? '') },
    { header: 'Scored at', value: (p: Row) => num(p.scored_at) },
  ] as Column<Row>[], view.predictions, { id: 'scores' })}
<h2>Reason codes</h2>
${view.explanations === null
    ? notAvailable('reason codes (gold/explanations)', 'the scoring has not written feature contributions for any model; when it does, the four features pushing this application’s risk up most appear here')
    : view.explanations.length === 0
      ? html`<p>No reason codes for ${loanId}.</p>`
      : table(`Reason codes of ${loanId} (contributions on the log-odds scale)`, [
          { header: 'Model', value: (e: Row) => String(e.model_id) },
          ...[1, 2, 3, 4].map((i) => ({ header: `Reason ${i}`, value: (e: Row) => (e[`reason_${i}`] ? `${String(e[`reason_${i}`])} (+${num(e[`contribution_${i}`])})` : '—') })),
          { header: 'Bias', value: (e: Row) => num(e.bias), numeric: true },
        ] as Column<Row>[], view.explanations, { id: 'reasons' })}
<h2>Features</h2>
${features ? table(`Feature-store row of ${loanId}`, [
    { header: 'Feature', value: (entry: [string, unknown]) => entry[0] },
    { header: 'Value', value: (entry: [string, unknown]) => num(entry[1]) },
  ] as Column<[string, unknown]>[], Object.entries(features), { id: 'features' }) : ''}`;
  return layout(context, '/application', `Application ${loanId}`, body);
}

export interface LifecycleView {
  production: string | null;
  previousProduction: string | null;
  training: boolean;
  currentTraining: string | null;
}

export interface ActionOutcome {
  ok: boolean;
  message: string;
  workflowId?: string;
}

export function actionsPage(context: PageContext, models: ModelView[], status: LifecycleView | null, statusProblem: string | null, outcome: ActionOutcome | null): string {
  const who = (form: string) => html`<div><label for="${form}-reason">Reason (recorded with the action)</label><textarea id="${form}-reason" name="reason" required></textarea></div>
<div><label for="${form}-by">Your name</label><input type="text" id="${form}-by" name="by" required autocomplete="name"></div>`;
  const body = html`
${outcome ? html`<p class="${outcome.ok ? 'ok' : 'error'}" role="status" id="outcome">${outcome.ok ? 'Done: ' : 'Refused: '}${outcome.message}${outcome.workflowId ? html` (${workflowLink(context, outcome.workflowId)})` : ''}</p>` : ''}
<h2>Model lifecycle</h2>
${status ? html`<dl class="kv" id="lifecycle">
<dt>Production</dt><dd id="lifecycle-production">${status.production ?? 'none'}</dd>
<dt>Previous production</dt><dd>${status.previousProduction ?? 'none'}</dd>
<dt>Training now</dt><dd>${status.training ? workflowLink(context, status.currentTraining) : 'no'}</dd>
<dt>Workflow</dt><dd>${workflowLink(context, 'model-lifecycle')}</dd></dl>` : html`<p class="error" role="note">The model-lifecycle status is unavailable: ${statusProblem ?? 'unknown'}. Actions need the Temporal server and a worker.</p>`}
<p>Every action goes to the <code>model-lifecycle</code> workflow (or starts monitoring) exactly as the command line does; none writes a file itself. A reason and your name are required.</p>
<form class="action" method="post" action="/actions/promote"><h3>Promote a model</h3>
<div><label for="promote-model">Model</label><select id="promote-model" name="model">${models.filter((m) => m.role !== 'production').map((m) => html`<option value="${m.metadata.model_id}">${m.metadata.model_id} (${m.role}, OOT AUC ${num(m.metadata.metrics.oot_auc, 3)})</option>`)}</select></div>
<div><input type="checkbox" id="promote-force" name="force"> <label for="promote-force" style="display:inline">Force: promote a model once rolled back or rejected although the gate refuses it (recorded as forced)</label></div>
${who('promote')}<div><button type="submit">Promote</button></div></form>
<form class="action" method="post" action="/actions/rollback"><h3>Roll back to the previous production model</h3>
${who('rollback')}<div><button type="submit">Roll back</button></div></form>
<form class="action" method="post" action="/actions/retrain"><h3>Force a retraining</h3>
<div><label for="retrain-as-of">As of (YYYY-MM, empty: the last month with mature labels)</label><input type="text" id="retrain-as-of" name="asOf" pattern="\\d{4}-\\d{2}" placeholder="YYYY-MM"></div>
${who('retrain')}<div><button type="submit">Retrain</button></div></form>
<form class="action" method="post" action="/actions/monitor"><h3>Run monitoring</h3>
<div><label for="monitor-as-of">As of (YYYY-MM)</label><input type="text" id="monitor-as-of" name="asOf" pattern="\\d{4}-\\d{2}" placeholder="YYYY-MM" required></div>
<div><label for="monitor-model">Model</label><select id="monitor-model" name="model"><option value="">the production model</option>${models.map((m) => html`<option value="${m.metadata.model_id}">${m.metadata.model_id} (${m.role})</option>`)}</select></div>
${who('monitor')}<div><button type="submit">Run monitoring</button></div></form>`;
  return layout(context, '/actions', 'Actions', body);
}

export function loginPage(context: PageContext, failed: boolean, next: string): string {
  const body = html`${failed ? html`<p class="error" role="status">Wrong token.</p>` : ''}
<p>This console is reachable beyond this machine: enter the operator token (CONSOLE_TOKEN).</p>
<form class="action" method="post" action="/login"><input type="hidden" name="next" value="${next}">
<div><label for="login-token">Operator token</label><input type="password" id="login-token" name="token" autocomplete="current-password" required></div>
<div><button type="submit">Sign in</button></div></form>`;
  return layout(context, '/login', 'Sign in', body);
}

export function errorPage(context: PageContext, title: string, message: string): string {
  return layout(context, '', title, html`<p class="error" role="status">${message}</p>`);
}
