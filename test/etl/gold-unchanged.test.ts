// The speed work must not change what the pipeline produces: on the real sample, the per-step ETL path (as the separate
// ETL activities ran it) and the one-connection-per-month path (the runMonthEtl activity) give the same gold and silver
// content and the same _lineage.json beside every partition, the same model id,
// predictions and monitoring, and all equal the hashes the code before the speed work produced
// (test/etl/gold-expected.json, computed with test/helpers/sample-pipeline.ts on the issue-14 branch: the code before the
// speed work, with model selection on the test months, which picks gblinear here, and the monitoring columns of issue 14).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lineageContents } from '../helpers/gold.js';
import { samplePipelineHashes } from '../helpers/sample-pipeline.js';

const expected = JSON.parse(readFileSync(new URL('./gold-expected.json', import.meta.url), 'utf8')) as Record<string, string>;

test('real sample: per-step and one-connection ETL paths give the gold, lineage, model id and monitoring of the code before', async () => {
  const work = await mkdtemp(join(tmpdir(), 'gold-unchanged-'));
  try {
    const perStep = await samplePipelineHashes(join(work, 'per-step'), 'per-step');
    const oneConnection = await samplePipelineHashes(join(work, 'one-connection'), 'one-connection');
    assert.deepEqual(perStep, expected);
    assert.deepEqual(oneConnection, expected);
    // …and the same lineage beside every partition, the clickstream lookback months' included (the month activity
    // runs the one-connection path; the per-step path is what the separate ETL activities did).
    const perStepLineage = await lineageContents(join(work, 'per-step', 'datamart'));
    const oneConnectionLineage = await lineageContents(join(work, 'one-connection', 'datamart'));
    assert.ok(Object.keys(perStepLineage).some((file) => file.startsWith('gold/feature_store/')), 'feature store lineage recorded');
    assert.ok(Object.keys(perStepLineage).some((file) => file.startsWith('gold/label_store/')), 'label store lineage recorded');
    assert.deepEqual(oneConnectionLineage, perStepLineage);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
