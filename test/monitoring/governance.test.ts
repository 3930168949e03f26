// Governance through the activity: critical → retrain, again within the cooldown → suppressed (and logged), after it
// → retrain again; warnings → alert; nothing → no_action; every call appends exactly one row, old rows kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMonitoringActivities } from '../../activities/monitoring.js';
import { readDecisionLog } from '../../core/monitoring/governance.js';
import { writeMonitoringTable } from '../../core/monitoring/table.js';
import { withDuckDB } from '../../core/duckdb.js';
import { loadConfig } from '../../lib/config.js';
import { datamart } from '../../lib/layout.js';
import type { MonitoringRow } from '../../lib/contracts.js';
import { makeTempDir } from './fixtures.js';

function row(month: string, overrides: Partial<MonitoringRow>): MonitoringRow {
  return {
    model_id: 'x', snapshot_date: `${month}-01`, n_scored: 1000, n_labelled: 1000, observed_default_rate: 0.25,
    mean_probability: 0.26, auc: 0.82, gini: 0.64, ks: 0.5, accuracy: 0.8, precision: 0.6, recall: 0.7, f1: 0.65,
    brier: 0.15, psi: 0.02, max_csi: 0.03, max_csi_feature: 'income', status: 'stable', ...overrides,
  };
}

async function writeTable(datamartDir: string, modelId: string, rows: MonitoringRow[]): Promise<void> {
  await withDuckDB((db) => writeMonitoringTable(db, rows.map((r) => ({ ...r, model_id: modelId })), datamart.monitoring(datamartDir, modelId)));
}

const log = (datamartDir: string) => withDuckDB((db) => readDecisionLog(db, datamart.decisionLog(datamartDir)));

test('critical → retrain; inside the cooldown → suppressed; after it → retrain; every decision appended', async () => {
  const { dir, cleanup } = await makeTempDir();
  try {
    const datamartDir = `${dir}/datamart`;
    const activities = createMonitoringActivities(loadConfig({ DATAMART_DIR: datamartDir, RETRAIN_COOLDOWN_DAYS: '7' }));
    // the latest mature month has AUC 0.62 < 0.70; the latest month is immature with a low PSI
    await writeTable(datamartDir, 'bad', [
      row('2024-01', { auc: 0.62, status: 'critical' }),
      row('2024-07', { auc: null, n_labelled: 0, status: 'immature', psi: 0.03 }),
    ]);
    await writeTable(datamartDir, 'good', [row('2024-01', {}), row('2024-07', { auc: null, n_labelled: 0, status: 'immature' })]);

    const first = await activities.decideGovernance({ asOf: '2024-07', modelId: 'bad', workflowId: 'monitoring-2024-07', now: '2024-08-04T06:00:00.000Z' });
    assert.equal(first.action, 'retrain');
    assert.deepEqual(first.findings.map((f) => [f.severity, f.metric, f.snapshot_date, f.value]), [['critical', 'auc', '2024-01-01', 0.62]]);
    assert.match(first.reason, /AUC 0\.6200 .* below 0\.7/);
    assert.equal((await log(datamartDir)).length, 1);

    const second = await activities.decideGovernance({ asOf: '2024-07', modelId: 'bad', workflowId: 'monitoring-2024-07b', now: '2024-08-09T06:00:00.000Z' });
    assert.equal(second.action, 'retrain_suppressed_cooldown');
    assert.match(second.reason, /2024-08-04T06:00:00\.000Z \(5\.00 days ago.*7-day cooldown/);

    const stable = await activities.decideGovernance({ asOf: '2024-07', modelId: 'good', workflowId: 'monitoring-good', now: '2024-08-09T07:00:00.000Z' });
    assert.equal(stable.action, 'no_action');
    assert.deepEqual(stable.findings, []);
    assert.match(stable.reason, /no finding: latest month 2024-07-01 PSI 0\.0200, latest mature AUC 0\.8200/);

    // eight days after the first retrain the cooldown is over (suppressed decisions do not restart it)
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
  } finally {
    await cleanup();
  }
});

test('warnings only → alert; PSI at or above the critical threshold → retrain; config thresholds apply', async () => {
  const { dir, cleanup } = await makeTempDir();
  try {
    const datamartDir = `${dir}/datamart`;
    const activities = createMonitoringActivities(loadConfig({ DATAMART_DIR: datamartDir }));
    await writeTable(datamartDir, 'warn', [row('2024-01', {}), row('2024-07', { psi: 0.15, max_csi: 0.31, max_csi_feature: 'age', auc: null, status: 'immature' })]);
    const warned = await activities.decideGovernance({ asOf: '2024-07', modelId: 'warn', workflowId: 'w1', now: '2024-08-01T00:00:00Z' });
    assert.equal(warned.action, 'alert');
    assert.deepEqual(warned.findings.map((f) => [f.severity, f.metric]), [['warning', 'psi'], ['warning', 'csi:age']]);

    await writeTable(datamartDir, 'drift', [row('2024-07', { psi: 0.2, status: 'critical' })]);
    const drifted = await activities.decideGovernance({ asOf: '2024-07', modelId: 'drift', workflowId: 'w2', now: '2024-08-01T00:00:01Z' });
    assert.equal(drifted.action, 'retrain');

    // with a stricter configuration the same 'warn' table is critical
    const strict = createMonitoringActivities(loadConfig({ DATAMART_DIR: datamartDir, PSI_CRITICAL: '0.14', RETRAIN_COOLDOWN_DAYS: '0' }));
    const strictDecision = await strict.decideGovernance({ asOf: '2024-07', modelId: 'warn', workflowId: 'w3', now: '2024-08-01T00:00:02Z' });
    assert.equal(strictDecision.action, 'retrain', 'a cooldown of 0 days never suppresses');
    assert.equal((await log(datamartDir)).length, 3);
  } finally {
    await cleanup();
  }
});

test('bad input is rejected by the activity before any work', async () => {
  const activities = createMonitoringActivities(loadConfig({ DATAMART_DIR: '/nonexistent' }));
  await assert.rejects(activities.decideGovernance({ asOf: '2024-13', modelId: 'x', workflowId: 'w', now: '2024-01-01T00:00:00Z' }), /YYYY-MM/);
  await assert.rejects(activities.decideGovernance({ asOf: '2024-01', modelId: 'x', workflowId: 'w', now: 'yesterday' }), /ISO time/);
});
