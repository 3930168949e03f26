// Automatic rollback on degradation, from real models: production learnt a concept that no longer holds (trained on
// stores where the risk factors act the other way round), the previous production model ranks the same mature
// `after` rows far better. Governance's paired test finds production significantly worse → rollback, alert, a
// promotions.parquet row; with AUTO_ROLLBACK=false → the alert and a `keep` row only. Then the same two models as
// production and challenger: the challenger's shadow evidence proposes (or, switched on, performs) its promotion.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../lib/config.js';
import { registerModel } from '../../core/models/bank.js';
import { trainCandidate } from '../../core/models/candidate.js';
import { buildTrainingSet } from '../../core/models/training-set.js';
import { promote, readRegistry } from '../../core/models/registry.js';
import { readPromotionLog } from '../../core/models/promotion-log.js';
import { releaseScoringSessions } from '../../core/scoring/model-loader.js';
import { createMonitoringActivities } from '../../activities/monitoring.js';
import { scratchDir, STANDARD_STORES, writeSyntheticStores } from '../models/synthetic.js';
import { startWebhook, type Webhook } from '../helpers/webhook.js';
import { writeFileSync } from 'node:fs';
import { modelBank } from '../../lib/layout.js';

let cleanup: () => Promise<void>;
let config: Config;
let webhook: Webhook;
const ids = { previous: '', degraded: '' };

before(async () => {
  const scratch = await scratchDir('model-decisions');
  cleanup = scratch.cleanup;
  webhook = await startWebhook();
  config = loadConfig({ DATAMART_DIR: join(scratch.dir, 'datamart'), MODEL_BANK_DIR: join(scratch.dir, 'model_bank'), ALERT_WEBHOOK_URL: webhook.url });
  const oldConcept = join(scratch.dir, 'old-concept');
  await writeSyntheticStores(config.DATAMART_DIR, STANDARD_STORES);
  await writeSyntheticStores(oldConcept, { ...STANDARD_STORES, seed: 17, signal: -1 });
  const train = async (datamartDir: string) => {
    const set = await buildTrainingSet({ datamartDir, modelBankDir: config.MODEL_BANK_DIR, asOf: '2024-06' });
    const candidate = await trainCandidate({ trainingSet: set, family: 'gbtree' });
    return (await registerModel({ modelBankDir: config.MODEL_BANK_DIR, trainingSet: set, candidate, workflow: { workflowId: 'test', runId: 'run' } })).modelId;
  };
  ids.previous = await train(config.DATAMART_DIR);
  ids.degraded = await train(oldConcept);
  await promote(config.MODEL_BANK_DIR, ids.previous, 'setup: first production model');
  await promote(config.MODEL_BANK_DIR, ids.degraded, 'setup: promoted by an operator');
});
after(async () => {
  await releaseScoringSessions();
  await webhook.close();
  await cleanup();
});

const request = (now: string) => ({ asOf: '2024-12', modelId: ids.degraded, workflowId: 'monitoring-2024-12', now });

test('production significantly worse than the previous model on the same mature after-months: automatic rollback, alert, decision row', async () => {
  const outcome = await createMonitoringActivities(config).decideModels(request('2026-02-01T06:00:00.000Z'));
  assert.equal(outcome.registryChanged, true);
  assert.equal((await readRegistry(config.MODEL_BANK_DIR)).production, ids.previous);
  const rows = (await readPromotionLog(config.DATAMART_DIR)).filter((row) => row.decided_at === '2026-02-01T06:00:00.000Z');
  assert.equal(rows.length, 1);
  const [row] = rows;
  assert.deepEqual([row.decided_by, row.action, row.candidate_model_id, row.production_model_id], ['governance', 'rollback', ids.previous, ids.degraded]);
  // Production's after-months (its OOT ends 2023-12), labels mature by 2024-12: 2024-01..2024-06, 250 rows each.
  assert.equal(row.months_compared, '2024-01..2024-06');
  assert.equal(row.n_rows, 1500);
  assert.ok(row.auc_diff_low! > 0, `the whole interval of previous − production above 0: [${row.auc_diff_low}, ${row.auc_diff_high}]`);
  assert.ok(row.p_value! < 0.05);
  assert.match(row.reason, /^automatic rollback: production is significantly worse on mature after-months/);
  assert.equal(webhook.received.length, 1);
  assert.match(JSON.stringify(webhook.received[0]), /"kind":"model".*automatic rollback/);
  // A retried activity (same workflow time) decides nothing again.
  const retried = await createMonitoringActivities(config).decideModels(request('2026-02-01T06:00:00.000Z'));
  assert.equal(retried.registryChanged, false);
  assert.equal((await readRegistry(config.MODEL_BANK_DIR)).production, ids.previous);
});

