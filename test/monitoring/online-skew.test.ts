// Training-serving skew (issue 17, the monitoring side): monitoring compares each month's online scores of the model
// (gold/predictions_online, written by the scoring API's writer) with its batch scores of the same month, stores the
// PSI and the counts in gold/monitoring_online, and governance raises a skew finding on the latest judged month:
// alerted and logged, never a retrain. Months without online scores give nothing; another model's online rows are not
// this model's; a month not batch-scored yet has no PSI; a month with too few online scores is shown, not judged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { createMonitoringActivities } from '../../activities/monitoring.js';
import { queryRows, readParquet, withDuckDB } from '../../core/duckdb.js';
import { promote } from '../../core/models/registry.js';
import { chooseAction, readDecisionLog } from '../../core/monitoring/governance.js';
import { readOnlineSkewTable } from '../../core/monitoring/online-skew.js';
import { loadConfig } from '../../lib/config.js';
import { onlineSkewRowSchema, type Finding, type ModelMetadata } from '../../lib/contracts.js';
import { datamart, partitionDir } from '../../lib/layout.js';
import { inActivity } from '../helpers/activity.js';
import { makeLoans, makeTempDir, metadataFor, seeded, writeMetadata, writeMonth, writeOnlineMonth, type LoanRow } from './fixtures.js';

const MODEL = 'served';
const MONTHS = ['2023-07', '2023-08', '2023-09', '2023-10'];
const skewUp = (probability: number) => Math.min(1, probability + 0.15);

/** PSI of online against batch scores, counted here without the project's binning: bin = number of edges below. */
function expectedPsi(baseline: ModelMetadata['baseline'], batch: number[], online: number[]): number {
  const shares = (scores: number[]) => {
    const counts = new Array(baseline.score.edges.length + 1).fill(0);
    for (const score of scores) counts[baseline.score.edges.filter((edge) => score > edge).length]++;
    return counts.map((count) => Math.max(count / scores.length, 1e-4));
  };
  const [e, a] = [shares(batch), shares(online)];
  return e.reduce((sum, expected, bin) => sum + (a[bin] - expected) * Math.log(a[bin] / expected), 0);
}

/** A production model trained as of 2023-06 and four batch-scored application months of 300 loans. */
async function scratch(env: Record<string, string> = {}) {
  const { dir, cleanup } = await makeTempDir();
  const config = loadConfig({ DATAMART_DIR: `${dir}/datamart`, MODEL_BANK_DIR: `${dir}/model_bank`, ...env });
  const metadata = metadataFor(MODEL, '2023-06', makeLoans('b', 2000, seeded(1)), 0.35);
  await writeMetadata(config.MODEL_BANK_DIR, metadata);
  await writeMetadata(config.MODEL_BANK_DIR, metadataFor('other', '2023-06', makeLoans('b', 2000, seeded(1)), 0.35));
  await promote(config.MODEL_BANK_DIR, MODEL, 'test');
  const loans = new Map<string, LoanRow[]>();
  for (const [i, month] of MONTHS.entries()) {
    loans.set(month, makeLoans(month, 300, seeded(40 + i)));
    await writeMonth(config.DATAMART_DIR, MODEL, month, loans.get(month)!, 0.35);
  }
  const activities = createMonitoringActivities(config);
  const online = () => withDuckDB((db) => readOnlineSkewTable(db, datamart.monitoringOnline(config.DATAMART_DIR, MODEL)));
  const decisions = () => withDuckDB((db) => readDecisionLog(db, datamart.decisionLog(config.DATAMART_DIR)));
  return { config, metadata, loans, activities, online, decisions, cleanup };
}

