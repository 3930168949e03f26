// No model from incomplete or since-corrected data (issue 27), on the real dev server over 2023-01..2023-12 of the real
// sample, training as of 2023-12, with scratch copies of the sources edited the way the probes did: a source
// month emptied, a file cut at a line boundary, undated rows. Each blocks the training with a message naming source,
// month and counts, and once the file is restored the same backfill leaves production on the clean run's model (its id
// is content-addressed, so the reference run in another datamart gives it). An operator accepting the emptied month
// trains on it; after the fix, production follows the data back to the clean model through the gate. A tie keeps
// production.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Config } from '../../lib/config.js';
import { datamart, partitionFile, SOURCE_FILES, type Source } from '../../lib/layout.js';
import { workflowIds } from '../../lib/temporal.js';
import { readRegistry } from '../../core/models/registry.js';
import { readLineage } from '../../core/datamart/lineage.js';
import { incompleteGoldInputs, readAcceptedGaps } from '../../core/datamart/completeness.js';
import { productionStaleness } from '../../core/models/staleness.js';
import { evaluatePromotionGate } from '../../core/scoring/promotion-gate.js';
import { releaseScoringSessions } from '../../core/scoring/model-loader.js';
import { scoreMonth } from '../../core/scoring/score-month.js';
import { createMonitoringActivities } from '../../activities/monitoring.js';
import { backfillWorkflow, type BackfillResult } from '../../workflows/backfill.js';
import type { BackfillInput } from '../../lib/workflow-inputs.js';
import { copySources, editSourceLines } from '../helpers/sources.js';
import { FIXTURE_DIR, scratchConfig, startTemporal, withWorker } from '../helpers/temporal.js';

const FROM = '2023-01';
const TO = '2023-12';
const TRAIN_AT = '2023-12';
let env: TestWorkflowEnvironment;
const scratches: Array<ReturnType<typeof scratchConfig>> = [];
let clean: { modelId: string; config: Config } | undefined;
// One datamart that sees every probe in turn, as an operator's would.
const probed = { ...scratch('completeness-probes'), sourceDir: '' };
probed.sourceDir = copySources(probed.dir);

before(async () => {
  env = await startTemporal();
});
after(async () => {
  await releaseScoringSessions();
  await env?.teardown();
  for (const created of scratches) created.cleanup();
});

function scratch(name: string) {
  const created = scratchConfig(name);
  scratches.push(created);
  return created;
}

function backfill(config: Config, input: Partial<BackfillInput> & { sourceDir: string }): Promise<BackfillResult> {
  const args: BackfillInput = { from: FROM, to: TO, trainAt: TRAIN_AT, ...input };
  return env.client.workflow.execute(backfillWorkflow, {
    workflowId: workflowIds.backfill(FROM, TO, input.sourceDir),
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    args: [args],
  });
}

/** The backfill's failure message (it must fail) and its result carried in the failure's details. */
async function failedBackfill(config: Config, input: Partial<BackfillInput> & { sourceDir: string }): Promise<{ message: string; result: BackfillResult }> {
  const failure = await backfill(config, input).then(
    (result) => assert.fail(`the backfill succeeded: ${JSON.stringify(result.training)}`),
    (error: unknown) => error,
  );
  assert.ok(failure instanceof WorkflowFailedError, String(failure));
  const cause = failure.cause as Error & { details?: unknown[] };
  return { message: cause.message, result: cause.details?.[0] as BackfillResult };
}

const original = (source: Source) => readFileSync(join(FIXTURE_DIR, SOURCE_FILES[source]));
function restore(source: Source): void {
  writeFileSync(join(probed.sourceDir, SOURCE_FILES[source]), original(source));
}

/** Model ids of every registry event, in order. */
async function modelsInRegistry(config: Config): Promise<string[]> {
  return [...new Set((await readRegistry(config.MODEL_BANK_DIR)).history.map((event) => event.model_id))];
}

test('reference: a clean backfill trains and promotes; its summary names production, trained on the current data', async () => {
  const { config } = scratch('completeness-reference');
  await withWorker(env, config, async () => {
    const result = await backfill(config, { sourceDir: FIXTURE_DIR });
    assert.deepEqual(result.failed, []);
    assert.equal(result.trainingBlocked, null);
    assert.ok(result.training?.promoted, result.training?.reason);
    assert.equal(result.production, result.training!.modelId);
    assert.equal(result.productionStale, false);
    assert.deepEqual(await incompleteGoldInputs(config.DATAMART_DIR, TO), [], 'the real sample has no incomplete source month');
    clean = { modelId: result.training!.modelId, config };
  });
});

