// The online scoring API on the real sample: every application's raw records score exactly as the batch path
// scored them; bad requests get 400 naming the field and the server keeps serving; promotion and rollback swap the
// served model under continuous load without a failed request; shutdown finishes in-flight requests and writes the
// online scores, whose PSI against the batch scores of the same month is then 0.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { startScoringServer, type ScoredApplication, type ScoringServer, type ServeOptions } from '../../core/serving/app.js';
import { testServeOptions } from '../helpers/serve-options.js';
import { onlineBatchPsi } from '../../core/monitoring/online-skew.js';
import { onlinePredictionsGlob, writeOnlinePredictions } from '../../core/serving/online-predictions.js';
import { queryRows, readParquet, sqlString, withDuckDB } from '../../core/duckdb.js';
import { promote, rollback } from '../../core/models/registry.js';
import { releaseScoringSessions } from '../../core/scoring/model-loader.js';
import { datamart, partitionDir } from '../../lib/layout.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { FIXTURE_DIR, scratchConfig, startTemporal, withWorker } from '../helpers/temporal.js';
import { PROJECT_ROOT } from '../../workers/dev-server.js';
import { LIFECYCLE_WORKFLOW_ID } from '../../lib/temporal.js';
import { modelLifecycleWorkflow } from '../../workflows/index.js';
import { rawApplications, type FixtureApplication } from '../../tools/bench/sample-applications.js';
import { placeApplication } from '../../core/serving/online-features.js';
import { addMonths } from '../../lib/months.js';
import { batchPredictions, type BatchPrediction, type SampleModels } from '../../tools/bench/sample-models.js';
import { sampleModels } from '../helpers/sample-cache.js';
import { waitUntil } from '../helpers/wait.js';

const scratch = scratchConfig('serving');
const { config } = scratch;
let models: SampleModels;
let batch: BatchPrediction[];
let applications: FixtureApplication[];
let server: ScoringServer;
const logs: string[] = [];
const run = promisify(execFile);

// A lone request's features on a DuckDB of their own: the parity test's answers come from both.
const serveOptions = (): ServeOptions => testServeOptions(config, logs, { maxBatch: 64, maxQueue: 10_000, featureConnections: 2, featureThreads: 2 });

before(async () => {
  models = await sampleModels(config);
  batch = await batchPredictions(config, models.gbtree);
  applications = rawApplications(FIXTURE_DIR);
  server = await startScoringServer(serveOptions());
});

after(async () => {
  await server?.close();
  await releaseScoringSessions();
  scratch.cleanup();
});

/** What /v1/score answers: one scored application, a batch of them, or an error with its message. */
type ScoreAnswer = ScoredApplication & { results: ScoredApplication[]; message: string };

async function post(body: unknown, raw = false): Promise<{ status: number; json: ScoreAnswer }> {
  const response = await fetch(`${server.url}/v1/score`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: raw ? (body as string) : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

/** Runs `work` over `items` with `concurrency` requests in flight. */
async function pooled<T, R>(items: readonly T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index]);
      }
    }),
  );
  return results;
}

test('readiness, model and metrics routes name the production model', async () => {
  assert.equal((await (await fetch(`${server.url}/healthz`)).json()).status, 'ok');
  const ready = await (await fetch(`${server.url}/readyz`)).json();
  assert.deepEqual(ready, { ready: true, model_id: models.gbtree });
  const model = await (await fetch(`${server.url}/v1/model`)).json();
  assert.equal(model.model_id, models.gbtree);
  assert.equal(model.model.family, 'gbtree');
  assert.equal(model.last_load_failure, null);
});

