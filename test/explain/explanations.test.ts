// Explanations over the real sample (SPEC §4c): every month scored by a gbtree, a gblinear and an rf model, each
// month's gold/explanations checked row by row against the ONNX score the predictions hold (additivity), the one-hot
// folding against libxgboost's unfolded contributions, missing values, lineage; then the scoring API's reasons against
// the batch's for the same applications.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { dirname, join } from 'node:path';
import { execFile } from 'node:child_process';
import { rename } from 'node:fs/promises';
import { promisify } from 'node:util';
import { queryRows, readParquet, withDuckDB } from '../../core/duckdb.js';
import { readLineage } from '../../core/datamart/lineage.js';
import { registerModel, loadVerifiedModel } from '../../core/models/bank.js';
import { trainCandidate } from '../../core/models/candidate.js';
import { buildTrainingSet } from '../../core/models/training-set.js';
import { promote } from '../../core/models/registry.js';
import { releaseScoringSessions } from '../../core/scoring/model-loader.js';
import { readEncodedMonth, scoreMonth } from '../../core/scoring/score-month.js';
import { startScoringServer, type ScoredApplication, type ScoringServer } from '../../core/serving/app.js';
import { encodedToRaw, REASON_COUNT } from '../../core/explain/contributions.js';
import { EXPLANATION_COLUMNS } from '../../core/explain/gold.js';
import { explainApplication } from '../../core/scoring/application-explanation.js';
import { attributionShift } from '../../core/explain/attribution.js';
import { computeMonitoringTable, monitoringSettings } from '../../core/monitoring/table.js';
import { dashboardData } from '../../core/monitoring/report.js';
import { dashboardHtml } from '../../core/monitoring/dashboard.js';
import { Booster } from '../../core/xgboost/index.js';
import { datamart, partitionFile } from '../../lib/layout.js';
import { reasonStatement } from '../../lib/reason-codes.js';
import { SAMPLE_MONTHS } from '../../tools/bench/sample-models.js';
import { sampleModels } from '../helpers/sample-cache.js';
import { rawApplications } from '../../tools/bench/sample-applications.js';
import { FIXTURE_DIR } from '../helpers/fixture.js';
import { scratchConfig } from '../helpers/temporal.js';
import { waitUntil } from '../helpers/wait.js';

const scratch = scratchConfig('explanations');
const { config } = scratch;
const models = { gbtree: '', gblinear: '', rf: '' };
type Family = keyof typeof models;
const FAMILIES: Family[] = ['gbtree', 'gblinear', 'rf'];

interface ExplainedRow {
  loan_id: string;
  snapshot_date: string;
  model_id: string;
  default_probability: number;
  bias: number;
  contributions: string;
  missing_features: string[];
  [column: string]: unknown;
}

before(async () => {
  const sample = await sampleModels(config); // gbtree (production, scored) and gblinear
  const trainingSet = await buildTrainingSet({ datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, asOf: '2024-12' });
  const rf = await trainCandidate({ trainingSet, family: 'rf' });
  models.gbtree = sample.gbtree;
  models.gblinear = sample.gblinear;
  models.rf = (await registerModel({ modelBankDir: config.MODEL_BANK_DIR, trainingSet, candidate: rf, workflow: { workflowId: 'explanations-test', runId: 'run' } })).modelId;
  for (const family of ['gblinear', 'rf'] as const) {
    for (const month of SAMPLE_MONTHS) await scoreMonth({ datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, month, modelId: models[family] });
  }
});

after(async () => {
  await releaseScoringSessions();
  scratch.cleanup();
});

async function explainedRows(modelId: string): Promise<ExplainedRow[]> {
  const explanations = readParquet(join(datamart.explanations(config.DATAMART_DIR, modelId), '*', 'data.parquet'));
  const predictions = readParquet(join(datamart.predictions(config.DATAMART_DIR, modelId), '*', 'data.parquet'));
  return withDuckDB((db) =>
    queryRows<ExplainedRow>(
      db,
      `SELECT e.* REPLACE (CAST(e.snapshot_date AS VARCHAR) AS snapshot_date, CAST(e.contributions AS VARCHAR) AS contributions),
              p.default_probability
       FROM ${explanations} AS e FULL JOIN ${predictions} AS p USING (loan_id, model_id)
       ORDER BY loan_id`,
    ),
  );
}

