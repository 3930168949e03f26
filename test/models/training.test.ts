// Training set split, candidate training of every family, selection and registration on synthetic stores with signal.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { modelMetadataSchema } from '../../lib/contracts.js';
import { DataQualityError } from '../../lib/errors.js';
import { sha256File } from '../../core/hashing.js';
import { trainCandidate } from '../../core/models/candidate.js';
import { trainAndSelect, type TrainAndSelectResult } from '../../core/models/pipeline.js';
import type { CandidateSummary } from '../../lib/model-summaries.js';
import { encodeRows } from '../../core/features/preprocessor.js';
import { buildTrainingSet, loadTrainingSet } from '../../core/models/training-set.js';
import { readRegistry } from '../../core/models/registry.js';
import { Booster } from '../../core/xgboost/index.js';
import { OnnxScorer } from '../../core/onnx/index.js';
import { createTrainingActivities } from '../../activities/training.js';
import { loadConfig } from '../../lib/config.js';
import { MockActivityEnvironment } from '@temporalio/testing';
import { scratchDir, STANDARD_STORES, writeSyntheticStores, type SyntheticLoan } from './synthetic.js';

let dir: string;
let cleanup: () => Promise<void>;
let loans: SyntheticLoan[];
let config: { DATAMART_DIR: string; MODEL_BANK_DIR: string };
let result: TrainAndSelectResult;

before(async () => {
  ({ dir, cleanup } = await scratchDir('models'));
  config = { DATAMART_DIR: join(dir, 'datamart'), MODEL_BANK_DIR: join(dir, 'model_bank') };
  loans = await writeSyntheticStores(config.DATAMART_DIR, STANDARD_STORES);
  result = await trainAndSelect(config, '2024-12');
});
after(async () => cleanup());

test('the split is time-aware: most recent mature months → OOT, the two before → test, the rest → train', () => {
  const { windows, rows, defaultRate } = result.trainingSet;
  // labels up to 2024-12 → applications up to 2024-06
  assert.deepEqual(windows, {
    train: { from: '2023-01', to: '2024-02' },
    test: { from: '2024-03', to: '2024-04' },
    oot: { from: '2024-05', to: '2024-06' },
  });
  assert.deepEqual(rows, { train: 14 * 250, test: 2 * 250, oot: 2 * 250 });
  const labelled = loans.filter((loan) => loan.month <= '2024-06');
  const expectedRate = labelled.reduce((sum, loan) => sum + loan.label, 0) / labelled.length;
  assert.ok(Math.abs(defaultRate - expectedRate) < 1e-12);
});

test('labels not yet mature at the as-of month are left out', async () => {
  const earlier = await buildTrainingSet({ datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, asOf: '2024-09' });
  assert.deepEqual(earlier.windows.oot, { from: '2024-02', to: '2024-03' });
  assert.equal(earlier.rows.oot + earlier.rows.test + earlier.rows.train, 15 * 250);
  assert.notEqual(earlier.trainingDataSha256, result.trainingSet.trainingDataSha256);
  await assert.rejects(
    buildTrainingSet({ datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, asOf: '2023-10' }),
    (error: unknown) => error instanceof DataQualityError && /application month\(s\) have labels mature by 2023-10/.test(error.message),
  );
});

test('a training window keeps only the most recent labelled months', async () => {
  const windowed = await buildTrainingSet({ datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, asOf: '2025-01', windowMonths: 8 });
  assert.deepEqual(windowed.windows, {
    train: { from: '2023-11', to: '2024-02' },
    test: { from: '2024-03', to: '2024-04' },
    oot: { from: '2024-05', to: '2024-06' },
  });
  assert.deepEqual(windowed.rows, { train: 4 * 250, test: 2 * 250, oot: 2 * 250 });
  assert.notEqual(windowed.trainingDataSha256, result.trainingSet.trainingDataSha256);
});

test('the training set is content-addressed: the same data gives the same directory, built once', async () => {
  const again = await buildTrainingSet({ datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, asOf: '2025-01' });
  assert.equal(again.trainingDataSha256, result.trainingSet.trainingDataSha256);
  assert.equal(again.path, result.trainingSet.path);
  assert.match(again.path, new RegExp(`_work/${again.trainingDataSha256}$`));
  const loaded = await loadTrainingSet(again.path);
  assert.equal(loaded.splits.train.rows, 3500);
  assert.equal(loaded.splits.train.cols, loaded.preprocessor.encoded.length);
  // one-hot of training categories; NULL Credit_Mix and missing income stay visible as zeros / NaN
  assert.ok(loaded.preprocessor.encoded.includes('Credit_Mix=Bad'));
  assert.ok(Array.from(loaded.splits.train.data).some(Number.isNaN));
});