test('parity: every application of the real sample scores online as in batch, to 1e-6', async () => {
  const byLoan = new Map(applications.map((application) => [application.loan.loan_id.trim(), application]));
  assert.ok(batch.length > 1000, `batch predictions: ${batch.length}`);
  // Month by month, as applications arrive: concurrent requests share micro-batches.
  const ordered = [...batch].sort((a, b) => a.snapshot_date.localeCompare(b.snapshot_date) || a.loan_id.localeCompare(b.loan_id));
  const answers = await pooled(ordered, 16, (prediction) => post({ application: byLoan.get(prediction.loan_id) }));
  let worst = 0;
  answers.forEach(({ status, json }, index) => {
    const expected = ordered[index];
    assert.equal(status, 200, `${expected.loan_id}: ${JSON.stringify(json)}`);
    assert.equal(json.loan_id, expected.loan_id);
    assert.equal(json.model_id, models.gbtree);
    assert.equal(`${json.application_month}-01`, expected.snapshot_date);
    assert.equal(json.risk_band, expected.risk_band);
    assert.equal(json.predicted_default, expected.predicted_default);
    worst = Math.max(worst, Math.abs(json.default_probability - expected.default_probability));
  });
  assert.ok(worst <= 1e-6, `largest online/batch difference ${worst}`);
  console.log(`parity: ${answers.length} applications, largest difference ${worst}`);

  // One request at a time: each is alone on the server, and its features come from the lone-request DuckDB.
  const loneQueries = async () => Number(/credit_serving_feature_queries_total\{duckdb="lone_request"\} (\d+)/.exec(await (await fetch(`${server.url}/metrics`)).text())?.[1] ?? 0);
  const before = await loneQueries();
  for (const expected of ordered.slice(0, 20)) {
    const { status, json } = await post({ application: byLoan.get(expected.loan_id) });
    assert.equal(status, 200);
    assert.ok(Math.abs(json.default_probability - expected.default_probability) <= 1e-6, `${expected.loan_id} alone: ${json.default_probability}`);
  }
  assert.equal((await loneQueries()) - before, 20);

  // Applications the batch path quarantined are refused online with the silver reason, not scored.
  const scoredLoans = new Set(batch.map((prediction) => prediction.loan_id));
  const unscored = applications.filter((application) => !scoredLoans.has(application.loan.loan_id.trim()));
  for (const application of unscored.slice(0, 5)) {
    const { status, json } = await post({ application });
    assert.equal(status, 422, JSON.stringify(json));
    assert.match(json.message, /rejected by the silver checks/);
  }
});

test('a batch request answers each application in order, with the features it used', async () => {
  const chosen = batch.slice(0, 5);
  const byLoan = new Map(applications.map((application) => [application.loan.loan_id.trim(), application]));
  const { status, json } = await post({ applications: chosen.map((prediction) => byLoan.get(prediction.loan_id)) });
  assert.equal(status, 200);
  assert.deepEqual(json.results.map((r) => r.loan_id), chosen.map((p) => p.loan_id));
  json.results.forEach((result, index) => {
    assert.ok(Math.abs(result.default_probability - chosen[index].default_probability) <= 1e-6);
    assert.equal(typeof result.features.loan_amt, 'number');
    assert.ok('clickstream_months_since' in result.features);
    assert.ok(result.threshold > 0 && result.threshold < 1);
  });
});

test('an application repeating a clickstream month is cleaned as the batch path would: identical repeat kept once, conflicting ones rejected', async () => {
  // The sample has no such application: micro-batches without repeated clickstream keys skip the repeat checks
  // (cleanedSelect's keysUnique), these take the full ones.
  const byLoan = new Map(applications.map((application) => [application.loan.loan_id.trim(), application]));
  const chosen = batch
    .map((prediction) => byLoan.get(prediction.loan_id)!)
    .find((application) => {
      const placed = placeApplication(application, 'application');
      const months = new Set(placed.clickstream.map((click) => click.month));
      return months.has(placed.month) && months.has(addMonths(placed.month, -1));
    })!;
  assert.ok(chosen, 'an application with clickstream rows in its month and the month before');
  const placed = placeApplication(chosen, 'application');
  const latest = placed.clickstream.find((click) => click.month === placed.month)!.record as Record<string, string>;
  const original = await post({ application: chosen });
  assert.equal(original.json.features.clickstream_months_since, 0);

  const identical = await post({ application: { ...chosen, clickstream: [...chosen.clickstream, latest] } });
  assert.equal(identical.status, 200);
  assert.deepEqual(identical.json.features, original.json.features);
  assert.equal(identical.json.default_probability, original.json.default_probability);

  const conflicting = { ...latest, fe_1: String(Number(latest.fe_1.replace(/_+$/, '')) + 1) };
  const answer = await post({ application: { ...chosen, clickstream: [...chosen.clickstream, conflicting] } });
  assert.equal(answer.status, 200);
  assert.equal(answer.json.features.clickstream_months_since, 1, 'both rows of the month rejected: the month before is the latest');
});

