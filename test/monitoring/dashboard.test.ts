// The dashboard: four files per run, a PNG of seven non-empty panels, an HTML page with the picture and the tables.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { Resvg } from '@resvg/resvg-js';
import { createMonitoringActivities } from '../../activities/monitoring.js';
import { dashboardSpec, renderSvg, FONT, FONT_DIR } from '../../core/monitoring/dashboard.js';
import { dashboardData } from '../../core/monitoring/report.js';
import { thresholdsFrom } from '../../core/monitoring/status.js';
import { skewThresholdsFrom } from '../../core/monitoring/online-skew.js';
import { loadConfig } from '../../lib/config.js';
import { withDuckDB, writeParquetAtomic } from '../../core/duckdb.js';
import { monitoringSettings } from '../../core/monitoring/table.js';
import { datamart, partitionFile } from '../../lib/layout.js';
import { monthRange } from '../../lib/months.js';
import { makeLoans, makeTempDir, metadataFor, seeded, writeMetadata, writeMonth, writeOnlineMonth, type LoanRow } from './fixtures.js';
import { inActivity } from '../helpers/activity.js';
import { promote, recordCandidate } from '../../core/models/registry.js';

const PANEL_TITLES = [
  'ROC curve', 'Precision–recall', 'Confusion matrix', 'Score distribution', 'Monthly AUC', 'Monthly score PSI', 'Online vs batch score PSI',
  'Realized vs estimated AUC', 'Reliability: probability vs default rate',
];

