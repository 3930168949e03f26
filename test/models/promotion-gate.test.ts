// The promotion gate compares two models only on rows out of sample for both (SPEC §4b), with DeLong's paired test,
// and every decision lands in gold/governance/promotions.parquet. Real models: libxgboost-trained, scored through
// their registered ONNX artifacts, on synthetic stores of known signal (2023-01..2024-12, labels to 2024-12).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { loadConfig, type Config } from '../../lib/config.js';
import { registerModel } from '../../core/models/bank.js';
import { trainCandidate } from '../../core/models/candidate.js';
import { buildTrainingSet } from '../../core/models/training-set.js';
import { readRegistry } from '../../core/models/registry.js';
import { readPromotionLog } from '../../core/models/promotion-log.js';
import { releaseScoringSessions } from '../../core/scoring/model-loader.js';
import { evaluatePromotionGate, pairedComparison } from '../../core/scoring/promotion-gate.js';
import { createModelBankActivities } from '../../activities/model-bank.js';
import type { Params } from '../../lib/model-summaries.js';
import { scratchDir, STANDARD_STORES, writeSyntheticStores } from './synthetic.js';

let cleanup: () => Promise<void>;
let config: Config;
const workflow = { workflowId: 'training-test', runId: 'run' };
/** production: as of 2024-12 (train 2023-01..2024-02, test 2024-03..04, OOT 2024-05..06); older: as of 2024-06 (OOT 2023-11..12). */
const ids = { production: '', older: '', weakOlder: '', previous: '' };

async function train(asOf: string, params?: Params): Promise<string> {
  const set = await buildTrainingSet({ datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, asOf });
  const candidate = await trainCandidate({ trainingSet: set, family: 'gbtree', params });
  return (await registerModel({ modelBankDir: config.MODEL_BANK_DIR, trainingSet: set, candidate, workflow })).modelId;
}

before(async () => {
  const scratch = await scratchDir('promotion-gate');
  cleanup = scratch.cleanup;
  config = loadConfig({ DATAMART_DIR: join(scratch.dir, 'datamart'), MODEL_BANK_DIR: join(scratch.dir, 'model_bank') });
  await writeSyntheticStores(config.DATAMART_DIR, STANDARD_STORES);
  ids.production = await train('2024-12');
  ids.older = await train('2024-06');
  ids.weakOlder = await train('2024-06', { max_depth: 1, eta: 0.01 });
  ids.previous = await train('2024-10');
  await createModelBankActivities(config).promoteModel({ modelId: ids.production, reason: 'setup' });
});
after(async () => {
  await releaseScoringSessions();
  await cleanup();
});

const gateOptions = () => ({ datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, minAuc: 0.7, margin: 0.01 });

