// The dashboard files of one monitoring run: reports/monitoring-<asOf>.png/.html and reports/latest.png/.html,
// each written atomically (temporary file + rename) so a reader never sees half a picture.
import { writeFileAtomic } from '../fs-atomic.js';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { datamart } from '../../lib/layout.js';
import { monthOf, type Month } from '../../lib/months.js';
import { withDuckDB } from '../duckdb.js';
import { binLabels, dashboardHtml, dashboardSpec, estimationViewOf, renderSvg, svgToPng, type DashboardData, type EstimationView } from './dashboard.js';
import { numericProportions } from '../statistics/drift.js';
import { loadModelMetadata, readMonthScores } from './inputs.js';
import { confusion, thinCurve, thresholdCurve } from './metrics.js';
import type { Thresholds } from './status.js';
import { readMonitoringTable } from './table.js';
import { readOnlineSkewTable, type SkewThresholds } from './online-skew.js';
import { loadConfig } from '../../lib/config.js';
import { riskGroups } from '../statistics/calibration.js';
import { dataQualityThresholdsFrom, freshnessFinding, type DataQualityThresholds } from './data-quality.js';
import { estimationThresholdsFrom, type EstimationThresholds } from './estimated-findings.js';
import { readRegistry } from '../models/registry.js';
import { challengersOf } from '../../lib/model-registry.js';
import { describeModel } from '../../lib/model-id.js';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ModelMetadata, MonitoringRow } from '../../lib/contracts.js';
import { attributionShares, monthsMeanAbsoluteContributions } from '../explain/attribution.js';

export interface ReportSettings {
  datamartDir: string;
  modelBankDir: string;
  reportsDir: string;
  thresholds: Thresholds;
  skew: SkewThresholds;
  /** The configuration's defaults when absent. */
  estimation?: EstimationThresholds;
  dataQuality?: DataQualityThresholds;
  /** Challengers shown beside production (MAX_CHALLENGERS; default 2). */
  maxChallengers?: number;
}

export interface DashboardFiles {
  png: string;
  html: string;
  latestPng: string;
  latestHtml: string;
}

/**
 * Everything the nine panels show, read from the monitoring table, the online-vs-batch table, the metadata and two
 * months of predictions.
 */
