// Registry changes (promote, rollback, candidate events, concurrent writers) and the promotion gate.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { modelBank } from '../../lib/layout.js';
import { ApplicationFailure } from '@temporalio/common';
import { loadConfig, type Config } from '../../lib/config.js';
import { listRegisteredModels, registerModel } from '../../core/models/bank.js';
import { trainCandidate } from '../../core/models/candidate.js';
import { previousProduction, readRegistry, recordEvent } from '../../core/models/registry.js';
import { buildTrainingSet } from '../../core/models/training-set.js';
import { releaseScoringSessions } from '../../core/scoring/model-loader.js';
import { createModelBankActivities } from '../../activities/model-bank.js';
import { scratchDir, STANDARD_STORES, writeSyntheticStores } from './synthetic.js';

let cleanup: () => Promise<void>;
let config: Config;
let noiseConfig: Config;
const ids: { strong: string; weak: string; noise: string } = { strong: '', weak: '', noise: '' };
const workflow = { workflowId: 'training-test', runId: 'run' };

before(async () => {
  const scratch = await scratchDir('models');
  cleanup = scratch.cleanup;
  config = loadConfig({ DATAMART_DIR: join(scratch.dir, 'datamart'), MODEL_BANK_DIR: join(scratch.dir, 'model_bank') });
  // Labels independent of the features: any model's OOT AUC is near 0.5. Same model bank.
  noiseConfig = { ...config, DATAMART_DIR: join(scratch.dir, 'noise-datamart') };
  await writeSyntheticStores(config.DATAMART_DIR, STANDARD_STORES);
  await writeSyntheticStores(noiseConfig.DATAMART_DIR, { ...STANDARD_STORES, seed: 7, signal: 0 });

  const set = await buildTrainingSet({ datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, asOf: '2024-12' });
  const strong = await trainCandidate({ trainingSet: set, family: 'gbtree' });
  const weak = await trainCandidate({ trainingSet: set, family: 'gbtree', params: { max_depth: 1, eta: 0.01 } });
  ids.strong = (await registerModel({ modelBankDir: config.MODEL_BANK_DIR, trainingSet: set, candidate: strong, workflow })).modelId;
  ids.weak = (await registerModel({ modelBankDir: config.MODEL_BANK_DIR, trainingSet: set, candidate: weak, workflow })).modelId;

  const noiseSet = await buildTrainingSet({ datamartDir: noiseConfig.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, asOf: '2024-12' });
  const noise = await trainCandidate({ trainingSet: noiseSet, family: 'gblinear' });
  ids.noise = (await registerModel({ modelBankDir: config.MODEL_BANK_DIR, trainingSet: noiseSet, candidate: noise, workflow })).modelId;
});
after(async () => {
  await releaseScoringSessions();
  await cleanup();
});

test('gate: PROMOTION_MIN_AUC from the configuration is the minimum (0.9 here), named in the reason', async () => {
  const strict = createModelBankActivities({ ...config, PROMOTION_MIN_AUC: 0.9 });
  const gate = await strict.evaluatePromotionGate({ modelId: ids.strong });
  assert.equal(gate.promote, false, gate.reason);
  assert.ok(gate.candidateOotAuc! < 0.9, `strong model OOT AUC ${gate.candidateOotAuc}`);
  assert.match(gate.reason, /is below the minimum 0\.9000/);
  const defaults = await createModelBankActivities(config).evaluatePromotionGate({ modelId: ids.strong });
  assert.equal(defaults.promote, true, `the default minimum 0.70: ${defaults.reason}`);
  assert.match(defaults.reason, /≥ minimum 0\.7000/);
});