test("the demo's case: an older challenger is never compared on the months production trained on", async () => {
  // The old gate scored production on the challenger's OOT months 2023-11..12, inside production's train window.
  const gate = await evaluatePromotionGate({ ...gateOptions(), modelId: ids.older });
  assert.equal(gate.productionModelId, ids.production);
  // With labels known to 2024-12, the only months out of sample for both are after production's test window.
  assert.equal(gate.evidence.months_compared, '2024-05..2024-06', gate.reason);
  assert.match(gate.reason, /against production .* on 2024-05\.\.2024-06 \(500 rows/);
  assert.doesNotMatch(gate.reason, /against production .* on 2023/);
  assert.ok(gate.evidence.n_rows === 500, `${gate.evidence.n_rows} rows compared`);
  assert.equal(gate.productionOotAuc, gate.evidence.production_auc);
  assert.notEqual(gate.action, 'promote', `an older model that is not better does not replace production: ${gate.reason}`);

  // The same decision taken as of 2024-06 (labels known then): no month is out of sample for both.
  const then = await evaluatePromotionGate({ ...gateOptions(), modelId: ids.older, asOf: '2024-06' });
  assert.match(then.reason, /no_fair_comparison/);
  assert.equal(then.evidence.months_compared, null);
  assert.equal(then.evidence.auc_diff, null);
  assert.equal(then.productionOotAuc, null, 'no production AUC on in-sample rows');
  assert.equal(then.action, 'keep', `an older model without fair evidence keeps production: ${then.reason}`);
  assert.ok(then.candidateOotAuc! >= 0.7);
});

test('a newer candidate is compared on its own OOT months, out of sample for both; the evidence is the paired test', async () => {
  const gate = await evaluatePromotionGate({ ...gateOptions(), modelId: ids.production, productionModelId: ids.previous });
  assert.equal(gate.evidence.months_compared, '2024-05..2024-06', gate.reason);
  const paired = await pairedComparison({
    datamartDir: config.DATAMART_DIR,
    modelBankDir: config.MODEL_BANK_DIR,
    asOf: '2024-12',
    months: ['2024-05', '2024-06'],
    modelA: ids.production,
    modelB: ids.previous,
  });
  assert.ok(paired);
  assert.equal(gate.evidence.auc_diff, paired.diff);
  assert.ok(Math.abs(gate.evidence.auc_diff! - (gate.evidence.candidate_auc! - gate.evidence.production_auc!)) < 1e-12);
  assert.ok(gate.evidence.auc_diff_low! < gate.evidence.auc_diff! && gate.evidence.auc_diff! < gate.evidence.auc_diff_high!);
  // Here the candidate's own OOT months are the compared months: its own OOT AUC is the compared AUC.
  assert.ok(Math.abs(gate.candidateOotAuc! - gate.evidence.candidate_auc!) < 1e-9);
  assert.match(gate.reason, /against production .* diff [+-]0\.\d{4} \[95% [+-]0\.\d{4}, [+-]0\.\d{4}\], p 0\.\d{4} on 2024-05\.\.2024-06 \(500 rows/);
});

test('gate decisions land in promotions.parquet with their evidence; a retried activity logs once', async () => {
  const bank = createModelBankActivities(config);
  const gate = await bank.evaluatePromotionGate({ modelId: ids.older });
  const decision = { decidedAt: '2026-01-05T10:00:00.000Z', decidedBy: 'gate', action: gate.action, productionModelId: gate.productionModelId, evidence: gate.evidence };
  await bank.recordCandidate({ modelId: ids.older, reason: gate.reason, decision });
  await bank.recordCandidate({ modelId: ids.older, reason: gate.reason, decision }); // a retry
  const rows = (await readPromotionLog(config.DATAMART_DIR)).filter((row) => row.decided_at === decision.decidedAt);
  assert.equal(rows.length, 1);
  assert.deepEqual(rows[0], {
    decided_at: decision.decidedAt,
    decided_by: 'gate',
    action: gate.action,
    candidate_model_id: ids.older,
    production_model_id: ids.production,
    ...gate.evidence,
    reason: gate.reason,
  });
});

test('operator: promote and rollback need a name on the decision; a rolled-back model goes through the gate again unless forced', async () => {
  // A low minimum, so that only the paired comparison with production can refuse the weak model.
  const bank = createModelBankActivities({ ...config, PROMOTION_MIN_AUC: 0.5 });
  const at = (minute: number, by = 'alice') => ({ decidedAt: `2026-01-06T10:${String(minute).padStart(2, '0')}:00.000Z`, decidedBy: by });
  // Never turned down: the operator decides; the gate's view is logged for the record.
  let registry = await bank.promoteModel({ modelId: ids.weakOlder, reason: 'trial', decision: at(1), operator: { by: 'alice', force: false } });
  assert.equal(registry.production, ids.weakOlder);
  registry = await bank.rollbackModel({ reason: 'worse in the first week [operator alice]', decision: at(2) });
  assert.equal(registry.production, ids.production);

  // Rolled back: the gate applies and refuses it (significantly worse, or too little evidence, on 2024-05..06).
  await assert.rejects(
    bank.promoteModel({ modelId: ids.weakOlder, reason: 'again', decision: at(3, 'bob'), operator: { by: 'bob', force: false } }),
    (error: unknown) =>
      error instanceof ApplicationFailure && error.type === 'PromotionRefused' && error.nonRetryable && /was rolled back before and does not pass the gate/.test(error.message),
  );
  assert.equal((await readRegistry(config.MODEL_BANK_DIR)).production, ids.production);
  // --force: promoted, logged as forced.
  registry = await bank.promoteModel({ modelId: ids.weakOlder, reason: 'again', decision: at(4, 'bob'), operator: { by: 'bob', force: true } });
  assert.equal(registry.production, ids.weakOlder);

  const rows = (await readPromotionLog(config.DATAMART_DIR)).filter((row) => row.decided_at.startsWith('2026-01-06'));
  assert.deepEqual(
    rows.map((row) => [row.decided_by, row.action, row.candidate_model_id, row.production_model_id]),
    [
      ['alice', 'promote', ids.weakOlder, ids.production],
      ['alice', 'rollback', ids.production, ids.weakOlder],
      ['bob', 'reject', ids.weakOlder, ids.production],
      ['bob', 'promote', ids.weakOlder, ids.production],
    ],
  );
  assert.match(rows[2].reason, /refused: .* --force promotes it anyway/);
  assert.match(rows[3].reason, /FORCED past the gate/);
  assert.equal(rows[2].months_compared, '2024-05..2024-06', 'the refusal carries its paired evidence');
  assert.ok(rows[2].auc_diff! < 0);
  const event = (await readRegistry(config.MODEL_BANK_DIR)).history.at(-1)!;
  assert.match(event.reason, /^again \[operator bob; FORCED past the gate/);
});