for (const family of FAMILIES) {
  test(`${family}: every row of the real sample: bias + Σ contributions = logit of the ONNX score to 1e-4, sigmoid to 1e-5; reasons are the largest positive contributions`, async (t) => {
    const modelId = models[family];
    const { metadata } = await loadVerifiedModel(config.MODEL_BANK_DIR, modelId);
    const rows = await explainedRows(modelId);
    assert.ok(rows.length > 1000, `${rows.length} explained rows`);
    let worstMargin = 0;
    let worstMarginAt = 0;
    let worstProbability = 0;
    let withMissing = 0;
    for (const row of rows) {
      assert.equal(row.model_id, modelId);
      assert.ok(typeof row.default_probability === 'number', `${row.loan_id}: explained without a prediction, or predicted without an explanation`);
      const contributions = JSON.parse(row.contributions) as Record<string, number>;
      assert.deepEqual(Object.keys(contributions), metadata.features, `${row.loan_id}: one contribution per raw feature of the model`);
      const margin = row.bias + Object.values(contributions).reduce((a, b) => a + b, 0);
      const p = row.default_probability;
      const marginDifference = Math.abs(margin - Math.log(p / (1 - p)));
      if (marginDifference > worstMargin) [worstMargin, worstMarginAt] = [marginDifference, p];
      worstProbability = Math.max(worstProbability, Math.abs(1 / (1 + Math.exp(-margin)) - p));
      const up = Object.entries(contributions)
        .filter(([, value]) => value > 0)
        .sort((a, b) => b[1] - a[1])
        .slice(0, REASON_COUNT);
      for (let k = 0; k < REASON_COUNT; k++) {
        assert.equal(row[`reason_${k + 1}`], up[k]?.[0] ?? null, `${row.loan_id} reason_${k + 1}`);
        assert.equal(row[`contribution_${k + 1}`], up[k]?.[1] ?? null, `${row.loan_id} contribution_${k + 1}`);
      }
      if (row.missing_features.length > 0) withMissing++;
    }
    assert.ok(worstMargin <= 1e-4, `largest |bias + Σ − logit(p)| ${worstMargin}`);
    assert.ok(worstProbability <= 1e-5, `largest |sigmoid(bias + Σ) − p| ${worstProbability}`);
    assert.ok(withMissing > 0, 'the real sample has missing values; some rows must name them');
    t.diagnostic(`${family}: ${rows.length} rows, largest margin difference ${worstMargin.toExponential(2)} (at p = ${worstMarginAt}), probability ${worstProbability.toExponential(2)}`);
  });
}

test('columns of an explanations partition, its lineage, and the one-hot folding against libxgboost unfolded', async () => {
  const month = '2024-01';
  for (const family of FAMILIES) {
    const file = partitionFile(datamart.explanations(config.DATAMART_DIR, models[family]), month);
    const columns = await withDuckDB((db) => queryRows<{ column_name: string }>(db, `DESCRIBE SELECT * FROM ${readParquet(file)}`));
    assert.deepEqual(columns.map((c) => c.column_name), [...EXPLANATION_COLUMNS]);
    const lineage = await readLineage(file);
    assert.ok(lineage, `${file} has a lineage`);
    assert.equal(lineage.table, `gold/explanations/${models[family]}/${month}`);
    const featureLineage = await readLineage(partitionFile(datamart.featureStore(config.DATAMART_DIR), month));
    assert.equal(lineage.inputs[`gold/feature_store/${month}`], featureLineage?.fingerprint);
    const model = await loadVerifiedModel(config.MODEL_BANK_DIR, models[family]);
    assert.equal(lineage.inputs['booster.json'], model.metadata.artifacts_sha256['booster.json']);
  }

  // Folding: a categorical's contribution is the sum of its one-hot columns', a numeric feature's its own column's.
  const model = await loadVerifiedModel(config.MODEL_BANK_DIR, models.gbtree);
  const featureFile = partitionFile(datamart.featureStore(config.DATAMART_DIR), month);
  const encoded = await withDuckDB((db) => readEncodedMonth(db, featureFile, model.preprocessor));
  const booster = Booster.fromJson(model.boosterJson);
  const unfolded = booster.predictContributions(encoded.matrix);
  booster.dispose();
  const keys = await withDuckDB((db) => queryRows<{ loan_id: string; file_row_number: bigint }>(db, `SELECT CAST(loan_id AS VARCHAR) AS loan_id, file_row_number FROM read_parquet('${featureFile}', file_row_number = true)`));
  const loanOfFileRow = new Map(keys.map((k) => [Number(k.file_row_number), k.loan_id]));
  const gold = new Map((await explainedRows(models.gbtree)).map((row) => [row.loan_id, row]));
  let categoricalsChecked = 0;
  for (let row = 0; row < encoded.matrix.rows; row++) {
    const written = gold.get(loanOfFileRow.get(Number(encoded.fileRowNumbers[row]))!)!;
    const contributions = JSON.parse(written.contributions) as Record<string, number>;
    for (const feature of model.preprocessor.features) {
      const columns = model.preprocessor.encoded
        .map((name, index) => ({ name, index }))
        .filter(({ name }) => (feature.kind === 'numeric' ? name === feature.name : name.startsWith(`${feature.name}=`)));
      const sum = columns.reduce((total, { index }) => total + unfolded.values[row * unfolded.cols + index], 0);
      assert.ok(Math.abs(sum - contributions[feature.name]) < 1e-12, `${written.loan_id} ${feature.name}: ${sum} vs ${contributions[feature.name]}`);
      if (feature.kind === 'categorical' && columns.length > 1) categoricalsChecked++;
    }
    assert.equal(written.bias, unfolded.values[row * unfolded.cols + unfolded.cols - 1]);
  }
  assert.ok(categoricalsChecked > 0, 'the model has categoricals with several one-hot columns');
  assert.equal(encodedToRaw(model.preprocessor).length, model.preprocessor.encoded.length);
});