test('metadata records accuracy, precision, recall and F1 at the threshold for train, test and OOT', async () => {
  const models = await listRegisteredModels(config.MODEL_BANK_DIR);
  const strong = models.find((model) => model.model_id === ids.strong)!;
  for (const split of ['train', 'test', 'oot'] as const) {
    for (const metric of ['accuracy', 'precision', 'recall', 'f1'] as const) {
      const value = strong.metrics[`${split}_${metric}`];
      assert.ok(value !== undefined && value > 0 && value < 1, `${split}_${metric} = ${value}`);
    }
  }
  const { precision, recall, f1 } = { precision: strong.metrics.oot_precision!, recall: strong.metrics.oot_recall!, f1: strong.metrics.oot_f1! };
  assert.ok(Math.abs(f1 - (2 * precision * recall) / (precision + recall)) < 1e-12);
  assert.ok(strong.data_baseline && strong.data_baseline.rows > 0, 'the data-quality baseline of the training rows');
});

test('gate, no production model yet: a candidate above the minimum is promoted', async () => {
  const bank = createModelBankActivities(config);
  const gate = await bank.evaluatePromotionGate({ modelId: ids.strong, minAuc: 0.7 });
  assert.equal(gate.promote, true, gate.reason);
  assert.equal(gate.productionModelId, null);
  assert.equal(gate.productionOotAuc, null);
  assert.ok(gate.candidateOotAuc! >= 0.7);
  assert.match(gate.reason, /no production model yet/);
  const registry = await bank.promoteModel({ modelId: ids.strong, reason: gate.reason });
  assert.equal(registry.production, ids.strong);
  assert.deepEqual(registry.history.at(-1)?.stage, 'production');
});

test('gate: the candidate OOT AUC is the registered one, recomputed through ONNX on the same rows', async () => {
  const bank = createModelBankActivities(config);
  const models = await bank.listModels();
  const registered = models.find((model) => model.modelId === ids.weak)!;
  const gate = await bank.evaluatePromotionGate({ modelId: ids.weak, minAuc: 0.5 });
  assert.ok(Math.abs(gate.candidateOotAuc! - registered.ootAuc) < 1e-4, `${gate.candidateOotAuc} vs ${registered.ootAuc}`);
});

test('gate: a candidate worse than production on 500 rows out of sample for both, within noise: evidence too thin, production kept', async () => {
  const bank = createModelBankActivities(config);
  const gate = await bank.evaluatePromotionGate({ modelId: ids.weak, minAuc: 0.5 });
  assert.equal(gate.promote, false);
  assert.equal(gate.action, 'keep', gate.reason);
  assert.equal(gate.productionModelId, ids.strong);
  // Both models' OOT months lie after both train and test windows (which end 2024-04): out of sample for both.
  assert.equal(gate.evidence.months_compared, '2024-05..2024-06');
  assert.ok(gate.productionOotAuc !== null && gate.evidence.candidate_auc! < gate.productionOotAuc);
  // 0.79 against 0.80 on 500 rows: the interval reaches below the margin and above 0.
  assert.ok(gate.evidence.auc_diff_low! < -0.01 && gate.evidence.auc_diff_high! > 0);
  assert.match(gate.reason, new RegExp(`evidence too thin to decide against production ${ids.strong}: AUC 0\\.\\d{4} vs 0\\.\\d{4}, diff -0\\.\\d{4} .* on 2024-05\\.\\.2024-06`));
  const registry = await bank.recordCandidate({ modelId: ids.weak, reason: gate.reason });
  assert.equal(registry.production, ids.strong);
  assert.deepEqual(registry.history.at(-1), { ...registry.history.at(-1)!, model_id: ids.weak, stage: 'candidate', reason: gate.reason });
});

test('gate: OOT AUC below 0.70 stays candidate with the reason recorded', async () => {
  const bank = createModelBankActivities(noiseConfig);
  const gate = await bank.evaluatePromotionGate({ modelId: ids.noise, minAuc: 0.7 });
  assert.equal(gate.promote, false);
  assert.ok(gate.candidateOotAuc! < 0.7, `noise model OOT AUC ${gate.candidateOotAuc}`);
  assert.match(gate.reason, /OOT AUC 0\.\d{4} on OOT months 2024-05\.\.2024-06 \(500 rows\) is below the minimum 0\.7000/);
  const registry = await bank.recordCandidate({ modelId: ids.noise, reason: gate.reason });
  assert.equal(registry.production, ids.strong);
  assert.equal(registry.history.at(-1)?.reason, gate.reason);
  // recording the same decision again (an activity retry) adds nothing
  const again = await bank.recordCandidate({ modelId: ids.noise, reason: gate.reason });
  assert.equal(again.history.length, registry.history.length);
});

