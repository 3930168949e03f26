// The bench's physical floor (tools/bench/physical-floor.ts) is only a floor of the same job if it produces what the
// pipeline produces: on the real sample, the same label and feature rows (count and content hash of every column) as
// the pipeline's core functions write to gold, and each family's test and OOT AUC within 0.01, as are the AUCs of the
// months the monitoring table measures when both picked the same family. And the check finds a floor that differs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFloor } from '../../tools/bench/floor.js';
import { runPhysicalFloor } from '../../tools/bench/physical-floor.js';
import { AUC_TOLERANCE, checkAgainstPipeline } from '../../tools/bench/physical-floor-check.js';
import { auc } from '../../core/ranking-metrics.js';
import { closeSharedDuckDB } from '../../core/duckdb.js';
import { FIXTURE_DIR } from '../helpers/fixture.js';


// Eighteen months: the first months' clickstream lookback reaches before `from` (the pipeline ingests those months
// too), and twelve application months with labels leave 8 to train on. Fewer months than the whole sample keep the
// test under a minute on a loaded machine.
const FROM = '2023-07';
const TO = '2024-12';

test('real sample: the physical floor gives the pipeline\'s labels, features and AUCs, and the check sees a difference', async () => {
  const sourceDir = FIXTURE_DIR;
  const work = await mkdtemp(join(tmpdir(), 'physical-floor-'));
  try {
    const pipeline = await runFloor({ work, sourceDir, from: FROM, to: TO });
    const floor = await runPhysicalFloor({ sourceDir, from: FROM, to: TO });
    assert.equal(floor.bronzeRows, pipeline.bronzeRows, 'the same source rows read');
    assert.equal(floor.scoredRows, pipeline.scoredRows, 'every feature row scored');
    assert.ok(floor.labels.rows > 1000 && floor.features.rows > 1000, `labels ${floor.labels.rows}, features ${floor.features.rows}`);

    const outputs = { datamartDir: join(work, 'datamart'), candidates: pipeline.candidates, modelId: pipeline.modelId };
    const check = await checkAgainstPipeline(floor, outputs);
    assert.deepEqual(check.problems, []);
    assert.ok(check.ok && check.labels.same && check.features.same);
    assert.ok(check.maxFamilyAucDifference <= AUC_TOLERANCE);
    assert.equal(floor.chosen, pipeline.modelId?.split('-')[0], 'the same family chosen');
    assert.notEqual(check.maxMonthAucDifference, null, 'monthly AUCs compared');
    // The monitoring query's AUC is the Mann-Whitney AUC (core/ranking-metrics.ts) of its month: a sanity bound.
    assert.ok(floor.monitoring.some((month) => month.auc !== null && month.auc > 0.5));
    assert.equal(auc([0.1, 0.4, 0.4, 0.8], [0, 1, 0, 1]), 0.875);

    // A floor that trained something else, or lost a feature row, is reported.
    const worse = structuredClone(floor);
    worse.families.rf!.ootAuc -= 2 * AUC_TOLERANCE;
    worse.features = { rows: floor.features.rows - 1, md5: floor.features.md5 };
    const refused = await checkAgainstPipeline(worse, outputs);
    assert.equal(refused.ok, false);
    assert.ok(refused.problems.some((problem) => problem.startsWith('rf OOT AUC')), refused.problems.join('; '));
    assert.ok(refused.problems.some((problem) => problem.startsWith('features:')), refused.problems.join('; '));
  } finally {
    await closeSharedDuckDB();
    await rm(work, { recursive: true, force: true });
  }
});