test('bad requests get 400 naming the field and the reason; the server keeps serving; no request data is logged', async () => {
  const good = applications.find((application) => batch.some((p) => p.loan_id === application.loan.loan_id.trim()))!;
  const { loan_amt: _dropped, ...loanWithoutAmount } = good.loan as Record<string, string>;
  const cases: Array<{ name: string; body: unknown; raw?: boolean; message: RegExp }> = [
    { name: 'missing field', body: { application: { ...good, loan: loanWithoutAmount } }, message: /application\.loan\.loan_amt: .*expected string/ },
    { name: 'wrong type', body: { application: { ...good, loan: { ...good.loan, tenure: 10 } } }, message: /application\.loan\.tenure: .*expected string, received number/ },
    { name: 'unknown customer field', body: { application: { ...good, attributes: { ...good.attributes, Salary: '1' } } }, message: /application\.attributes: Unrecognized key: "Salary"/ },
    { name: 'unknown top-level field', body: { application: good, extra: 1 }, message: /Unrecognized key: "extra"/ },
    { name: 'neither one nor a batch', body: {}, message: /exactly one of "application" .* or "applications"/ },
    { name: 'undated record', body: { application: { ...good, financials: { ...good.financials, snapshot_date: '2024-13-01' } } }, message: /application\.financials\.snapshot_date: not a first-of-month date/ },
    { name: 'attributes of another month', body: { application: { ...good, attributes: { ...good.attributes, snapshot_date: '1999-01-01' } } }, message: /application\.attributes\.snapshot_date: month 1999-01 is not the application month/ },
    { name: 'prototype key', body: `{"__proto__": {"polluted": true}, "application": ${JSON.stringify(good)}}`, raw: true, message: /Unrecognized key: "__proto__"/ },
    { name: 'constructor key', body: { application: { ...good, constructor: { prototype: { polluted: true } } } }, message: /application: Unrecognized key: "constructor"/ },
    { name: 'malformed JSON', body: '{"application": {"loan": ', raw: true, message: /body: malformed JSON/ },
    { name: 'oversized body', body: JSON.stringify({ application: good, padding: 'x'.repeat(300 * 1024) }), raw: true, message: /body: larger than the 262144-byte limit/ },
  ];
  for (const { name, body, raw, message } of cases) {
    const { status, json } = await post(body, raw);
    assert.equal(status, 400, `${name}: ${JSON.stringify(json)}`);
    assert.match(json.message, message, name);
    const healthy = await post({ application: good });
    assert.equal(healthy.status, 200, `${name}: the next good request`);
  }
  assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined, 'a request body reached Object.prototype');
  // A well-formed application whose loan row the silver checks quarantine is refused with their reason.
  const negative = await post({ application: { ...good, loan: { ...good.loan, loan_amt: '-10000' } } });
  assert.equal(negative.status, 422);
  assert.match(negative.json.message, /rejected by the silver checks: negative loan_amt/);
  // A lone UTF-16 surrogate (valid JSON text, not valid UTF-8) is dirty text like any other: scored, no failed batch.
  const surrogate = await post({ application: { ...good, attributes: { ...good.attributes, Occupation: '\ud800' }, financials: { ...good.financials, Credit_Mix: 'x\udfff' } } });
  assert.equal(surrogate.status, 200, JSON.stringify(surrogate.json));
  assert.equal(surrogate.json.features.Occupation, null);
  assert.equal(surrogate.json.features.Credit_Mix, null);
  const logged = logs.join('');
  assert.ok(!logged.includes(good.loan.Customer_ID) && !logged.includes(good.attributes!.Name!), 'a customer id or name reached the log');
});

/**
 * Sends this month's applications continuously from 8 clients while `promoteThenRollback` runs its two changes;
 * checks that each change reached the answers within 5 s, that no request failed, and that every answer was scored
 * wholly by the model it names (gbtree's answers equal the batch predictions; gblinear gives one other value each).
 */