test('gate: the production model itself is not promoted again', async () => {
  const gate = await createModelBankActivities(config).evaluatePromotionGate({ modelId: ids.strong, minAuc: 0.7 });
  assert.equal(gate.promote, false);
  assert.match(gate.reason, /already the production model/);
});

test('promote archives the replaced model; rollback returns to it and rejects the rolled-back one', async () => {
  const bank = createModelBankActivities(config);
  let registry = await bank.promoteModel({ modelId: ids.weak, reason: 'operator' });
  assert.equal(registry.production, ids.weak);
  assert.deepEqual(registry.history.slice(-2).map((e) => [e.model_id, e.stage]), [[ids.strong, 'archived'], [ids.weak, 'production']]);
  const length = registry.history.length;
  registry = await bank.promoteModel({ modelId: ids.weak, reason: 'operator' }); // idempotent
  assert.equal(registry.history.length, length);

  registry = await bank.rollbackModel({ reason: 'bad week' });
  assert.equal(registry.production, ids.strong);
  assert.deepEqual(registry.history.slice(-2).map((e) => [e.model_id, e.stage]), [[ids.weak, 'rejected'], [ids.strong, 'production']]);
  assert.equal(previousProduction(registry), null);
  await assert.rejects(
    bank.rollbackModel({ reason: 'again' }),
    (error: unknown) => error instanceof ApplicationFailure && error.type === 'NoPreviousModel' && error.nonRetryable,
  );
  await assert.rejects(
    bank.promoteModel({ modelId: 'gbtree-2024-06-000000000000', reason: 'typo' }),
    (error: unknown) => error instanceof ApplicationFailure && error.type === 'InvalidModelArtifact',
  );
  assert.equal((await bank.readRegistry()).production, ids.strong);
});

test('concurrent registry writers in one process lose no event, and the file stays valid', async () => {
  const before = (await readRegistry(config.MODEL_BANK_DIR)).history.length;
  await Promise.all(Array.from({ length: 25 }, (_, i) => recordEvent(config.MODEL_BANK_DIR, `model-${i}`, 'candidate', `concurrent ${i}`)));
  const registry = await readRegistry(config.MODEL_BANK_DIR);
  assert.equal(registry.history.length, before + 25);
  assert.equal(new Set(registry.history.slice(before).map((e) => e.model_id)).size, 25);
});

test('a registry lock left by a killed process of this host is taken over at once, not after it goes stale', async () => {
  // A process that has exited: its pid names no running process (the lock's age alone would hold writers for a minute).
  const gone = spawnSync(process.execPath, ['-e', 'process.pid']).pid!;
  const lockPath = `${modelBank.registry(config.MODEL_BANK_DIR)}.lock`;
  await writeFile(lockPath, `${hostname()} ${gone}\n`);
  const before = (await readRegistry(config.MODEL_BANK_DIR)).history.length;
  // Without the take-over this write waits the lock's 30 s and then throws.
  const registry = await recordEvent(config.MODEL_BANK_DIR, 'model-after-kill', 'candidate', 'after a killed writer');
  assert.equal(registry.history.length, before + 1);
  assert.equal(existsSync(lockPath), false, 'the lock is released after the write');
});

test('listModels lists every registered model with family, as-of and OOT AUC', async () => {
  const models = await createModelBankActivities(config).listModels();
  assert.deepEqual(models.map((m) => m.modelId).sort(), [ids.strong, ids.weak, ids.noise].sort());
  for (const model of models) {
    assert.equal(model.asOf, '2024-12');
    assert.ok(model.ootAuc > 0 && model.ootAuc < 1);
  }
});