test('with AUTO_ROLLBACK=false the same evidence is alerted and logged as keep; production stays', async () => {
  await promote(config.MODEL_BANK_DIR, ids.degraded, 'setup: promoted again');
  const alertsBefore = webhook.received.length;
  const off = createMonitoringActivities({ ...config, AUTO_ROLLBACK: false });
  const outcome = await off.decideModels(request('2026-02-08T06:00:00.000Z'));
  assert.equal(outcome.registryChanged, false);
  assert.equal((await readRegistry(config.MODEL_BANK_DIR)).production, ids.degraded);
  const rows = (await readPromotionLog(config.DATAMART_DIR)).filter((row) => row.decided_at === '2026-02-08T06:00:00.000Z');
  assert.deepEqual(rows.map((row) => [row.action, row.candidate_model_id, row.production_model_id]), [['keep', ids.previous, ids.degraded]]);
  assert.match(rows[0].reason, /AUTO_ROLLBACK is off: alerted only/);
  assert.equal(webhook.received.length, alertsBefore + 1);
});

test('a challenger that wins on shadow months out of sample for both is proposed (AUTO_PROMOTE_CHALLENGER=false) or promoted (true)', async () => {
  // Production: the model of the old concept, with no earlier production model; the other model is a challenger.
  const registryFile = modelBank.registry(config.MODEL_BANK_DIR);
  const at = '2026-01-01T00:00:00.000Z';
  writeFileSync(
    registryFile,
    JSON.stringify({
      production: ids.degraded,
      history: [
        { model_id: ids.degraded, stage: 'production', at, reason: 'setup' },
        { model_id: ids.previous, stage: 'candidate', at, reason: 'setup: kept by the gate' },
      ],
    }),
  );
  const proposed = await createMonitoringActivities(config).decideModels(request('2026-03-01T06:00:00.000Z'));
  assert.equal(proposed.registryChanged, false);
  assert.equal((await readRegistry(config.MODEL_BANK_DIR)).production, ids.degraded);
  const [proposal] = (await readPromotionLog(config.DATAMART_DIR)).filter((row) => row.decided_at === '2026-03-01T06:00:00.000Z');
  assert.deepEqual([proposal.action, proposal.candidate_model_id, proposal.production_model_id], ['keep', ids.previous, ids.degraded]);
  // Both models' train and test windows end 2023-10: 2023-11..2024-06 are out of sample for both (OOT and after).
  assert.equal(proposal.months_compared, '2023-11..2024-06');
  assert.ok(proposal.auc_diff_low! > -0.01 && proposal.auc_diff! > 0);
  assert.match(proposal.reason, /^proposal: promote challenger .* \(trained as of 2024-06 on 2023-01\.\.2023-08, test 2023-09\.\.2023-10, OOT 2023-11\.\.2023-12\) on shadow evidence/);
  assert.match(JSON.stringify(webhook.received.at(-1)), /proposal: promote challenger/);

  const auto = createMonitoringActivities({ ...config, AUTO_PROMOTE_CHALLENGER: true });
  const promoted = await auto.decideModels(request('2026-03-08T06:00:00.000Z'));
  assert.equal(promoted.registryChanged, true);
  assert.equal((await readRegistry(config.MODEL_BANK_DIR)).production, ids.previous);
  const [row] = (await readPromotionLog(config.DATAMART_DIR)).filter((r) => r.decided_at === '2026-03-08T06:00:00.000Z');
  assert.deepEqual([row.decided_by, row.action, row.candidate_model_id], ['governance', 'promote', ids.previous]);
});

test('the demo default: AUTO_ROLLBACK is on unless switched off', () => {
  assert.equal(loadConfig({}).AUTO_ROLLBACK, true);
  assert.equal(loadConfig({ AUTO_ROLLBACK: 'false' }).AUTO_ROLLBACK, false);
  assert.equal(loadConfig({}).AUTO_PROMOTE_CHALLENGER, false);
});
