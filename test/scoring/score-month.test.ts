// Batch scoring: partition shape, agreement with the native booster, refusal of tampered artifacts and of a
// feature store missing a model column, session reuse, and throughput.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, renameSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { loadConfig, type Config } from '../../lib/config.js';
import { RISK_BANDS } from '../../lib/contracts.js';
import { InvalidModelArtifact, InvalidSourceData } from '../../lib/errors.js';
import { datamart, modelBank, partitionFile } from '../../lib/layout.js';
import { queryRows, readParquet, withDuckDB, writeParquetAtomic } from '../../core/duckdb.js';
import { readLineage } from '../../core/datamart/lineage.js';
import { sha256File } from '../../core/hashing.js';
import { loadVerifiedModel, registerModel } from '../../core/models/bank.js';
import { trainCandidate } from '../../core/models/candidate.js';
import { encodeRows } from '../../core/features/preprocessor.js';
import { buildTrainingSet } from '../../core/models/training-set.js';
import { cachedSessionCount, releaseScoringSessions } from '../../core/scoring/model-loader.js';
import { readEncodedMonth, scoreMonth } from '../../core/scoring/score-month.js';
import { Booster } from '../../core/xgboost/index.js';
import { createModelBankActivities } from '../../activities/model-bank.js';
import { createScoringActivities } from '../../activities/scoring.js';
import { scratchDir, STANDARD_STORES, writeSyntheticStores } from '../models/synthetic.js';
import { inActivity } from '../helpers/activity.js';

let dir: string;
let cleanup: () => Promise<void>;
let config: Config;
const models: Record<'gbtree' | 'gblinear', string> = { gbtree: '', gblinear: '' };

before(async () => {
  ({ dir, cleanup } = await scratchDir('scoring'));
  config = loadConfig({ DATAMART_DIR: join(dir, 'datamart'), MODEL_BANK_DIR: join(dir, 'model_bank') });
  await writeSyntheticStores(config.DATAMART_DIR, STANDARD_STORES);
  const trainingSet = await buildTrainingSet({ datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, asOf: '2024-12' });
  for (const family of ['gbtree', 'gblinear'] as const) {
    const candidate = await trainCandidate({ trainingSet, family });
    const workflow = { workflowId: 'training-test', runId: 'run' };
    models[family] = (await registerModel({ modelBankDir: config.MODEL_BANK_DIR, trainingSet, candidate, workflow })).modelId;
  }
});
after(async () => {
  await releaseScoringSessions();
  await cleanup();
});

async function featureRows(month: string): Promise<Record<string, unknown>[]> {
  return withDuckDB((db) =>
    queryRows(db, `SELECT * EXCLUDE (snapshot_date) FROM ${readParquet(partitionFile(datamart.featureStore(config.DATAMART_DIR), month))} ORDER BY loan_id`),
  );
}