test('missing values are named as missing: a NULL feature-store value is in missing_features and the statement says so', async () => {
  const month = '2024-01';
  const featureFile = partitionFile(datamart.featureStore(config.DATAMART_DIR), month);
  const model = await loadVerifiedModel(config.MODEL_BANK_DIR, models.gbtree);
  const numeric = model.preprocessor.features.filter((feature) => feature.kind === 'numeric').map((feature) => feature.name);
  const nulls = await withDuckDB((db) =>
    queryRows<{ loan_id: string; missing: string[] }>(
      db,
      `SELECT CAST(loan_id AS VARCHAR) AS loan_id, list_filter([${numeric.map((name) => `CASE WHEN "${name}" IS NULL OR isnan("${name}") THEN '${name}' END`).join(', ')}], x -> x IS NOT NULL) AS missing FROM ${readParquet(featureFile)}`,
    ),
  );
  const gold = new Map((await explainedRows(models.gbtree)).map((row) => [row.loan_id, row]));
  let rowsWithNull = 0;
  for (const { loan_id, missing } of nulls) {
    const written = gold.get(loan_id)!;
    const writtenNumeric = written.missing_features.filter((name) => numeric.includes(name));
    assert.deepEqual(writtenNumeric, missing, loan_id);
    if (missing.length > 0) rowsWithNull++;
  }
  assert.ok(rowsWithNull > 0, `${month} has rows with a missing number`);
  assert.equal(reasonStatement('Num_of_Delayed_Payment', true), 'Number of delayed payments (no usable value on record)');
});