async function swapUnderLoad(label: string, change: { promote: () => Promise<void>; rollback: () => Promise<void> }): Promise<void> {
  const byLoan = new Map(applications.map((application) => [application.loan.loan_id.trim(), application]));
  const probe = batch.filter((p) => p.snapshot_date === '2024-06-01');
  const answers: Array<{ at: number; status: number; modelId: string; loanId: string; probability: number }> = [];
  let running = true;
  const clients = Array.from({ length: 8 }, async (_, client) => {
    for (let i = client; running; i += 8) {
      const prediction = probe[i % probe.length];
      const { status, json } = await post({ application: byLoan.get(prediction.loan_id) });
      answers.push({ at: Date.now(), status, modelId: json.model_id, loanId: json.loan_id, probability: json.default_probability });
    }
  });
  /** How long after `since` the first answer by `modelId` came (Infinity when none came within 10 s: the assertion says so). */
  const firstAnswerBy = (modelId: string, since: number) =>
    waitUntil(`an answer by ${modelId}`, () => answers.find((answer) => answer.at >= since && answer.modelId === modelId), { timeoutMs: 10_000, intervalMs: 20 })
      .then((hit) => hit.at - since, () => Infinity);
  const swapsBefore = (await server.metrics.swaps.get()).values[0]?.value ?? 0;
  try {
    await new Promise((wait) => setTimeout(wait, 500));
    await change.promote();
    const promotionLag = await firstAnswerBy(models.gblinear, Date.now());
    await new Promise((wait) => setTimeout(wait, 500));
    await change.rollback();
    const rollbackLag = await firstAnswerBy(models.gbtree, Date.now());
    await new Promise((wait) => setTimeout(wait, 500));
    running = false;
    await Promise.all(clients);

    console.log(`hot swap (${label}): ${answers.length} requests; promotion seen ${promotionLag} ms after it returned, rollback ${rollbackLag} ms`);
    assert.ok(promotionLag <= 5000, `promotion reached answers after ${promotionLag} ms`);
    assert.ok(rollbackLag <= 5000, `rollback reached answers after ${rollbackLag} ms`);
    assert.deepEqual(answers.filter((answer) => answer.status !== 200), [], 'every request succeeded');
    const expected = new Map(probe.map((p) => [p.loan_id, p.default_probability]));
    const linear = new Map<string, Set<number>>();
    for (const answer of answers) {
      if (answer.modelId === models.gbtree) assert.ok(Math.abs(answer.probability - expected.get(answer.loanId)!) <= 1e-6);
      else {
        assert.equal(answer.modelId, models.gblinear);
        linear.set(answer.loanId, (linear.get(answer.loanId) ?? new Set()).add(answer.probability));
      }
    }
    assert.ok(linear.size > 0);
    for (const [loanId, values] of linear) {
      assert.equal(values.size, 1, `${loanId}: gblinear answers disagree`);
      assert.notEqual([...values][0], expected.get(loanId), `${loanId}: gblinear gave gbtree's score`);
    }
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, new RegExp(`credit_serving_model_info\\{model_id="${models.gbtree}"\\} 1`));
    assert.equal((await server.metrics.swaps.get()).values[0].value, swapsBefore + 2);
  } finally {
    running = false;
    await Promise.all(clients);
  }
}

test('hot swap under load, registry functions: promotion and rollback switch the served model within 5 s, no request fails', async () => {
  await swapUnderLoad('registry', {
    promote: async () => void (await promote(config.MODEL_BANK_DIR, models.gblinear, 'hot swap test')),
    rollback: async () => void (await rollback(config.MODEL_BANK_DIR, 'hot swap test')),
  });
});

test('hot swap under load, `npm run promote` / `npm run rollback` through model-lifecycle on a dev server', async () => {
  const env = await startTemporal();
  try {
    await withWorker(env, config, async () => {
      await env.client.workflow.start(modelLifecycleWorkflow, { workflowId: LIFECYCLE_WORKFLOW_ID, taskQueue: config.TEMPORAL_TASK_QUEUE, args: [{}] });
      const command = async (script: string, ...args: string[]) => {
        const { stdout } = await run(process.execPath, ['--import', 'tsx', `scripts/${script}.ts`, ...args], {
          cwd: PROJECT_ROOT,
          env: { ...process.env, TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: env.namespace ?? 'default', TEMPORAL_TASK_QUEUE: config.TEMPORAL_TASK_QUEUE },
          timeout: 60_000,
        });
        return stdout;
      };
      await swapUnderLoad('model-lifecycle', {
        // --force: the test before rolled gblinear back, and a rolled-back model goes through the gate again unless forced.
        promote: async () => assert.match(await command('promote', '--model', models.gblinear, '--reason', 'serving test', '--force'), new RegExp(`production model: ${models.gblinear}`)),
        rollback: async () => assert.match(await command('rollback', '--reason', 'serving test'), new RegExp(`production model: ${models.gbtree}`)),
      });
    });
  } finally {
    await env.teardown();
  }
});