test('equal AUC keeps production: a twin of the production model does not pass the gate', async () => {
  assert.ok(clean);
  const { config, modelId } = clean;
  // The same artifacts under another id: the same scores on the same OOT rows, so exactly the same AUC.
  const twin = modelId.replace(/[0-9a-f]{12}$/, 'ffffffffffff');
  cpSync(join(config.MODEL_BANK_DIR, modelId), join(config.MODEL_BANK_DIR, twin), { recursive: true });
  const metadataFile = join(config.MODEL_BANK_DIR, twin, 'metadata.json');
  writeFileSync(metadataFile, JSON.stringify({ ...JSON.parse(readFileSync(metadataFile, 'utf8')), model_id: twin }, null, 2));
  const gate = await evaluatePromotionGate({
    datamartDir: config.DATAMART_DIR,
    modelBankDir: config.MODEL_BANK_DIR,
    modelId: twin,
    minAuc: config.PROMOTION_MIN_AUC,
    margin: config.PROMOTION_NON_INFERIORITY_MARGIN,
  });
  assert.ok(gate.candidateOotAuc! >= config.PROMOTION_MIN_AUC, 'it passes the minimum: only the tie keeps it out');
  assert.equal(gate.evidence?.auc_diff, 0, 'the same scores on the same rows');
  assert.equal(gate.promote, false);
  assert.equal(gate.action, 'keep');
  assert.match(gate.reason, new RegExp(`non-inferior but not better against production ${modelId}: .*equal is not better, production kept`));
  assert.equal((await readRegistry(config.MODEL_BANK_DIR)).production, modelId);
});

test('a source month emptied: training blocked naming source, month and counts; restored, production is the clean model', async () => {
  assert.ok(clean);
  const { config, sourceDir } = probed;
  const removed = editSourceLines(sourceDir, 'clickstream', (line) => (line.endsWith(',2023-04-01') ? null : line));
  assert.equal(removed, 1341);
  await withWorker(env, config, async () => {
    const { message, result } = await failedBackfill(config, { sourceDir });
    assert.deepEqual(result.failed, [], 'every month was built: the month is incomplete, not failed');
    assert.match(message, /no training as of 2023-12: incomplete source data: clickstream 2023-04: 0 rows against 1341 \(the median of 2023-01\.\.2023-03\)/);
    assert.match(message, /--accept-incomplete 2023-04 --reason TEXT/);
    assert.deepEqual(await modelsInRegistry(config), [], 'nothing trained, nothing promoted');
    const lineage = await readLineage(partitionFile(datamart.featureStore(config.DATAMART_DIR), '2023-04'));
    assert.deepEqual(lineage?.incomplete, [{ source: 'clickstream', month: '2023-04', rows: 0, expected: 1341, basis: 'the median of 2023-01..2023-03' }]);

    restore('clickstream');
    const fixed = await backfill(config, { sourceDir });
    assert.equal(fixed.training?.modelId, clean!.modelId);
    assert.equal(fixed.production, clean!.modelId, 'production is the clean run model');
    assert.equal(fixed.productionStale, false);
  });
});

test('an accepted gap trains on it; after the fix the same command puts the clean model back in production', async () => {
  assert.ok(clean);
  const { config, sourceDir } = probed;
  editSourceLines(sourceDir, 'clickstream', (line) => (line.endsWith(',2023-04-01') ? null : line));
  await withWorker(env, config, async () => {
    const accepted = await backfill(config, { sourceDir, acceptIncomplete: { months: ['2023-04'], reason: 'clickstream feed lost 2023-04 for good' } });
    assert.deepEqual(accepted.acceptedGaps, [{ source: 'clickstream', month: '2023-04', rows: 0 }]);
    assert.deepEqual((await readAcceptedGaps(config.DATAMART_DIR)).map((gap) => gap.reason), ['clickstream feed lost 2023-04 for good']);
    const gapModel = accepted.training!.modelId;
    assert.notEqual(gapModel, clean!.modelId, 'trained on other data');
    // The clean model's training data changed (2023-04 and the months reading its clickstream): it is no bar.
    assert.ok(accepted.training?.promoted, accepted.training?.reason);
    assert.match(accepted.training!.reason, new RegExp(`production ${clean!.modelId} was trained on data no longer current: gold/feature_store/2023-04`));
    assert.equal(accepted.production, gapModel);

    restore('clickstream');
    const fixed = await backfill(config, { sourceDir });
    assert.equal(fixed.training?.modelId, clean!.modelId);
    assert.equal(fixed.training?.reused, true, 'not trained again');
    assert.ok(fixed.training?.promoted, fixed.training?.reason);
    assert.match(fixed.training!.reason, new RegExp(`production ${gapModel} was trained on data no longer current`));
    assert.equal(fixed.production, clean!.modelId, 'production followed the fix');
    assert.equal((await readRegistry(config.MODEL_BANK_DIR)).production, clean!.modelId);
    assert.equal((await productionStaleness(config.DATAMART_DIR, config.MODEL_BANK_DIR)).stale, false);
  });
});