function pngSize(png: Buffer): { width: number; height: number } {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/**
 * Share of coloured (saturated) pixels in each panel's cell of a 3 × 3 grid under the page title (seven panels: the
 * last row holds one). Text, axes, grid and frames are grey, so only drawn data counts: every panel of a full
 * dashboard must have some.
 */
function inkPerPanel(svg: string): number[] {
  const image = new Resvg(svg, { background: 'white', font: { loadSystemFonts: false, fontDirs: [FONT_DIR], defaultFontFamily: FONT } }).render();
  const { width, height, pixels } = image;
  const top = Math.round(height * 0.04); // the dashboard title, above three rows of panels
  const shares: number[] = [];
  for (let row = 0; row < 3; row++) {
    for (let column = 0; column < 3; column++) {
      let ink = 0;
      let total = 0;
      const y0 = top + Math.round(((height - top) * row) / 3);
      const y1 = top + Math.round(((height - top) * (row + 1)) / 3);
      for (let y = y0; y < y1; y += 2) {
        for (let x = Math.round((width * column) / 3); x < Math.round((width * (column + 1)) / 3); x += 2) {
          const i = (y * width + x) * 4;
          total++;
          const [r, g, b] = [pixels[i], pixels[i + 1], pixels[i + 2]];
          if (Math.max(r, g, b) - Math.min(r, g, b) > 60) ink++;
        }
      }
      shares.push(ink / total);
    }
  }
  return shares;
}

async function fixture(dir: string, months: string[]) {
  const datamartDir = `${dir}/datamart`;
  const modelBankDir = `${dir}/model_bank`;
  const modelId = 'dash_model';
  await writeMetadata(modelBankDir, metadataFor(modelId, '2023-06', makeLoans('b', 3000, seeded(5)), 0.35));
  const loans = new Map<string, LoanRow[]>();
  for (const [i, month] of months.entries()) {
    loans.set(month, makeLoans(month, 1000, seeded(50 + i), 2.6 - 0.1 * i, 0.04 * i));
    await writeMonth(datamartDir, modelId, month, loans.get(month)!, 0.35);
  }
  const config = loadConfig({ DATAMART_DIR: datamartDir, MODEL_BANK_DIR: modelBankDir, REPORTS_DIR: `${dir}/reports` });
  return { config, modelId, loans, activities: createMonitoringActivities(config) };
}

test('renderDashboard writes the dated and latest PNG and HTML: nine panels with content, the metrics tables', async (t) => {
  const { dir, cleanup } = await makeTempDir();
  try {
    const months = monthRange('2023-07', '2024-06');
    const { config, modelId, loans, activities } = await fixture(dir, months);
    // online scores: 2024-04 as batch scored it, 2024-05 too few to judge, 2024-06 skewed (every score +0.2)
    await writeOnlineMonth(config.DATAMART_DIR, modelId, '2024-04', loans.get('2024-04')!);
    await writeOnlineMonth(config.DATAMART_DIR, modelId, '2024-05', loans.get('2024-05')!.slice(0, 50));
    await writeOnlineMonth(config.DATAMART_DIR, modelId, '2024-06', loans.get('2024-06')!, (p) => Math.min(1, p + 0.2));
    const asOf = '2024-06';
    const computed = await inActivity(() => activities.computeMonitoring({ asOf, modelId }));
    const files = await activities.renderDashboard({ asOf, modelId });
    assert.deepEqual(files, {
      png: `${dir}/reports/monitoring-2024-06.png`,
      html: `${dir}/reports/monitoring-2024-06.html`,
      latestPng: `${dir}/reports/latest.png`,
      latestHtml: `${dir}/reports/latest.html`,
    });
    const png = await readFile(files.png);
    if (process.env.KEEP_DASHBOARD) await writeFile(process.env.KEEP_DASHBOARD, png);
    const { width, height } = pngSize(png);
    assert.ok(width >= 1800 && height >= 900, `a readable picture, got ${width}×${height}`);
    assert.ok(png.length > 80_000, `a non-trivial PNG, got ${png.length} bytes`);
    assert.ok((await readFile(files.latestPng)).equals(png), 'latest.png is the same picture');

    const data = await dashboardData(
      { datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, reportsDir: config.REPORTS_DIR, thresholds: thresholdsFrom(config), skew: skewThresholdsFrom(config) },
      asOf,
      modelId,
    );
    const spec = dashboardSpec(data) as unknown as { concat: unknown[] };
    assert.equal(spec.concat.length, 9);
    assert.equal(data.mature?.month, '2023-12-01', 'the latest mature month as of 2024-06 is 2023-12');
    const svg = await renderSvg(dashboardSpec(data));
    for (const title of PANEL_TITLES) assert.ok(svg.includes(title), `panel '${title}' is in the picture`);
    assert.ok(svg.includes(`dash_model — monitoring as of 2024-06`), 'titled with model id and as-of');
    const ink = inkPerPanel(svg);
    assert.equal(ink.length, 9);
    t.diagnostic(`ink per panel: ${ink.map((share) => share.toFixed(4)).join(" ")}`);
    // a panel holding only its message measures under 0.002 (next test); the sparsest drawn one (six AUC points) ≈ 0.0028
    for (const [i, share] of ink.entries()) assert.ok(share > 0.0025, `panel ${i + 1} is not empty (${(share * 100).toFixed(2)}% ink)`);

    const html = await readFile(files.html, 'utf8');
    assert.equal(html, await readFile(files.latestHtml, 'utf8'));
    assert.match(html, /<table id="metrics">/);
    assert.ok(html.includes(`src="data:image/png;base64,${png.toString('base64').slice(0, 200)}`), 'the PNG is embedded');
    const tableRows = html.match(/<tr class="(stable|warning|critical|immature) window-(train|test|oot|after|before)">/g) ?? [];
    assert.equal(tableRows.length, computed.rows.length);
    // every month says where it stands relative to the model's windows (trained as of 2023-06: OOT 2023-06)
    assert.deepEqual([...new Set(computed.rows.map((row) => row.window))], ['after']);
    assert.ok(html.includes('<th>window</th>') && html.includes('<td>after</td>'), 'the table shows the window');
    assert.ok(svg.includes('after (out-of-sample)'), 'the window legend is drawn');
    // PSI bars are coloured by PSI, immature months included: a month at or above the critical PSI is drawn red
    const psiBars = (spec.concat[5] as { layer: Array<{ data?: { values: Array<{ psi: number; psiLevel: string; status: string }> } }> }).layer[1].data!.values;
    for (const bar of psiBars) assert.equal(bar.psiLevel, bar.psi >= 0.2 ? 'critical' : bar.psi >= 0.1 ? 'warning' : 'stable');
    assert.ok(psiBars.some((bar) => bar.status === 'immature' && bar.psiLevel !== 'stable'), 'an immature month with a drifting score is not grey');
    const december = computed.rows.find((row) => row.snapshot_date === '2023-12-01')!;
    assert.ok(html.includes(`<td class="num">${december.auc!.toFixed(4)}</td>`), 'the AUC of 2023-12 is in the table');
    // the online panel: one bar per month with online scores, coloured by how it is judged
    const onlineBars = (spec.concat[6] as { data: { values: Array<{ month: string; psi: number; level: string; label: string }> } }).data.values;
    assert.deepEqual(onlineBars.map((bar) => [bar.month, bar.level, bar.label]), [
      ['2024-04-01', 'no skew', '1000 online'],
      ['2024-05-01', 'too few to judge', '50 online'],
      ['2024-06-01', 'skew', '1000 online'],
    ]);
    assert.equal(onlineBars[0].psi, 0, 'the same scores online and in batch: PSI 0');
    assert.ok(onlineBars[2].psi >= 0.1, `skewed online scores: PSI ${onlineBars[2].psi}`);
    assert.match(html, /<h2>Online vs batch scores<\/h2>\s*<table id="online">/);
    assert.equal((html.match(/<tr class="(stable|warning|immature)"><td>2024-0[456]-01<\/td>/g) ?? []).length, 3);
    assert.ok(html.includes('<tr class="warning"><td>2024-06-01</td><td class="num">1000</td><td class="num">1000</td>'), 'the skewed month is marked');
    // issue 30: realized and estimated AUC on one panel, the band shaded, every month with an estimate; the backtest in words
    const estimatedLayers = (spec.concat[7] as { layer: Array<{ data?: { values: Array<{ month: string; low: number; high: number; realized: number | null }> } }> }).layer;
    assert.equal(estimatedLayers[1].data!.values.length, computed.rows.length, 'a band for every month');
    assert.deepEqual(estimatedLayers[3].data!.values.map((v) => v.month), computed.rows.filter((r) => r.auc !== null).map((r) => r.snapshot_date));
    assert.match(html, /<p id="backtest">[\s\S]*backtest of the estimated AUC on 6 mature month\(s\): mean \|realized − estimated\| 0\.\d{4}, \d\/6/);
    assert.ok(html.includes('<th>auc_estimated</th>') && html.includes('<th>calibration_p_value</th>'));
    assert.ok(svg.includes('2023-12, latest mature (HL p'), 'the reliability panel draws the latest mature month');
    assert.ok(!html.includes('id="freshness"'), 'data up to the as-of month is not stale');
    assert.ok((await stat(files.png)).mtimeMs > 0);
  } finally {
    await cleanup();
  }
});

test('with no mature month the dashboard still renders and says so', async () => {
  const { dir, cleanup } = await makeTempDir();
  try {
    const { modelId, activities } = await fixture(dir, ['2024-05', '2024-06']);
    await inActivity(() => activities.computeMonitoring({ asOf: '2024-06', modelId }));
    const files = await activities.renderDashboard({ asOf: '2024-06', modelId });
    const html = await readFile(files.html, 'utf8');
    assert.equal((html.match(/<tr class="immature window-after">/g) ?? []).length, 2);
    const svg = await renderSvg(dashboardSpec(await dashboardData(
      { datamartDir: `${dir}/datamart`, modelBankDir: `${dir}/model_bank`, reportsDir: `${dir}/reports`, thresholds: thresholdsFrom(loadConfig({})), skew: skewThresholdsFrom(loadConfig({})) },
      '2024-06',
      modelId,
    )));
    assert.equal((svg.match(/>No mature month with labels yet</g) ?? []).length, 4, 'ROC, PR, confusion and AUC panels say why they are empty');
    assert.ok(svg.includes('>No online scores of this model<'), 'the online panel says why it is empty');
    assert.match(html, /<p id="online">No online scores of this model.<\/p>/);
    const ink = inkPerPanel(svg);
    // the ink measure tells an empty panel from a drawn one: text-only panels stay below the bar the full test uses
    for (const i of [0, 1, 2, 4, 6]) assert.ok(ink[i] < 0.002, `panel ${i + 1} holds only its message (${ink[i]})`);
    assert.ok(ink[3] > 0.003 && ink[5] > 0.003, 'score distribution and PSI are drawn');
    assert.ok(ink[7] > 0.0025, `the estimated AUC and its band are drawn before any label (${ink[7]})`);
    assert.ok(pngSize(await readFile(files.png)).width > 1000);
  } finally {
    await cleanup();
  }
});

test('rendering before computing fails with a message saying what to run', async () => {
  const { dir, cleanup } = await makeTempDir();
  try {
    const { modelId, activities } = await fixture(dir, ['2024-05']);
    await assert.rejects(activities.renderDashboard({ asOf: '2024-06', modelId }), /no monitoring table: run computeMonitoring/);
  } finally {
    await cleanup();
  }
});

test('monitoring as of a month long after the newest data: the dashboard says the data is stale', async () => {
  const { dir, cleanup } = await makeTempDir();
  try {
    const { config, modelId, activities } = await fixture(dir, ['2024-05', '2024-06']);
    await withDuckDB(async (db) => {
      for (const month of ['2024-05', '2024-06']) {
        await writeParquetAtomic(db, 'SELECT range AS x FROM range(10)', partitionFile(datamart.sourceTable(config.DATAMART_DIR, 'bronze', 'attributes'), month));
      }
    });
    await inActivity(() => activities.computeMonitoring({ asOf: '2024-12', modelId }));
    const files = await activities.renderDashboard({ asOf: '2024-12', modelId });
    const html = await readFile(files.html, 'utf8');
    assert.ok(
      html.includes(
        '<p id="freshness" class="critical"><strong>Stale data:</strong> stale data: monitoring as of 2024-12, but the newest month with source rows is 2024-06, 6 month(s) earlier',
      ),
    );
    const svg = await renderSvg(dashboardSpec(await dashboardData({ ...monitoringSettings(config), reportsDir: config.REPORTS_DIR }, '2024-12', modelId)));
    assert.ok(svg.includes('STALE DATA: stale data: monitoring as of 2024-12'), 'the picture says it too');
  } finally {
    await cleanup();
  }
});

test('champion vs challengers: the production dashboard shows each challenger AUC beside production, month by month, named with its windows', async () => {
  const { dir, cleanup } = await makeTempDir();
  try {
    const months = monthRange('2023-07', '2023-12');
    const { config, modelId, loans, activities } = await fixture(dir, months);
    const challenger = 'dash_challenger';
    await writeMetadata(config.MODEL_BANK_DIR, metadataFor(challenger, '2023-05', makeLoans('c', 3000, seeded(6)), 0.35));
    for (const month of months) await writeMonth(config.DATAMART_DIR, challenger, month, loans.get(month)!.map((loan, i) => ({ ...loan, probability: Math.min(1, loan.probability * 0.5 + ((i * 37) % 10) / 20) })), 0.35);
    await promote(config.MODEL_BANK_DIR, modelId, 'test');
    await recordCandidate(config.MODEL_BANK_DIR, challenger, 'test: kept by the gate');
    const asOf = '2024-06';
    const champion = await inActivity(() => activities.computeMonitoring({ asOf, modelId }));
    const shadow = await inActivity(() => activities.computeMonitoring({ asOf, modelId: challenger }));
    const files = await activities.renderDashboard({ asOf, modelId });
    const html = await readFile(files.html, 'utf8');
    assert.match(html, /<h2>Champion vs challengers<\/h2>/);
    assert.match(html, /<li>dash_challenger \(trained as of 2023-05 on /);
    assert.match(html, /Production model: dash_model \(trained as of 2023-06 on /);
    const table = html.slice(html.indexOf('<table id="challengers">'), html.indexOf('</table>', html.indexOf('<table id="challengers">')));
    // The challenger's noisier scores rank worse: its AUC differs from production's on the same month.
    assert.notEqual(shadow.rows[0].auc, champion.rows[0].auc);
    for (const month of ['2023-07-01', '2023-12-01']) {
      const ours = champion.rows.find((row) => row.snapshot_date === month)!;
      const theirs = shadow.rows.find((row) => row.snapshot_date === month)!;
      assert.ok(table.includes(`<tr><td>${month}</td><td class="num">${ours.auc!.toFixed(4)}</td><td>${ours.window}</td><td class="num">${theirs.auc!.toFixed(4)}</td><td>${theirs.window}</td></tr>`), month);
    }
  } finally {
    await cleanup();
  }
});
