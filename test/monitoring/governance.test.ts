// Governance through the activity: critical → retrain, again within the cooldown → suppressed (and logged), after it
// → retrain again; warnings → alert; nothing → no_action; data findings → alert, never retrain; no new labelled month
// → no retrain; a model that is not in production → monitor_only; a forced retrain is logged as bypassing the
// cooldown; every call appends exactly one row, old rows kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMonitoringActivities } from '../../activities/monitoring.js';
import { readDecisionLog } from '../../core/monitoring/governance.js';
import { writeMonitoringTable } from '../../core/monitoring/table.js';
import { promote } from '../../core/models/registry.js';
import { withDuckDB } from '../../core/duckdb.js';
import { loadConfig } from '../../lib/config.js';
import { datamart } from '../../lib/layout.js';
import type { MonitoringRow } from '../../lib/contracts.js';
import { makeLoans, makeTempDir, metadataFor, seeded, writeMetadata, writeMonth } from './fixtures.js';

function row(month: string, overrides: Partial<MonitoringRow>): MonitoringRow {
  return {
    model_id: 'x', snapshot_date: `${month}-01`, n_scored: 1000, n_labelled: 1000, observed_default_rate: 0.25,
    mean_probability: 0.26, auc: 0.82, gini: 0.64, ks: 0.5, accuracy: 0.8, precision: 0.6, recall: 0.7, f1: 0.65,
    brier: 0.15, psi: 0.02, max_csi: 0.03, max_csi_feature: 'income', status: 'stable', window: 'after',
    coverage_source: null, coverage: null, coverage_baseline: null, psi_covered: overrides.psi ?? 0.02, n_covered: 1000,
    max_null_jump: null, max_null_jump_feature: null, auc_estimated: null, auc_estimated_low: null,
    auc_estimated_high: null, expected_default_rate: 0.3, calibration_p_value: null, attribution_shift: null,
    max_attribution_shift: null, max_attribution_shift_feature: null, ...overrides,
  };
}

async function writeTable(datamartDir: string, modelId: string, rows: MonitoringRow[]): Promise<void> {
  await withDuckDB((db) => writeMonitoringTable(db, rows.map((r) => ({ ...r, model_id: modelId })), datamart.monitoring(datamartDir, modelId)));
}

const log = (datamartDir: string) => withDuckDB((db) => readDecisionLog(db, datamart.decisionLog(datamartDir)));

/**
 * A scratch datamart and model bank: models trained as of 2023-06 (OOT window 2023-06), application months 2023-07 and
 * 2023-08 with labels (mature from 2024-02): new labelled months a retrain could learn from.
 */
async function scratch(models: string[], env: Record<string, string> = {}) {
  const { dir, cleanup } = await makeTempDir();
  const datamartDir = `${dir}/datamart`;
  const modelBankDir = `${dir}/model_bank`;
  for (const id of models) await writeMetadata(modelBankDir, metadataFor(id, '2023-06', makeLoans('b', 500, seeded(1)), 0.35));
  for (const [i, month] of ['2023-07', '2023-08'].entries()) await writeMonth(datamartDir, models[0], month, makeLoans(month, 300, seeded(5 + i)), 0.35);
  const config = loadConfig({ DATAMART_DIR: datamartDir, MODEL_BANK_DIR: modelBankDir, ...env });
  const production = (id: string) => promote(modelBankDir, id, 'test');
  return { dir, datamartDir, modelBankDir, config, activities: createMonitoringActivities(config), production, cleanup };
}