test('a file cut at a line boundary: training blocked against the rows ingested before; restored, production is the clean model', async () => {
  assert.ok(clean);
  const { config, sourceDir } = probed;
  // The clickstream is ordered by customer: 40% of its lines leave each month ~40% of its customers.
  editSourceLines(sourceDir, 'clickstream', (line, index, count) => (index < Math.floor(count * 0.4) ? line : null));
  await withWorker(env, config, async () => {
    const { message, result } = await failedBackfill(config, { sourceDir });
    assert.deepEqual(result.failed, []);
    assert.match(message, /no training as of 2023-12: incomplete source data: clickstream 2023-01: 537 rows against 1341 \(the rows ingested for this month before\)/);
    assert.match(message, /clickstream 2023-12: 536 rows against 1341/);
    assert.equal(result.training, null);
    assert.equal(result.production, clean!.modelId, 'the summary names production');
    assert.equal(result.productionStale, true, 'its training data is not what the datamart holds now');
    assert.equal((await readRegistry(config.MODEL_BANK_DIR)).production, clean!.modelId);
    // What `npm run status` and the console read, and monitoring's data finding.
    const staleness = await productionStaleness(config.DATAMART_DIR, config.MODEL_BANK_DIR);
    assert.equal(staleness.stale, true);
    assert.match(staleness.reason, new RegExp(`^production ${clean!.modelId} was trained on data no longer current: gold/feature_store/2023-01, `));
    await scoreMonth({ datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, month: TO, modelId: clean!.modelId });
    const monitoring = createMonitoringActivities(config);
    await monitoring.computeMonitoring({ asOf: TO, modelId: clean!.modelId });
    const decision = await monitoring.decideGovernance({ asOf: TO, modelId: clean!.modelId, workflowId: 'monitoring-stale', now: new Date().toISOString() });
    const finding = decision.findings.find((f) => f.metric === 'production_stale');
    assert.ok(finding, JSON.stringify(decision.findings));
    assert.equal(finding.kind, 'data');
    assert.match(finding.message, new RegExp(`^production model ${clean!.modelId} was trained on data no longer current: gold/feature_store/2023-01`));

    restore('clickstream');
    const fixed = await backfill(config, { sourceDir });
    assert.equal(fixed.production, clean!.modelId);
    assert.equal(fixed.productionStale, false);
  });
});

test('undated rows are quarantined against every month: the months fail naming source, month and counts; restored, production is the clean model', async () => {
  assert.ok(clean);
  const { config, sourceDir } = probed;
  const models = await modelsInRegistry(config);
  // snapshot_date blanked on every 10th ledger row (10%).
  const blanked = editSourceLines(sourceDir, 'loan_daily', (line, index) => (index % 10 === 9 ? line.replace(/,[^,]*$/, ',') : line));
  assert.equal(blanked, 1558);
  await withWorker(env, config, async () => {
    const { message, result } = await failedBackfill(config, { sourceDir });
    assert.ok(result.failed.length > 0);
    assert.match(message, /loan_daily 2023-03: 1558 of \d+ rows quarantined \(\d+\.\d% > 20\.0%\); top reasons: snapshot_date missing: a row of no month/);
    assert.match(message, /no training as of 2023-12: month\(s\) .*2023-03.* feed the training set and failed/);
    assert.deepEqual(await modelsInRegistry(config), models, 'nothing trained');

    restore('loan_daily');
    const fixed = await backfill(config, { sourceDir });
    assert.deepEqual(fixed.failed, []);
    assert.equal(fixed.production, clean!.modelId);
    assert.equal(fixed.productionStale, false);
  });
});