for (const family of ['gbtree', 'gblinear'] as const) {
  test(`${family}: one prediction per feature-store row, SPEC columns, probabilities equal Booster.predict within 1e-5`, async () => {
    const modelId = models[family];
    const result = await inActivity(() => createScoringActivities(config).scoreMonth({ month: '2024-12', modelId }));
    assert.equal(result.rows, 250);
    assert.equal(result.path, partitionFile(datamart.predictions(config.DATAMART_DIR, modelId), '2024-12'));

    const written = await withDuckDB(async (db) => ({
      columns: await queryRows<{ column_name: string; column_type: string }>(db, `DESCRIBE SELECT * FROM ${readParquet(result.path)}`),
      rows: await queryRows(db, `SELECT * FROM ${readParquet(result.path)} ORDER BY loan_id`),
    }));
    assert.deepEqual(
      written.columns.map((c) => `${c.column_name}:${c.column_type}`),
      ['loan_id:VARCHAR', 'Customer_ID:VARCHAR', 'snapshot_date:DATE', 'model_id:VARCHAR', 'model_role:VARCHAR', 'default_probability:DOUBLE',
        'predicted_default:INTEGER', 'risk_band:VARCHAR', 'scored_at:TIMESTAMP'],
    );
    const source = await featureRows('2024-12');
    assert.deepEqual(written.rows.map((r) => r.loan_id), source.map((r) => r.loan_id));

    const model = await loadVerifiedModel(config.MODEL_BANK_DIR, modelId);
    const booster = Booster.fromJson(model.boosterJson);
    const direct = booster.predict(encodeRows(model.preprocessor, source));
    booster.dispose();
    written.rows.forEach((row, i) => {
      const probability = row.default_probability as number;
      assert.ok(Math.abs(probability - direct[i]) < 1e-5, `row ${i}: ${probability} vs ${direct[i]}`);
      assert.equal(row.predicted_default, probability >= model.metadata.threshold ? 1 : 0);
      assert.ok((RISK_BANDS as readonly unknown[]).includes(row.risk_band));
      assert.equal(row.risk_band === 'High', row.predicted_default === 1);
      assert.equal(row.snapshot_date, '2024-12-01');
      assert.equal(row.model_id, modelId);
      assert.equal(row.Customer_ID, source[i].Customer_ID);
    });
    assert.ok(new Set(written.rows.map((r) => r.risk_band)).size >= 2, 'a real model spreads rows over bands');
  });
}

test('scoring the same month again replaces the partition (no duplicate rows) and reuses the cached session', async () => {
  const sessions = cachedSessionCount();
  const again = await scoreMonth({ datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, month: '2024-12', modelId: models.gbtree });
  assert.equal(again.rows, 250);
  assert.equal(cachedSessionCount(), sessions);
  const count = await withDuckDB((db) => queryRows(db, `SELECT count(*) AS n FROM ${readParquet(again.path)}`));
  assert.equal(count[0].n, 250);
});

test('a bad artifact (one edited byte in model.onnx) is refused at load with a clear error, even with a cached session', async () => {
  const file = modelBank.file(config.MODEL_BANK_DIR, models.gbtree, 'model.onnx');
  const original = await readFile(file);
  const edited = Buffer.from(original);
  edited[Math.floor(edited.length / 2)] ^= 0x01;
  await writeFile(file, edited);
  try {
    await assert.rejects(
      scoreMonth({ datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, month: '2024-11', modelId: models.gbtree }),
      (error: unknown) =>
        error instanceof InvalidModelArtifact &&
        error.message.includes(file) &&
        /sha256 [0-9a-f]{64} does not match [0-9a-f]{64} recorded in metadata\.json/.test(error.message),
    );
    await assert.rejects(
      inActivity(() => createScoringActivities(config).scoreMonth({ month: '2024-11', modelId: models.gbtree })),
      (error: unknown) => error instanceof ApplicationFailure && error.type === 'InvalidModelArtifact' && error.nonRetryable,
    );
  } finally {
    await writeFile(file, original);
  }
  const restored = await scoreMonth({ datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, month: '2024-11', modelId: models.gbtree });
  assert.equal(restored.rows, 250);
});