test('online vs batch per month: PSI 0 for the same scores, the skewed month measured, nothing for months without online scores', async () => {
  const run = await scratch();
  try {
    const { config, loans } = run;
    await writeOnlineMonth(config.DATAMART_DIR, MODEL, '2023-08', loans.get('2023-08')!);
    await writeOnlineMonth(config.DATAMART_DIR, 'other', '2023-09', loans.get('2023-09')!, skewUp); // another model's
    await writeOnlineMonth(config.DATAMART_DIR, MODEL, '2023-10', loans.get('2023-10')!.slice(0, 120)); // two flushes
    await writeOnlineMonth(config.DATAMART_DIR, MODEL, '2023-10', loans.get('2023-10')!.slice(120), skewUp);
    await writeOnlineMonth(config.DATAMART_DIR, MODEL, '2023-11', makeLoans('new', 40, seeded(9))); // not batch-scored yet
    await writeOnlineMonth(config.DATAMART_DIR, MODEL, '2023-12', makeLoans('late', 40, seeded(10))); // after the as-of date

    const computed = await inActivity(() => run.activities.computeMonitoring({ asOf: '2023-11', modelId: MODEL }));
    assert.equal(computed.rows.length, 4, 'the monitoring table is unchanged: one row per batch-scored month');
    const rows = await run.online();
    const october = loans.get('2023-10')!;
    const octoberOnline = [...october.slice(0, 120).map((loan) => loan.probability), ...october.slice(120).map((loan) => skewUp(loan.probability))];
    assert.deepEqual(rows.map((row) => [row.snapshot_date, row.n_online, row.n_batch]), [
      ['2023-08-01', 300, 300],
      ['2023-10-01', 300, 300],
      ['2023-11-01', 40, 0],
    ]);
    assert.equal(rows[0].online_psi, 0, 'online scores equal to the batch scores: PSI 0');
    const skewPsi = expectedPsi(run.metadata.baseline, october.map((loan) => loan.probability), octoberOnline);
    assert.ok(skewPsi > 0.1, `the skew is one the threshold sees (${skewPsi})`);
    assert.ok(Math.abs(rows[1].online_psi! - skewPsi) < 1e-12, `PSI ${rows[1].online_psi} vs ${skewPsi} counted by hand`);
    assert.equal(rows[2].online_psi, null, 'no batch score to compare with yet');

    // the stored table: the contract's columns, snapshot_date a DATE, atomically rewritten by the next run
    const types = await withDuckDB((db) =>
      queryRows<{ column_name: string; column_type: string }>(db, `DESCRIBE SELECT * FROM ${readParquet(datamart.monitoringOnline(config.DATAMART_DIR, MODEL))}`),
    );
    assert.deepEqual(types.map((t) => t.column_name).sort(), Object.keys(onlineSkewRowSchema.shape).sort());
    assert.equal(types.find((t) => t.column_name === 'snapshot_date')?.column_type, 'DATE');

    // the other model sees only its own online month, with no batch scores of its own
    await inActivity(() => run.activities.computeMonitoring({ asOf: '2023-11', modelId: 'other' }));
    const other = await withDuckDB((db) => readOnlineSkewTable(db, datamart.monitoringOnline(config.DATAMART_DIR, 'other')));
    assert.deepEqual(other.map((row) => [row.snapshot_date, row.n_online, row.n_batch, row.online_psi]), [['2023-09-01', 300, 0, null]]);
  } finally {
    await run.cleanup();
  }
});

