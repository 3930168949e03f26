// The speed work must not change what the pipeline produces: on the real sample, the per-step ETL path (as the ETL
// activities run it) and the one-connection-per-month path give the same gold and silver content, the same model id,
// predictions and monitoring, and all equal the hashes the code before the speed work produced
// (test/etl/gold-expected.json, computed with test/helpers/sample-pipeline.ts at commit 5697fe6).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { samplePipelineHashes } from '../helpers/sample-pipeline.js';

const expected = JSON.parse(readFileSync(new URL('./gold-expected.json', import.meta.url), 'utf8')) as Record<string, string>;

test('real sample: per-step and one-connection ETL paths give the gold, model id and monitoring of the code before', async () => {
  const work = await mkdtemp(join(tmpdir(), 'gold-unchanged-'));
  try {
    const perStep = await samplePipelineHashes(join(work, 'per-step'), 'per-step');
    const oneConnection = await samplePipelineHashes(join(work, 'one-connection'), 'one-connection');
    assert.deepEqual(perStep, expected);
    assert.deepEqual(oneConnection, expected);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
