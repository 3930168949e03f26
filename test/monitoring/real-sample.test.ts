// Issue 14 on the real 15% CS611 sample, through the same functions the activities run (no Temporal needed): from
// 2024-07 no applicant has a clickstream row. Monitoring must report that as a data finding naming the source and the
// coverage drop, judge drift on the covered rows only, request no retrain, and say why in the decision log; every
// monitoring row carries its window, and governance reads out-of-sample months only.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createMonitoringActivities } from '../../activities/monitoring.js';
import { withDuckDB } from '../../core/duckdb.js';
import { registerModel } from '../../core/models/bank.js';
import { trainCandidate } from '../../core/models/candidate.js';
import { promote } from '../../core/models/registry.js';
import { buildTrainingSet } from '../../core/models/training-set.js';
import { readDecisionLog } from '../../core/monitoring/governance.js';
import { backtestOf, describeBacktest } from '../../core/monitoring/estimated-findings.js';
import { describeCalibration, readMetadata } from '../../core/models/bank.js';
import { readRegistry } from '../../core/models/registry.js';
import { releaseScoringSessions } from '../../core/scoring/model-loader.js';
import { scoreMonth } from '../../core/scoring/score-month.js';
import type { MonitoringRow } from '../../lib/contracts.js';
import { datamart } from '../../lib/layout.js';
import { monthRange } from '../../lib/months.js';
import { scratchConfig } from '../helpers/temporal.js';
import { sampleDatamart } from '../helpers/sample-cache.js';
import { incompleteGoldInputs } from '../../core/datamart/completeness.js';
import { productionStaleness } from '../../core/models/staleness.js';

const scratch = scratchConfig('monitoring-real');
const { config } = scratch;
const MONTHS = monthRange('2023-01', '2024-12');
const AS_OF = '2024-12';
let modelId = '';
let rows: MonitoringRow[] = [];

before(async () => {
  await sampleDatamart(config); // the ETL of every month
  const trainingSet = await buildTrainingSet({ datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, asOf: AS_OF });
  const candidate = await trainCandidate({ trainingSet, family: 'gblinear' });
  const workflow = { workflowId: 'training-real', runId: 'run' };
  modelId = (await registerModel({ modelBankDir: config.MODEL_BANK_DIR, trainingSet, candidate, workflow })).modelId;
  await promote(config.MODEL_BANK_DIR, modelId, 'test');
  for (const month of MONTHS) {
    await scoreMonth({ datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, month, modelId });
  }
  rows = (await createMonitoringActivities(config).computeMonitoring({ asOf: AS_OF, modelId })).rows;
});
after(async () => {
  await releaseScoringSessions();
  scratch.cleanup();
});

const month = (row: MonitoringRow) => row.snapshot_date.slice(0, 7);

test('every monitoring row carries its window: train, test and OOT months of the model, then after', () => {
  const windows = Object.fromEntries(rows.map((row) => [month(row), row.window]));
  assert.deepEqual(
    Object.entries(windows).filter(([m]) => ['2024-02', '2024-03', '2024-04', '2024-05', '2024-06', '2024-07'].includes(m)),
    [['2024-02', 'train'], ['2024-03', 'test'], ['2024-04', 'test'], ['2024-05', 'oot'], ['2024-06', 'oot'], ['2024-07', 'after']],
  );
  assert.ok(rows.filter((row) => row.window === 'after').every((row) => row.status === 'immature'), 'nothing after the OOT window is mature by 2024-12');
});

test('months without clickstream: coverage 0 against the training baseline, drift judged on covered rows only', (t) => {
  for (const row of rows) {
    t.diagnostic(`${month(row)} ${row.window}: PSI ${row.psi.toFixed(3)}, covered PSI ${row.psi_covered?.toFixed(3) ?? '—'} on ${row.n_covered}/${row.n_scored}, ${row.coverage_source ?? '-'} ${row.coverage ?? ''} vs ${row.coverage_baseline ?? ''}`);
  }
  for (const row of rows.filter((r) => month(r) >= '2024-07')) {
    assert.equal(row.coverage_source, 'clickstream', month(row));
    assert.equal(row.coverage, 0, `${month(row)}: no application covered by clickstream`);
    assert.ok(row.coverage_baseline! > 0.5, `baseline coverage ${row.coverage_baseline}`);
    assert.equal(row.n_covered, 0);
    assert.equal(row.psi_covered, null, 'no covered row: no drift to judge');
  }
  for (const row of rows.filter((r) => month(r) <= '2024-06')) {
    assert.ok(row.coverage === null || row.coverage_baseline! - row.coverage < 0.1, `${month(row)} is covered like the training rows`);
    assert.equal(row.psi_covered, row.psi, `${month(row)}: every row covered, the same PSI`);
  }
});