test('a feature column missing from the store is InvalidSourceData naming it; extra columns are ignored', async () => {
  const broken = { ...config, DATAMART_DIR: join(dir, 'broken-datamart') };
  const source = partitionFile(datamart.featureStore(config.DATAMART_DIR), '2024-12');
  const target = partitionFile(datamart.featureStore(broken.DATAMART_DIR), '2024-12');
  await withDuckDB((db) => writeParquetAtomic(db, `SELECT * EXCLUDE (Debt_Ratio), 42 AS unrelated_extra FROM ${readParquet(source)}`, target));
  await assert.rejects(
    scoreMonth({ datamartDir: broken.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, month: '2024-12', modelId: models.gbtree }),
    (error: unknown) => error instanceof InvalidSourceData && error.location.column === 'Debt_Ratio' && error.message.includes(target),
  );
  await assert.rejects(
    inActivity(() => createScoringActivities(broken).scoreMonth({ month: '2024-12', modelId: models.gbtree })),
    (error: unknown) => error instanceof ApplicationFailure && error.type === 'InvalidSourceData' && /Debt_Ratio/.test(error.message),
  );
  // extra column only: scores fine
  await withDuckDB((db) => writeParquetAtomic(db, `SELECT *, 42 AS unrelated_extra FROM ${readParquet(source)}`, target));
  const ok = await scoreMonth({ datamartDir: broken.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, month: '2024-12', modelId: models.gbtree });
  assert.equal(ok.rows, 250);
  await assert.rejects(
    scoreMonth({ datamartDir: broken.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, month: '2024-01', modelId: models.gbtree }),
    (error: unknown) => error instanceof InvalidSourceData && /partition is missing/.test(error.message),
  );
  // Read directly (the scoring profile does), a missing partition is named as given to report.
  const { preprocessor } = await loadVerifiedModel(config.MODEL_BANK_DIR, models.gbtree);
  const missing = partitionFile(datamart.featureStore(broken.DATAMART_DIR), '2024-01');
  await assert.rejects(
    withDuckDB((db) => readEncodedMonth(db, missing, preprocessor, 'the 2024-01 features')),
    (error: unknown) => error instanceof InvalidSourceData && error.location.file === 'the 2024-01 features' && /partition is missing/.test(error.message),
  );
});

test('a feature partition replaced while it is scored: keys and features come from the version read, nothing is left beside it; the next run scores the new version', async () => {
  const replaced = join(dir, 'replaced-datamart');
  const original = partitionFile(datamart.featureStore(config.DATAMART_DIR), '2024-12');
  const source = partitionFile(datamart.featureStore(replaced), '2024-12');
  const replacement = join(dir, 'replacement.parquet');
  await withDuckDB(async (db) => {
    await writeParquetAtomic(db, `SELECT * FROM ${readParquet(original)}`, source);
    // Half the rows in another order: keys read again from it would pair with other rows' features.
    await writeParquetAtomic(db, `SELECT * FROM ${readParquet(original)} WHERE hash(loan_id) % 2 = 0 ORDER BY loan_id DESC`, replacement);
  });
  const options = { datamartDir: replaced, modelBankDir: config.MODEL_BANK_DIR, month: '2024-12' as const, modelId: models.gbtree };
  const read = (path: string) => withDuckDB((db) => queryRows(db, `SELECT loan_id, Customer_ID, default_probability FROM ${readParquet(path)} ORDER BY loan_id`));
  const expected = await read((await scoreMonth({ ...options, datamartDir: config.DATAMART_DIR })).path);
  const onProgress = (stage: string) => {
    if (stage.startsWith('read ')) renameSync(replacement, source); // the month's ETL rerun, between the two reads
  };
  const during = await scoreMonth({ ...options, onProgress });
  assert.equal(during.rows, 250, 'the version read: every row of the original');
  assert.deepEqual(await read(during.path), expected, 'each row keeps its own probability');
  assert.deepEqual(readdirSync(dirname(source)), ['data.parquet'], 'no link left beside the partition');

  const after = await scoreMonth(options);
  assert.ok(after.rows > 50 && after.rows < 200, `the new version has about half the rows (${after.rows})`);
  const kept = new Map(expected.map((row) => [row.loan_id, row.default_probability]));
  for (const row of await read(after.path)) assert.equal(row.default_probability, kept.get(row.loan_id), `${row.loan_id}`);
});

