// The activities inside a Temporal activity context (the SDK's MockActivityEnvironment): heartbeats per month, the
// activity logger for alerts, and a broken model artifact leaving as a non-retryable InvalidModelArtifact failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { writeFile } from 'node:fs/promises';
import { createMonitoringActivities } from '../../activities/monitoring.js';
import { loadConfig } from '../../lib/config.js';
import { makeLoans, makeTempDir, metadataFor, seeded, writeMetadata, writeMonth } from './fixtures.js';

test('computeMonitoring heartbeats once per month inside an activity; sendAlerts logs through the activity logger', async () => {
  const { dir, cleanup } = await makeTempDir();
  try {
    const config = loadConfig({ DATAMART_DIR: `${dir}/datamart`, MODEL_BANK_DIR: `${dir}/model_bank` });
    await writeMetadata(config.MODEL_BANK_DIR, metadataFor('act', '2023-12', makeLoans('b', 1000, seeded(1)), 0.35));
    for (const [i, month] of ['2024-01', '2024-02', '2024-03'].entries()) {
      await writeMonth(config.DATAMART_DIR, 'act', month, makeLoans(month, 300, seeded(9 + i)), 0.35);
    }
    const activities = createMonitoringActivities(config);
    const environment = new MockActivityEnvironment();
    const heartbeats: { month: string; monthsDone: number; months: number }[] = [];
    environment.on('heartbeat', (details: (typeof heartbeats)[number]) => heartbeats.push(details));
    const result = (await environment.run(() => activities.computeMonitoring({ asOf: '2024-09', modelId: 'act' }))) as Awaited<
      ReturnType<typeof activities.computeMonitoring>
    >;
    assert.equal(result.rows.length, 3);
    // Two lanes: the months finish in any order, the count climbs by one each time.
    assert.deepEqual(heartbeats.map(({ monthsDone, months }) => [monthsDone, months]), [[1, 3], [2, 3], [3, 3]]);
    assert.deepEqual(heartbeats.map(({ month }) => month).sort(), ['2024-01', '2024-02', '2024-03']);
    assert.match(result.path, /gold\/monitoring\/model_id=act\/data\.parquet$/);

    const alerts = await new MockActivityEnvironment().run(() =>
      activities.sendAlerts({
        asOf: '2024-09',
        modelId: 'act',
        findings: [{ severity: 'warning', metric: 'psi', snapshot_date: '2024-03-01', value: 0.12, threshold: 0.1, message: 'PSI 0.12' }],
      }),
    );
    assert.deepEqual(alerts, { logged: 1, posted: false });
  } finally {
    await cleanup();
  }
});

test('a metadata.json that is not valid leaves as a non-retryable InvalidModelArtifact', async () => {
  const { dir, cleanup } = await makeTempDir();
  try {
    const config = loadConfig({ DATAMART_DIR: `${dir}/datamart`, MODEL_BANK_DIR: `${dir}/model_bank` });
    const metadata = metadataFor('broken', '2023-12', makeLoans('b', 100, seeded(1)), 0.35);
    await writeMetadata(config.MODEL_BANK_DIR, metadata);
    await writeFile(`${config.MODEL_BANK_DIR}/broken/metadata.json`, JSON.stringify({ ...metadata, threshold: 2 }));
    await assert.rejects(
      new MockActivityEnvironment().run(() => createMonitoringActivities(config).computeMonitoring({ asOf: '2024-01', modelId: 'broken' })),
      (error: unknown) => {
        assert.ok(error instanceof ApplicationFailure);
        assert.equal(error.type, 'InvalidModelArtifact');
        assert.equal(error.nonRetryable, true);
        assert.match(error.message, /broken\/metadata\.json: invalid metadata: threshold: /);
        return true;
      },
    );
  } finally {
    await cleanup();
  }
});