test('critical → retrain; inside the cooldown → suppressed; after it → retrain; every decision appended', async () => {
  const run = await scratch(['bad', 'good'], { RETRAIN_COOLDOWN_DAYS: '7' });
  try {
    const { datamartDir, activities } = run;
    // the latest mature month has AUC 0.62 < 0.70; the latest month is immature with a low PSI
    await writeTable(datamartDir, 'bad', [
      row('2024-01', { auc: 0.62, status: 'critical' }),
      row('2024-07', { auc: null, n_labelled: 0, status: 'immature', psi: 0.03 }),
    ]);
    await writeTable(datamartDir, 'good', [row('2024-01', {}), row('2024-07', { auc: null, n_labelled: 0, status: 'immature' })]);

    await run.production('bad');
    const first = await activities.decideGovernance({ asOf: '2024-07', modelId: 'bad', workflowId: 'monitoring-2024-07', now: '2024-08-04T06:00:00.000Z' });
    assert.equal(first.action, 'retrain');
    assert.deepEqual(first.findings.map((f) => [f.severity, f.kind, f.metric, f.snapshot_date, f.value]), [['critical', 'performance', 'auc', '2024-01-01', 0.62]]);
    assert.match(first.reason, /AUC 0\.6200 .* below 0\.7/);
    assert.equal((await log(datamartDir)).length, 1);

    const second = await activities.decideGovernance({ asOf: '2024-07', modelId: 'bad', workflowId: 'monitoring-2024-07b', now: '2024-08-09T06:00:00.000Z' });
    assert.equal(second.action, 'retrain_suppressed_cooldown');
    assert.match(second.reason, /2024-08-04T06:00:00\.000Z \(5\.00 days ago.*7-day cooldown/);

    await run.production('good');
    const stable = await activities.decideGovernance({ asOf: '2024-07', modelId: 'good', workflowId: 'monitoring-good', now: '2024-08-09T07:00:00.000Z' });
    assert.equal(stable.action, 'no_action');
    assert.deepEqual(stable.findings, []);
    assert.match(stable.reason, /no finding: latest out-of-sample month 2024-07-01 PSI 0\.0200, latest mature AUC 0\.8200/);

    // eight days after the first retrain the cooldown is over (suppressed decisions do not restart it)
    await run.production('bad');
    const third = await activities.decideGovernance({ asOf: '2024-08', modelId: 'bad', workflowId: 'monitoring-2024-08', now: '2024-08-12T06:00:01.000Z' });
    assert.equal(third.action, 'retrain');

    const decisions = await log(datamartDir);
    assert.deepEqual(decisions.map((d) => [d.action, d.model_id, d.workflow_id]), [
      ['retrain', 'bad', 'monitoring-2024-07'],
      ['retrain_suppressed_cooldown', 'bad', 'monitoring-2024-07b'],
      ['no_action', 'good', 'monitoring-good'],
      ['retrain', 'bad', 'monitoring-2024-08'],
    ]);
    assert.equal(decisions[1].reason, second.reason);
    assert.deepEqual(JSON.parse(decisions[1].findings_json), second.findings);
    assert.equal(decisions[0].decided_at, '2024-08-04T06:00:00.000Z');

    // a retried activity (same workflow, same clock) returns the decision already logged instead of a second row
    const retried = await activities.decideGovernance({ asOf: '2024-08', modelId: 'bad', workflowId: 'monitoring-2024-08', now: '2024-08-12T06:00:01.000Z' });
    assert.equal(retried.action, 'retrain');
    assert.equal((await log(datamartDir)).length, 4);

    // an operator's forced retrain two days later: inside the cooldown, logged as bypassing it, and it restarts it
    const forced = await activities.recordForcedRetrain({ asOf: '2024-08', reason: 'operator', workflowId: 'model-lifecycle', now: '2024-08-14T06:00:00.000Z' });
    assert.match(forced.reason, /^forced retrain: operator; cooldown bypassed: a retrain was decided at 2024-08-12T06:00:01\.000Z \(by monitoring-2024-08\), within the 7-day cooldown$/);
    const afterForced = await activities.decideGovernance({ asOf: '2024-08', modelId: 'bad', workflowId: 'monitoring-2024-08c', now: '2024-08-20T06:00:00.000Z' });
    assert.equal(afterForced.action, 'retrain_suppressed_cooldown');
    assert.match(afterForced.reason, /decided at 2024-08-14T06:00:00\.000Z \(6\.00 days ago, by model-lifecycle\)/);
    assert.deepEqual((await log(datamartDir)).slice(-2).map((d) => d.action), ['retrain_forced', 'retrain_suppressed_cooldown']);
  } finally {
    await run.cleanup();
  }
});

test('warnings only → alert; PSI at or above the critical threshold → retrain; config thresholds apply', async () => {
  const run = await scratch(['warn', 'drift']);
  try {
    const { datamartDir, activities } = run;
    await writeTable(datamartDir, 'warn', [row('2024-01', {}), row('2024-07', { psi: 0.15, max_csi: 0.31, max_csi_feature: 'age', auc: null, status: 'immature' })]);
    await run.production('warn');
    const warned = await activities.decideGovernance({ asOf: '2024-07', modelId: 'warn', workflowId: 'w1', now: '2024-08-01T00:00:00Z' });
    assert.equal(warned.action, 'alert');
    assert.deepEqual(warned.findings.map((f) => [f.severity, f.metric]), [['warning', 'psi'], ['warning', 'csi:age']]);

    await writeTable(datamartDir, 'drift', [row('2024-07', { psi: 0.2, status: 'critical' })]);
    await run.production('drift');
    const drifted = await activities.decideGovernance({ asOf: '2024-07', modelId: 'drift', workflowId: 'w2', now: '2024-08-01T00:00:01Z' });
    assert.equal(drifted.action, 'retrain');

    // with a stricter configuration the same 'warn' table is critical
    const strict = createMonitoringActivities({ ...run.config, PSI_CRITICAL: 0.14, RETRAIN_COOLDOWN_DAYS: 0 });
    await run.production('warn');
    const strictDecision = await strict.decideGovernance({ asOf: '2024-07', modelId: 'warn', workflowId: 'w3', now: '2024-08-01T00:00:02Z' });
    assert.equal(strictDecision.action, 'retrain', 'a cooldown of 0 days never suppresses');
    assert.equal((await log(datamartDir)).length, 3);
  } finally {
    await run.cleanup();
  }
});

test('only out-of-sample months are judged: a critical PSI in the OOT window is not a finding', async () => {
  const run = await scratch(['m']);
  try {
    await writeTable(run.datamartDir, 'm', [row('2023-06', { window: 'oot', psi: 0.5, auc: 0.55, status: 'critical' }), row('2024-01', { psi: 0.01 })]);
    await run.production('m');
    const decision = await run.activities.decideGovernance({ asOf: '2024-07', modelId: 'm', workflowId: 'w', now: '2024-08-01T00:00:00Z' });
    assert.equal(decision.action, 'no_action', decision.reason);
    assert.deepEqual(decision.findings, []);
  } finally {
    await run.cleanup();
  }
});

test('a coverage gap is a data finding: alerted, never a retrain, and the decision says why', async () => {
  const run = await scratch(['m']);
  try {
    // clickstream covers none of 2024-06 and 2024-07 (baseline 72%); on the covered rows the score PSI is low
    const gap = { coverage_source: 'clickstream', coverage: 0, coverage_baseline: 0.72, psi: 0.35, psi_covered: null, n_covered: 0, auc: null, status: 'immature' as const };
    await writeTable(run.datamartDir, 'm', [row('2024-05', {}), row('2024-06', gap), row('2024-07', gap)]);
    await run.production('m');
    const decision = await run.activities.decideGovernance({ asOf: '2024-07', modelId: 'm', workflowId: 'w', now: '2024-08-01T00:00:00Z' });
    assert.equal(decision.action, 'alert');
    assert.deepEqual(decision.findings.map((f) => [f.kind, f.severity, f.metric, f.value]), [['data', 'critical', 'coverage:clickstream', 0]]);
    assert.match(decision.findings[0].message, /^clickstream: 0% of 2024-07 applications covered, baseline 72% \(every month since 2024-06\)/);
    assert.match(decision.reason, /^data: clickstream: 0% of 2024-07 .*; no retrain: data findings are upstream problems a retrain cannot fix$/);
    const [logged] = await log(run.datamartDir);
    assert.equal(logged.reason, decision.reason);
  } finally {
    await run.cleanup();
  }
});

test('a critical finding without a new labelled month is not worth a retrain', async () => {
  const run = await scratch(['m']);
  try {
    await writeTable(run.datamartDir, 'm', [row('2024-01', { psi: 0.4, status: 'critical' })]);
    await run.production('m');
    // as of 2023-12 the first application month after the window (2023-07) is not labelled yet: its label month is 2024-01
    const early = await run.activities.decideGovernance({ asOf: '2023-12', modelId: 'm', workflowId: 'w1', now: '2024-01-05T00:00:00Z' });
    assert.equal(early.action, 'retrain_not_useful');
    assert.match(early.reason, /no retrain: no labelled application month after the model's window \(ends 2023-06\), a retrain would learn from the same months/);
    const later = await run.activities.decideGovernance({ asOf: '2024-02', modelId: 'm', workflowId: 'w2', now: '2024-03-05T00:00:00Z' });
    assert.equal(later.action, 'retrain', 'labels of 2023-07 and 2023-08 are mature by 2024-02');
  } finally {
    await run.cleanup();
  }
});

test('a model that is not in production is monitored, not governed', async () => {
  const run = await scratch(['prod', 'cand']);
  try {
    await writeTable(run.datamartDir, 'cand', [row('2024-01', { auc: 0.5, status: 'critical' })]);
    await run.production('prod');
    const decision = await run.activities.decideGovernance({ asOf: '2024-02', modelId: 'cand', workflowId: 'w', now: '2024-03-01T00:00:00Z' });
    assert.equal(decision.action, 'monitor_only');
    assert.match(decision.reason, /^cand is not the production model \(prod\): monitoring written, governance acts on the production model only; findings: AUC 0\.5000/);
    assert.equal(decision.findings.length, 1);
  } finally {
    await run.cleanup();
  }
});

test('bad input is rejected by the activity before any work', async () => {
  const activities = createMonitoringActivities(loadConfig({ DATAMART_DIR: '/nonexistent' }));
  await assert.rejects(activities.decideGovernance({ asOf: '2024-13', modelId: 'x', workflowId: 'w', now: '2024-01-01T00:00:00Z' }), /YYYY-MM/);
  await assert.rejects(activities.decideGovernance({ asOf: '2024-01', modelId: 'x', workflowId: 'w', now: 'yesterday' }), /ISO time/);
});
