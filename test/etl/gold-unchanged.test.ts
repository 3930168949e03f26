// Refactoring and speed work must not change what the pipeline produces: on the real sample, the month activity's ETL
// path (materializeMonth, the one path there is) gives the gold and silver content, the model id, predictions and
// monitoring that the code before the speed work produced (test/etl/gold-expected.json, computed with
// test/helpers/sample-pipeline.ts on the issue-14 branch: the code before the speed work, with model selection on the
// test months, which picks gblinear here, and the monitoring columns of issue 14), and the `_lineage.json` beside
// every bronze, silver and gold partition, the clickstream lookback months' included, that the code before the
// declared table graph wrote (`etl_lineage`: main before issue 33's graph, bronze's staging path left out).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { samplePipelineHashes } from '../helpers/sample-pipeline.js';

const expected = JSON.parse(readFileSync(new URL('./gold-expected.json', import.meta.url), 'utf8')) as Record<string, string>;

test('real sample: the ETL gives the gold, lineage, model id and monitoring of the code before', async () => {
  const work = await mkdtemp(join(tmpdir(), 'gold-unchanged-'));
  try {
    assert.deepEqual(await samplePipelineHashes(join(work, 'pipeline')), expected);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