test('quality: the selected model reaches OOT AUC ≥ 0.70, every family is trained and the winner is the best on the test months', (t) => {
  const timings = result.candidates.map((c) => `${c.family} ${c.trainingSeconds.toFixed(2)}s (OOT AUC ${c.metrics.oot_auc.toFixed(4)})`);
  t.diagnostic(`training set ${result.buildSeconds.toFixed(2)}s; ${timings.join('; ')}; selected ${result.best.family}`);
  assert.deepEqual(result.candidates.map((c) => c.family).sort(), ['gblinear', 'gbtree', 'rf']);
  assert.ok(result.best.metrics.oot_auc >= 0.7, `selected OOT AUC ${result.best.metrics.oot_auc}`);
  const bestAuc = Math.max(...result.candidates.map((c) => c.metrics.test_auc));
  assert.ok(bestAuc - result.best.metrics.test_auc < 1e-3, 'selection looks at the test months, not at OOT');
  for (const candidate of result.candidates) {
    assert.ok(Math.abs(candidate.metrics.oot_gini - (2 * candidate.metrics.oot_auc - 1)) < 1e-12);
    assert.ok(candidate.metrics.oot_ks > 0 && candidate.metrics.oot_ks < 1);
    assert.ok(candidate.threshold > 0 && candidate.threshold < 1);
  }
});

test('class weighting is undone: mean OOT probability is close to the observed default rate', async () => {
  const set = await loadTrainingSet(result.trainingSet.path);
  const booster = Booster.fromJson(await readFile(join(result.best.candidateDir, 'booster.json'), 'utf8'));
  const scores = booster.predict(set.splits.oot);
  booster.dispose();
  const meanScore = scores.reduce((a, b) => a + b, 0) / scores.length;
  const observed = set.splits.oot.labels.reduce((a, b) => a + b, 0) / set.splits.oot.rows;
  assert.ok(Math.abs(meanScore - observed) < 0.05, `mean probability ${meanScore} vs default rate ${observed}`);
});

test('each candidate ONNX export scores like its native booster (within 1e-5)', async () => {
  const rows = loans.filter((loan) => loan.month === '2024-06') as unknown as Record<string, unknown>[];
  for (const candidate of result.candidates) {
    const preprocessor = JSON.parse(await readFile(join(candidate.candidateDir, 'preprocessor.json'), 'utf8'));
    const matrix = encodeRows(preprocessor, rows);
    const booster = Booster.fromJson(await readFile(join(candidate.candidateDir, 'booster.json'), 'utf8'));
    const scorer = await OnnxScorer.load(new Uint8Array(await readFile(join(candidate.candidateDir, 'model.onnx'))));
    const native = booster.predict(matrix);
    const onnx = await scorer.score(matrix);
    booster.dispose();
    await scorer.release();
    const worst = native.reduce((max, value, i) => Math.max(max, Math.abs(value - onnx[i])), 0);
    assert.ok(worst < 1e-5, `${candidate.family}: max |native − onnx| = ${worst}`);
  }
});