export async function dashboardData(settings: ReportSettings, asOf: Month, modelId: string): Promise<DashboardData> {
  const metadata = await loadModelMetadata(settings.modelBankDir, modelId);
  return withDuckDB(async (db) => {
    const rows = await readMonitoringTable(db, datamart.monitoring(settings.datamartDir, modelId));
    const online = await readOnlineSkewTable(db, datamart.monitoringOnline(settings.datamartDir, modelId));
    const latestMatureRow = rows.filter((row) => row.status !== 'immature' && row.n_labelled > 0).at(-1);
    let mature: DashboardData['mature'] = null;
    let latestReliability: EstimationView['latestReliability'] = null;
    if (latestMatureRow) {
      const month = monthOf(latestMatureRow.snapshot_date);
      const { outcomes } = await readMonthScores(db, settings.datamartDir, modelId, month, asOf);
      const curve = thresholdCurve(
        outcomes.map((outcome) => outcome.probability),
        outcomes.map((outcome) => outcome.label),
      );
      mature = {
        month: latestMatureRow.snapshot_date,
        auc: latestMatureRow.auc,
        defaultRate: latestMatureRow.observed_default_rate ?? 0,
        curve: thinCurve(curve, 400),
        confusion: confusion(outcomes),
      };
      const groups = riskGroups(outcomes.map((outcome) => outcome.probability), outcomes.map((outcome) => outcome.label));
      latestReliability = { month: latestMatureRow.snapshot_date, groups, pValue: latestMatureRow.calibration_p_value };
    }
    const defaults = loadConfig({});
    const estimationThresholds = settings.estimation ?? estimationThresholdsFrom(defaults);
    const stale = await freshnessFinding(db, settings.datamartDir, asOf, settings.dataQuality ?? dataQualityThresholdsFrom(defaults));
    const estimation = estimationViewOf(rows, metadata, estimationThresholds.estimatedAucMargin, {
      latestReliability,
      stale: stale.map((finding) => finding.message),
    });
    const latestRow = rows.at(-1);
    let scoreBins: DashboardData['scoreBins'] = [];
    if (latestRow) {
      const { probabilities } = await readMonthScores(db, settings.datamartDir, modelId, monthOf(latestRow.snapshot_date), asOf);
      const bins = metadata.baseline.score;
      const latest = numericProportions(probabilities, bins.edges, bins.missing);
      const labels = binLabels(bins);
      scoreBins = labels.map((label, bin) => ({ bin, label, baseline: bins.expected[bin] ?? 0, latest: latest[bin] ?? 0 }));
    }
    // Champion vs challengers: the challengers' monitoring tables (written by the same monitoring run), month by month.
    const registry = await readRegistry(settings.modelBankDir);
    const challengers: NonNullable<DashboardData['challengers']> = [];
    if (registry.production === modelId) {
      for (const challenger of challengersOf(registry, settings.maxChallengers ?? 2)) {
        const table = await readMonitoringTable(db, datamart.monitoring(settings.datamartDir, challenger)).catch(() => []);
        const label = await loadModelMetadata(settings.modelBankDir, challenger).then(describeModel, () => challenger);
        challengers.push({ modelId: challenger, label, rows: table });
      }
    }
    return {
      drivers: await driverShares(db, settings.datamartDir, metadata, rows),
      modelId,
      modelLabel: describeModel(metadata),
      challengers,
      asOf,
      threshold: metadata.threshold,
      thresholds: settings.thresholds,
      rows,
      mature,
      scoreBins,
      latestMonth: latestRow?.snapshot_date ?? null,
      online,
      skew: settings.skew,
      estimation,
    };
  });
}

/** Drivers shown: the features with the largest shares of the training set's mean |contribution|. */
const TOP_DRIVERS = 5;

async function driverShares(db: DuckDBConnection, datamartDir: string, metadata: ModelMetadata, rows: readonly MonitoringRow[]): Promise<DashboardData['drivers']> {
  if (!metadata.attribution) return null;
  const baseline = Object.entries(attributionShares(metadata.attribution.train))
    .sort((a, b) => b[1] - a[1])
    .slice(0, TOP_DRIVERS)
    .map(([feature, share]) => ({ feature, share }));
  const months: NonNullable<DashboardData['drivers']>['months'] = [];
  // the means computeMonitoring has just computed, when it ran in this process (otherwise read here, in one query)
  const monthMeans = await monthsMeanAbsoluteContributions(db, datamartDir, metadata.model_id, rows.map((row) => monthOf(row.snapshot_date)), metadata.features);
  for (const row of rows) {
    const means = monthMeans.get(monthOf(row.snapshot_date));
    if (!means) continue;
    const shares = attributionShares(means);
    for (const { feature } of baseline) months.push({ month: row.snapshot_date, feature, share: shares[feature] ?? 0 });
  }
  return { baseline, months };
}

/** Renders the dashboard and writes the four files; returns their paths. */
export async function renderDashboardFiles(settings: ReportSettings, asOf: Month, modelId: string): Promise<DashboardFiles> {
  const data = await dashboardData(settings, asOf, modelId);
  const svg = await renderSvg(dashboardSpec(data));
  const png = await svgToPng(svg);
  const html = dashboardHtml(data, png);
  await mkdir(settings.reportsDir, { recursive: true });
  const files: DashboardFiles = {
    png: join(settings.reportsDir, `monitoring-${asOf}.png`),
    html: join(settings.reportsDir, `monitoring-${asOf}.html`),
    latestPng: join(settings.reportsDir, 'latest.png'),
    latestHtml: join(settings.reportsDir, 'latest.html'),
  };
  await writeFileAtomic(files.png, png);
  await writeFileAtomic(files.html, html);
  await writeFileAtomic(files.latestPng, png);
  await writeFileAtomic(files.latestHtml, html);
  return files;
}