test('batch reasons = API reasons for the same applications and model, to 1e-6 (gbtree and rf in production)', async () => {
  const applications = rawApplications(FIXTURE_DIR);
  const byLoan = new Map(applications.map((application) => [application.loan.loan_id.trim(), application]));
  let server: ScoringServer | undefined;
  try {
    server = await startScoringServer({
      datamartDir: config.DATAMART_DIR,
      modelBankDir: config.MODEL_BANK_DIR,
      host: '127.0.0.1',
      port: 0,
      bodyLimitBytes: 1 << 20,
      maxBatch: 64,
      maxQueue: 10_000,
      featureConnections: 1,
      featureThreads: 1,
      loneRequestThreads: 1,
      registryPollMs: 100,
      flushRows: 100_000,
      flushSeconds: 3600,
      maxEventLoopDelayMs: 5000,
      logLevel: 'warn',
      logStream: new PassThrough(),
    });
    for (const family of ['gbtree', 'rf'] as const) {
      const modelId = models[family];
      await promote(config.MODEL_BANK_DIR, modelId, 'explanations test');
      // The holder polls registry.json (every 100 ms here); a check already under way may have read it before.
      await waitUntil(`the server to serve ${modelId}`, async () => {
        await server!.holder.check();
        return server!.holder.current?.modelId === modelId;
      }, { timeoutMs: 60_000, lastSeen: () => server?.holder.current?.modelId });
      const gold = (await explainedRows(modelId)).filter((row) => byLoan.has(row.loan_id));
      const sample = family === 'gbtree' ? gold : gold.filter((_, index) => index % 5 === 0);
      let worst = 0;
      for (let start = 0; start < sample.length; start += 64) {
        const batch = sample.slice(start, start + 64);
        const response: Response = await fetch(`${server.url}/v1/score`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ applications: batch.map((row) => byLoan.get(row.loan_id)) }),
        });
        assert.equal(response.status, 200);
        const { results } = (await response.json()) as { results: ScoredApplication[] };
        results.forEach((answer, index) => {
          const expected = batch[index];
          assert.equal(answer.loan_id, expected.loan_id);
          assert.equal(answer.model_id, modelId);
          const written = Array.from({ length: REASON_COUNT }, (_, k) => ({ feature: expected[`reason_${k + 1}`], contribution: expected[`contribution_${k + 1}`] })).filter((r) => r.feature !== null);
          assert.deepEqual(answer.reasons.map((r) => r.feature), written.map((r) => r.feature), `${expected.loan_id}: reasons`);
          answer.reasons.forEach((reason, k) => {
            worst = Math.max(worst, Math.abs(reason.contribution - (written[k].contribution as number)));
            assert.equal(reason.value_missing, expected.missing_features.includes(reason.feature));
            assert.equal(reason.statement, reasonStatement(reason.feature, reason.value_missing));
          });
        });
      }
      assert.ok(worst <= 1e-6, `${family}: largest API/batch contribution difference ${worst}`);
      assert.ok(sample.length > 100);
    }
  } finally {
    await server?.close();
  }
});

test('npm run explain on the real sample: a defaulted loan gets its score, band and four reasons in plain words; computed = gold', async () => {
  const modelId = models.gbtree;
  await promote(config.MODEL_BANK_DIR, modelId, 'explain test: the production model explains by default');
  const labels = readParquet(join(datamart.labelStore(config.DATAMART_DIR), '*', 'data.parquet'));
  const [defaulted] = await withDuckDB((db) =>
    queryRows<{ loan_id: string; reason_1: string; reason_2: string; reason_3: string; reason_4: string }>(
      db,
      `SELECT e.loan_id, reason_1, reason_2, reason_3, reason_4
       FROM ${readParquet(join(datamart.explanations(config.DATAMART_DIR, modelId), '*', 'data.parquet'))} AS e
       JOIN ${labels} AS l ON CAST(l.loan_id AS VARCHAR) = e.loan_id
       WHERE l.label = 1 AND reason_4 IS NOT NULL ORDER BY e.loan_id LIMIT 1`,
    ),
  );
  assert.ok(defaulted, 'a defaulted loan with four reasons');
  const run = promisify(execFile);
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/explain.ts', '--loan-id', defaulted.loan_id], {
    env: { ...process.env, DATAMART_DIR: config.DATAMART_DIR, MODEL_BANK_DIR: config.MODEL_BANK_DIR },
  });
  assert.match(stdout, new RegExp(`loan ${defaulted.loan_id}, applied \\d{4}-\\d{2}, model ${modelId} \\(from gold/explanations\\)`));
  assert.match(stdout, /default probability 0\.\d{4}, risk band (Low|Medium|High)/);
  assert.match(stdout, /observed: defaulted/);
  const reasonLines = stdout.split('\n').filter((line) => /^[1-4] {2}/.test(line));
  assert.equal(reasonLines.length, 4, stdout);
  [defaulted.reason_1, defaulted.reason_2, defaulted.reason_3, defaulted.reason_4].forEach((feature, index) => {
    assert.ok(reasonLines[index].includes(reasonStatement(feature)) && reasonLines[index].includes(feature), `${reasonLines[index]} names ${feature}`);
  });

  // Without the month's partition the same reasons are computed from the feature store with the same model.
  const fromGold = await explainApplication({ datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, loanId: defaulted.loan_id });
  const partition = dirname(partitionFile(datamart.explanations(config.DATAMART_DIR, modelId), fromGold.application_month));
  await rename(partition, `${partition}.aside`);
  try {
    const computed = await explainApplication({ datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, loanId: defaulted.loan_id, modelId });
    assert.equal(fromGold.source, 'gold');
    assert.equal(computed.source, 'computed');
    assert.deepEqual(computed.reasons.map((r) => r.feature), fromGold.reasons.map((r) => r.feature));
    computed.reasons.forEach((reason, k) => assert.ok(Math.abs(reason.contribution - fromGold.reasons[k].contribution) <= 1e-6));
    assert.ok(Math.abs(computed.default_probability - fromGold.default_probability) <= 1e-6);
    assert.equal(computed.risk_band, fromGold.risk_band);
    assert.equal(computed.label?.label, 1);
  } finally {
    await rename(`${partition}.aside`, partition);
  }
});