test('registering the same training data and params twice gives the same model id and one directory', async () => {
  const activities = createTrainingActivities({ ...loadConfig({}), ...config });
  const workflow = { workflowId: 'training-2024-12-1', runId: 'run-1' };
  const first = await activities.registerModel({ trainingSet: result.trainingSet, candidate: result.best, workflow });
  const second = await activities.registerModel({ trainingSet: result.trainingSet, candidate: result.best, workflow: { ...workflow, runId: 'run-2' } });
  assert.equal(first.created, true);
  assert.equal(second.created, false);
  assert.equal(second.modelId, first.modelId);
  assert.match(first.modelId, /^(gbtree|gblinear|rf)-2024-06-[0-9a-f]{12}$/);

  const entries = (await readdir(config.MODEL_BANK_DIR)).filter((name) => !name.startsWith('_') && name !== 'registry.json');
  assert.deepEqual(entries, [first.modelId]);
  const registry = await readRegistry(config.MODEL_BANK_DIR);
  assert.equal(registry.history.filter((event) => event.model_id === first.modelId).length, 1);
  assert.equal(registry.history[0].stage, 'candidate');

  const modelDir = join(config.MODEL_BANK_DIR, first.modelId);
  const metadata = modelMetadataSchema.parse(JSON.parse(await readFile(join(modelDir, 'metadata.json'), 'utf8')));
  assert.equal(metadata.workflow.runId, 'run-1');
  assert.deepEqual(metadata.features, ['Annual_Income', 'Debt_Ratio', 'Num_Delayed_Payment', 'Credit_Mix', 'Occupation', 'fe_1']);
  assert.equal(metadata.as_of, '2024-12');
  assert.deepEqual(metadata.metrics, result.best.metrics);
  assert.equal(metadata.baseline.score.edges.length, 9);
  assert.equal(metadata.baseline.features.Credit_Mix.kind, 'categorical');
  assert.deepEqual(Object.keys(metadata.artifacts_sha256).sort(), ['booster.json', 'feature_importance.csv', 'model.onnx', 'preprocessor.json']);
  for (const [name, sha] of Object.entries(metadata.artifacts_sha256)) assert.equal(await sha256File(join(modelDir, name)), sha, name);

  const importance = (await readFile(join(modelDir, 'feature_importance.csv'), 'utf8')).trim().split('\n');
  assert.equal(importance[0], 'feature,importance,importance_type');
  assert.equal(importance.length - 1, JSON.parse(await readFile(join(modelDir, 'preprocessor.json'), 'utf8')).encoded.length);
});

test('trainCandidate heartbeats every boosting round when it runs as an activity', async () => {
  const activities = createTrainingActivities({ ...loadConfig({}), ...config });
  const environment = new MockActivityEnvironment();
  const beats: unknown[] = [];
  environment.on('heartbeat', (details: unknown) => beats.push(details));
  const candidate: CandidateSummary = await environment.run(activities.trainCandidate, { trainingSet: result.trainingSet, family: 'gblinear' as const });
  assert.equal(candidate.rounds, 100);
  // One per round with its progress; the others (every second, whatever the fit does) say the activity is alive.
  const rounds = beats.filter((beat) => 'iteration' in (beat as object));
  assert.equal(rounds.length, 100);
  assert.deepEqual(Object.keys(rounds[0] as object).sort(), ['family', 'iteration', 'of', 'search', 'validationAuc']);
  assert.ok(beats.every((beat) => 'iteration' in (beat as object) || (beat as { family?: string }).family === 'gblinear'));
  await assert.rejects(
    environment.run(activities.trainCandidate, { trainingSet: result.trainingSet, family: 'xgb' as never }),
    /family/,
  );
});

test('the event loop keeps running during boosting: timers fire between the rounds of one fit', async () => {
  // libxgboost works on a thread of its own: the caller's timers (a worker's workflow tasks, heartbeats) run meanwhile.
  const events: string[] = [];
  const ticker = setInterval(() => events.push('tick'), 1);
  try {
    await trainCandidate({
      trainingSet: result.trainingSet,
      family: 'gbtree',
      onProgress: (progress) => events.push(`round ${progress.search}/${progress.iteration}`),
    });
  } finally {
    clearInterval(ticker);
  }
  const firstSearch = events.map((event, index) => [event, index] as const).filter(([event]) => event.startsWith('round 1/'));
  assert.ok(firstSearch.length > 10, `the first parameter set trained ${firstSearch.length} rounds`);
  const ticksWithin = events.slice(firstSearch[0][1], firstSearch.at(-1)![1]).filter((event) => event === 'tick').length;
  assert.ok(ticksWithin > 0, 'no timer ran while the first parameter set was boosting');
});

test('a progress callback that throws stops the fit with its error, and the next fit runs', async () => {
  const stop = new Error('cancelled at round 3');
  let rounds = 0;
  await assert.rejects(
    trainCandidate({
      trainingSet: result.trainingSet,
      family: 'gbtree',
      onProgress: (progress) => {
        rounds++;
        if (progress.iteration === 3) throw stop;
      },
    }),
    (error: unknown) => error === stop,
  );
  assert.equal(rounds, 4, 'no progress reported after the throw');
  const next = await trainCandidate({ trainingSet: result.trainingSet, family: 'gblinear' });
  assert.equal(next.rounds, 100);
});