test('governance: skew on the latest judged month → alert with the reason, never a retrain; the same scores → no finding', async () => {
  const run = await scratch();
  try {
    const { config, loans } = run;
    await writeOnlineMonth(config.DATAMART_DIR, MODEL, '2023-08', loans.get('2023-08')!, skewUp); // older: history, not news
    await writeOnlineMonth(config.DATAMART_DIR, MODEL, '2023-10', loans.get('2023-10')!, skewUp);
    await inActivity(() => run.activities.computeMonitoring({ asOf: '2023-10', modelId: MODEL }));
    const skewed = await run.activities.decideGovernance({ asOf: '2023-10', modelId: MODEL, workflowId: 'monitoring-skewed', now: '2023-11-05T06:00:00.000Z' });
    const psi = (await run.online()).find((row) => row.snapshot_date === '2023-10-01')!.online_psi!;
    assert.deepEqual(skewed.findings.map((f) => [f.severity, f.kind, f.metric, f.snapshot_date, f.value, f.threshold]), [
      ['warning', 'skew', 'online_psi', '2023-10-01', psi, 0.1],
    ]);
    assert.equal(skewed.action, 'alert');
    assert.match(skewed.findings[0].message, /^online scores of 2023-10 \(300\) against its batch scores \(300\) by the same model: PSI \d+\.\d{4}, at or above 0\.1: training-serving skew$/);
    assert.match(skewed.reason, /^skew: online scores of 2023-10 .*; no retrain: training-serving skew is not concept drift/);

    // the serving path fixed: October's online scores are the batch scores again, the older skewed month is not judged
    await rm(partitionDir(datamart.predictionsOnline(config.DATAMART_DIR), '2023-10'), { recursive: true });
    await writeOnlineMonth(config.DATAMART_DIR, MODEL, '2023-10', loans.get('2023-10')!);
    await inActivity(() => run.activities.computeMonitoring({ asOf: '2023-10', modelId: MODEL }));
    const fixed = await run.activities.decideGovernance({ asOf: '2023-10', modelId: MODEL, workflowId: 'monitoring-fixed', now: '2023-11-12T06:00:00.000Z' });
    assert.equal((await run.online()).find((row) => row.snapshot_date === '2023-10-01')!.online_psi, 0);
    assert.deepEqual(fixed.findings, []);
    assert.equal(fixed.action, 'no_action');
    assert.deepEqual((await run.decisions()).map((d) => [d.workflow_id, d.action]), [['monitoring-skewed', 'alert'], ['monitoring-fixed', 'no_action']]);
    assert.deepEqual(JSON.parse((await run.decisions())[0].findings_json), skewed.findings, 'the log holds the skew finding');
  } finally {
    await run.cleanup();
  }
});

test('a month with fewer online scores than ONLINE_PSI_MIN_ROWS is stored but not judged; the threshold is configurable', async () => {
  const run = await scratch({ ONLINE_PSI_MIN_ROWS: '301', ONLINE_PSI_WARNING: '0.05' });
  try {
    const { config, loans } = run;
    await writeOnlineMonth(config.DATAMART_DIR, MODEL, '2023-10', loans.get('2023-10')!, skewUp);
    await inActivity(() => run.activities.computeMonitoring({ asOf: '2023-10', modelId: MODEL }));
    const decision = await run.activities.decideGovernance({ asOf: '2023-10', modelId: MODEL, workflowId: 'monitoring-few', now: '2023-11-05T06:00:00.000Z' });
    assert.ok((await run.online())[0].online_psi! > 0.1, 'the PSI is stored');
    assert.deepEqual(decision.findings, [], '300 online scores < 301: not judged');
    assert.equal(decision.action, 'no_action');
  } finally {
    await run.cleanup();
  }
});

test('chooseAction: skew findings never retrain, even critical ones; beside a critical drift the retrain names the skew as alert-only', () => {
  const skew: Finding = { severity: 'critical', kind: 'skew', metric: 'online_psi', snapshot_date: '2024-05-01', value: 0.9, threshold: 0.1, message: 'online PSI 0.9' };
  const drift: Finding = { severity: 'critical', kind: 'drift', metric: 'psi', snapshot_date: '2024-05-01', value: 0.3, threshold: 0.2, message: 'PSI 0.3' };
  const potential = { windowEnd: '2023-12', newLabelledMonths: ['2024-01', '2024-02'] };
  const now = new Date('2024-06-02T06:00:00.000Z');
  const alone = chooseAction([skew], [], now, 7, 'context', potential);
  assert.equal(alone.action, 'alert');
  assert.equal(alone.reason, 'skew: online PSI 0.9; no retrain: training-serving skew is not concept drift, the online path must score as the batch path does');
  const withDrift = chooseAction([drift, skew], [], now, 7, 'context', potential);
  assert.equal(withDrift.action, 'retrain');
  assert.equal(withDrift.reason, 'critical: PSI 0.3; skew: online PSI 0.9 (alerted, never retrained on)');
  const withData = chooseAction([{ ...skew, kind: 'data', message: 'no clickstream' }, skew], [], now, 7, 'context', potential);
  assert.equal(withData.action, 'alert');
  assert.match(withData.reason, /^data: no clickstream; no retrain: .*; skew: online PSI 0\.9 \(alerted, never retrained on\)$/);
});