test('the coverage gap is a data finding: alerted, no retrain, and the decision log says why', async () => {
  const activities = createMonitoringActivities(config);
  const decision = await activities.decideGovernance({ asOf: AS_OF, modelId, workflowId: 'monitoring-2024-12', now: '2025-01-05T06:00:00.000Z' });
  const coverage = decision.findings.find((finding) => finding.metric === 'coverage:clickstream');
  assert.ok(coverage, JSON.stringify(decision.findings));
  assert.equal(coverage.kind, 'data');
  assert.equal(coverage.severity, 'critical');
  assert.match(coverage.message, /^clickstream: 0% of 2024-12 applications covered, baseline \d+% \(every month since 2024-07\)/);
  assert.ok(decision.findings.every((finding) => finding.kind === 'data'), `no drift or performance finding: ${decision.reason}`);
  assert.equal(decision.action, 'alert');
  assert.match(decision.reason, /no retrain: data findings are upstream problems a retrain cannot fix/);
  const log = await withDuckDB((db) => readDecisionLog(db, datamart.decisionLog(config.DATAMART_DIR)));
  assert.deepEqual(log.map((row) => [row.action, row.model_id, row.reason]), [['alert', modelId, decision.reason]]);
});

test('issue 30 on the real sample: every month has an estimated AUC and a band, mature months are backtested, OOT calibration recorded', async (t) => {
  const immature = rows.filter((row) => row.status === 'immature');
  assert.ok(immature.length >= 6, `the newest six months are immature as of ${AS_OF}`);
  for (const row of rows) {
    assert.ok(row.auc_estimated !== null && row.auc_estimated_low !== null && row.auc_estimated_high !== null, `${month(row)}: an estimate and a band`);
    assert.ok(row.auc_estimated_low <= row.auc_estimated && row.auc_estimated <= row.auc_estimated_high, `${month(row)}: the band holds the estimate`);
    assert.ok(Math.abs(row.expected_default_rate - row.mean_probability) < 1e-12);
    if (row.status === 'immature') assert.equal(row.calibration_p_value, null, `${month(row)}: no labels, no calibration test`);
  }
  const backtest = backtestOf(rows);
  const mature = rows.filter((row) => row.auc !== null);
  for (const row of rows) {
    t.diagnostic(
      `${month(row)} ${row.window} ${row.status}: n ${row.n_scored}, AUC ${row.auc?.toFixed(3) ?? '—'}, estimated ${row.auc_estimated!.toFixed(3)} ` +
        `[${row.auc_estimated_low!.toFixed(3)}, ${row.auc_estimated_high!.toFixed(3)}], expected default ${row.expected_default_rate.toFixed(3)}, ` +
        `observed ${row.observed_default_rate?.toFixed(3) ?? '—'}, HL p ${row.calibration_p_value?.toFixed(4) ?? '—'}`,
    );
  }
  t.diagnostic(describeBacktest(backtest));
  assert.equal(backtest.months, mature.length);
  assert.ok(backtest.months >= 10, `mature months to backtest on: ${backtest.months}`);
  assert.ok(backtest.mean_absolute_error! < 0.1, `the estimate is near the realized AUC on average: ${backtest.mean_absolute_error}`);
  assert.ok(mature.some((row) => row.calibration_p_value !== null), 'mature months are tested for calibration');

  const metadata = await readMetadata(config.MODEL_BANK_DIR, modelId);
  assert.ok(metadata.calibration, 'the model records its OOT calibration at training');
  assert.equal(metadata.calibration.reliability.length, 10);
  assert.equal(metadata.calibration.alpha, config.CALIBRATION_ALPHA);
  t.diagnostic(`OOT calibration: ${describeCalibration(metadata.calibration)}`);
  const registered = (await readRegistry(config.MODEL_BANK_DIR)).history.find((event) => event.model_id === modelId && event.stage === 'candidate');
  assert.ok(registered?.reason.includes(describeCalibration(metadata.calibration)), 'training says whether the model is calibrated on OOT');
});

test('the coverage gap is not incomplete data (issue 27): no gold month up to 2024-12 lists an incomplete source, so the training read them all', async () => {
  assert.deepEqual(await incompleteGoldInputs(config.DATAMART_DIR, AS_OF), [], 'nothing blocks a training as of 2024-12');
  assert.ok(modelId, 'the model was trained on every month, the gap months included');
  assert.equal((await productionStaleness(config.DATAMART_DIR, config.MODEL_BANK_DIR)).stale, false, 'and production is trained on the current data');
});