test('a production model that fails verification is not loaded: the old one keeps serving, the failure is reported', async () => {
  const { writeFile, readFile } = await import('node:fs/promises');
  const { modelBank } = await import('../../lib/layout.js');
  const file = modelBank.file(config.MODEL_BANK_DIR, models.gblinear, 'model.onnx');
  const original = await readFile(file);
  const edited = Buffer.from(original);
  edited[edited.length >> 1] ^= 0x01;
  await writeFile(file, edited);
  try {
    await promote(config.MODEL_BANK_DIR, models.gblinear, 'tampered');
    await server.holder.check();
    const model = await (await fetch(`${server.url}/v1/model`)).json();
    assert.equal(model.model_id, models.gbtree);
    assert.equal(model.last_load_failure.modelId, models.gblinear);
    assert.match(model.last_load_failure.message, /sha256 [0-9a-f]{64} does not match/);
    const byLoan = new Map(applications.map((application) => [application.loan.loan_id.trim(), application]));
    const { status, json } = await post({ application: byLoan.get(batch[0].loan_id) });
    assert.equal(status, 200);
    assert.equal(json.model_id, models.gbtree);
    assert.match(await (await fetch(`${server.url}/metrics`)).text(), /credit_serving_errors_total\{kind="model_load"\} 1/);
  } finally {
    await writeFile(file, original);
    await rollback(config.MODEL_BANK_DIR, 'restore after tamper test');
  }
});

test('shutdown finishes in-flight requests and writes their online scores; online vs batch PSI of a month is 0', async () => {
  const shutdownTestStart = new Date();
  const month = '2024-06';
  const monthLoans = batch.filter((p) => p.snapshot_date === `${month}-01`);
  const byLoan = new Map(applications.map((application) => [application.loan.loan_id.trim(), application]));
  const onlineDir = partitionDir(datamart.predictionsOnline(config.DATAMART_DIR), month);
  const inFlight = pooled([...monthLoans, ...monthLoans, ...monthLoans], 48, (p) =>
    post({ application: byLoan.get(p.loan_id) }).catch(() => ({ status: 0, json: null })),
  );
  await new Promise((wait) => setTimeout(wait, 100));
  await server.close();
  const answers = await inFlight;
  // Requests already received were answered in full; those sent after close began were refused (503 or no
  // connection), never cut off halfway: every answer is a score or a refusal.
  const scored = answers.filter((a) => a.status === 200);
  assert.ok(scored.length > 0, 'some requests were in flight when shutdown began');
  assert.deepEqual(answers.filter((a) => ![200, 503, 0].includes(a.status)), []);
  assert.ok(scored.every((a) => a.json?.model_id === models.gbtree && typeof a.json?.default_probability === 'number'));
  // Every score answered during shutdown was written to gold/predictions_online before close() returned.
  assert.ok(readdirSync(onlineDir).some((name) => name.endsWith('.parquet')), 'online scores written at shutdown');
  const written = await withDuckDB((db) =>
    queryRows<{ n: number }>(db, `SELECT count(*) AS n FROM ${readParquet(onlinePredictionsGlob(config.DATAMART_DIR, month))} WHERE requested_at >= ${sqlString(shutdownTestStart.toISOString())}::TIMESTAMP`),
  );
  assert.equal(written[0].n, scored.length);

  const result = await onlineBatchPsi({ datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, modelId: models.gbtree, month });
  assert.ok(result, 'online scores of the month');
  assert.equal(result.n_batch, monthLoans.length);
  assert.ok(result.n_online >= monthLoans.length, `online rows ${result.n_online}`);
  assert.ok(result.online_psi !== null && result.online_psi < 0.01, `PSI ${result.online_psi} for the same scores`);

  // Online scores all near 1: the distributions differ and the PSI says so.
  await writeOnlinePredictions(config.DATAMART_DIR, Array.from({ length: 500 }, (_, i) => ({
    loanId: `skew-${i}`, customerId: 'CUS_0x0', month, modelId: models.gbtree, probability: 0.99, predictedDefault: 1 as const,
    riskBand: 'High' as const, requestedAt: new Date(), scoredAt: new Date(),
  })));
  const skewed = await onlineBatchPsi({ datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, modelId: models.gbtree, month });
  assert.ok(skewed?.online_psi != null && skewed.online_psi > 0.2, `PSI ${skewed?.online_psi} for skewed online scores`);
});