test('model level: metadata holds mean |contribution| per raw feature on train and OOT; monitoring gives each month its attribution drift', async () => {
  const modelId = models.gbtree;
  const { metadata } = await loadVerifiedModel(config.MODEL_BANK_DIR, modelId);
  const attribution = metadata.attribution;
  assert.ok(attribution, 'metadata.attribution');
  for (const set of ['train', 'oot'] as const) {
    assert.deepEqual(Object.keys(attribution[set]), metadata.features);
    assert.ok(Object.values(attribution[set]).every((value) => value >= 0));
    assert.ok(attribution.rows[set] > 100);
  }
  const settings = monitoringSettings(config);
  const { rows } = await computeMonitoringTable(settings, '2024-12', modelId);
  assert.ok(rows.length > 12);
  const gold = await explainedRows(modelId);
  for (const row of rows) {
    const month = row.snapshot_date.slice(0, 7);
    const monthRows = gold.filter((r) => r.snapshot_date.startsWith(month)).map((r) => JSON.parse(r.contributions) as Record<string, number>);
    const means: Record<string, number> = Object.fromEntries(metadata.features.map((f) => [f, monthRows.reduce((sum, c) => sum + Math.abs(c[f]), 0) / monthRows.length]));
    // Independently of attributionShift: total variation of the shares, by hand.
    const total = (m: Record<string, number>) => Object.values(m).reduce((a, b) => a + b, 0);
    const [baseTotal, monthTotal] = [total(attribution.train), total(means)];
    const shifts: number[] = metadata.features.map((f) => means[f] / monthTotal - attribution.train[f] / baseTotal);
    const expected = shifts.reduce((sum, shift) => sum + Math.abs(shift), 0) / 2;
    assert.ok(row.attribution_shift !== null && Math.abs(row.attribution_shift - expected) < 1e-9, `${month}: ${row.attribution_shift} vs ${expected}`);
    const largest: number = shifts.reduce((best, shift, index) => (Math.abs(shift) > Math.abs(shifts[best]) ? index : best), 0);
    assert.equal(row.max_attribution_shift_feature, metadata.features[largest]);
    assert.ok(Math.abs(row.max_attribution_shift! - shifts[largest]) < 1e-9);
  }
  // The dashboard's top drivers: the five largest training shares, and their share in every monitored month.
  const drivers = (await dashboardData(settings, '2024-12', modelId)).drivers;
  assert.ok(drivers);
  const trainTotal = Object.values(attribution.train).reduce((a, b) => a + b, 0);
  const topFive = Object.entries(attribution.train).sort((a, b) => b[1] - a[1]).slice(0, 5);
  assert.deepEqual(drivers.baseline.map((d) => d.feature), topFive.map(([f]) => f));
  drivers.baseline.forEach((d, i) => assert.ok(Math.abs(d.share - topFive[i][1] / trainTotal) < 1e-12));
  assert.equal(drivers.months.length, 5 * rows.length);
  const page = dashboardHtml(await dashboardData(settings, '2024-12', modelId), Buffer.from(''));
  assert.match(page, /<h2>Top drivers<\/h2>[\s\S]*<table id="drivers">/);
  for (const { feature } of drivers.baseline) assert.ok(page.includes(`<th>${feature}</th>`), `the drivers table names ${feature}`);
  assert.deepEqual(attributionShift({ a: 1, b: 1 }, { a: 3, b: 1 }), { attribution_shift: 0.25, max_attribution_shift_feature: 'a', max_attribution_shift: 0.25 });
});