test('explanations are kept while current (same feature partition, booster, preprocessor) and computed again when the features change', async () => {
  const kept = join(dir, 'kept-datamart');
  const original = partitionFile(datamart.featureStore(config.DATAMART_DIR), '2024-12');
  const source = partitionFile(datamart.featureStore(kept), '2024-12');
  await withDuckDB((db) => writeParquetAtomic(db, `SELECT * FROM ${readParquet(original)}`, source));
  const options = { datamartDir: kept, modelBankDir: config.MODEL_BANK_DIR, month: '2024-12' as const, modelId: models.gbtree };
  const identity = async (path: string) => {
    const { ino, mtimeMs } = await stat(path);
    return `${ino}:${mtimeMs}`;
  };
  const first = await scoreMonth(options);
  const [explained, predicted] = [await identity(first.explanationsPath), await identity(first.path)];

  const stages: string[] = [];
  const again = await scoreMonth({ ...options, onProgress: (stage) => stages.push(stage) });
  assert.equal(await identity(again.explanationsPath), explained, 'the current explanations partition is left as it is');
  assert.ok(stages.includes('explanations current: kept'), stages.join(', '));
  assert.ok(!stages.some((stage) => stage.startsWith('explained ')), 'no TreeSHAP for a current partition');
  assert.notEqual(await identity(again.path), predicted, 'the predictions are written again (scored_at, model_role)');

  await scoreMonth({ ...options, reuseExplanations: false });
  assert.notEqual(await identity(again.explanationsPath), explained, 'reuseExplanations: false computes them again');

  // The month's ETL rerun with other data: a new feature partition (content hash here, as this store has no lineage).
  await withDuckDB((db) => writeParquetAtomic(db, `SELECT * FROM ${readParquet(original)} WHERE hash(loan_id) % 2 = 0`, source));
  const changed = await scoreMonth(options);
  assert.ok(changed.rows > 50 && changed.rows < 200, `about half the rows (${changed.rows})`);
  const [{ n }] = await withDuckDB((db) => queryRows<{ n: number }>(db, `SELECT count(*) AS n FROM ${readParquet(changed.explanationsPath)}`));
  assert.equal(n, changed.rows, 'the explanations are those of the new partition');
  const lineage = await readLineage(changed.explanationsPath);
  assert.equal(lineage?.inputs['gold/feature_store/2024-12'], `sha256:${await sha256File(source)}`);
});

test('promoting a model (or reading the registry) opens its scoring session in the background; scoring then reuses it', async () => {
  await releaseScoringSessions();
  assert.equal(cachedSessionCount(), 0);
  const registry = await inActivity(() => createModelBankActivities(config).promoteModel({ modelId: models.gbtree, reason: 'preload test' }));
  assert.equal(registry.production, models.gbtree);
  // The activity returned without waiting for the session: it appears in the cache shortly after.
  for (let waited = 0; cachedSessionCount() === 0 && waited < 5000; waited += 10) await new Promise((done) => setTimeout(done, 10));
  assert.equal(cachedSessionCount(), 1);
  await inActivity(() => createModelBankActivities(config).readRegistry());
  const scored = await scoreMonth({ datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, month: '2024-12', modelId: models.gbtree });
  assert.equal(scored.rows, 250);
  assert.equal(cachedSessionCount(), 1);
});

test('throughput: a 100,000-row month', async (t) => {
  const big = { ...config, DATAMART_DIR: join(dir, 'big-datamart') };
  await mkdir(big.DATAMART_DIR, { recursive: true });
  await writeSyntheticStores(big.DATAMART_DIR, { ...STANDARD_STORES, from: '2025-01', to: '2025-01', perMonth: 100_000, seed: 99 });
  await scoreMonth({ datamartDir: big.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, month: '2025-01', modelId: models.gbtree }); // warm
  // Explanations computed again: the warm run's are current, and kept they would not be measured.
  const result = await scoreMonth({ datamartDir: big.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, month: '2025-01', modelId: models.gbtree, reuseExplanations: false });
  assert.equal(result.rows, 100_000);
  t.diagnostic(`scoreMonth ${result.rows} rows in ${result.seconds.toFixed(2)}s = ${Math.round(result.rows / result.seconds)} rows/s (gbtree ${models.gbtree})`);
});

