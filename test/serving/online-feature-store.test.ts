// The online feature store computes the features of a request alone on the server on a DuckDB of its own (two
// threads by default: the other core is free) and every other micro-batch on the batches' DuckDB (one thread). Both
// give the same features; a lone request arriving while its DuckDB is busy goes to the batches' one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_FEATURE_THREADS, DEFAULT_LONE_REQUEST_THREADS, OnlineFeatureStore, placeApplication, type FeatureDatabase } from '../../core/serving/online-features.js';
import { recordMonth } from '../../core/serving/request.js';
import { rawApplications } from '../../tools/bench/sample-applications.js';
import { FIXTURE_DIR } from '../helpers/fixture.js';

const applications = rawApplications(FIXTURE_DIR)
  .filter((application) => recordMonth(application.loan, 'loan').month === '2024-06')
  .slice(0, 12)
  .map((application, index) => placeApplication(application, `applications.${index}`));

function counting(): { queries: Record<FeatureDatabase, number>; onQuery: (duckdb: FeatureDatabase) => void } {
  const queries = { micro_batches: 0, lone_request: 0 };
  return { queries, onQuery: (duckdb) => queries[duckdb]++ };
}

test("a lone request's features run on their own two-thread DuckDB, micro-batches on the one-thread one, with the same values", async () => {
  assert.equal(applications.length, 12);
  const { queries, onQuery } = counting();
  const store = await OnlineFeatureStore.open({ onQuery });
  try {
    assert.deepEqual(store.threads, { batches: DEFAULT_FEATURE_THREADS, loneRequests: DEFAULT_LONE_REQUEST_THREADS });
    assert.deepEqual(store.threads, { batches: 1, loneRequests: 2 });

    const batch = await store.compute(applications);
    assert.ok(batch.every((result) => result.ok));
    assert.deepEqual(queries, { micro_batches: 1, lone_request: 0 });

    const alone = [];
    for (const application of applications) alone.push(...(await store.compute([application], { alone: true })));
    assert.deepEqual(alone, batch);
    assert.deepEqual(queries, { micro_batches: 1, lone_request: 12 });
    assert.deepEqual(await store.compute(applications, { alone: true }), batch);
    assert.deepEqual(queries, { micro_batches: 1, lone_request: 13 });

    // All at once, each claiming to be alone: the first gets the lone-request DuckDB, the others queue for the
    // batches' connection.
    const atOnce = await Promise.all(applications.map((application) => store.compute([application], { alone: true })));
    assert.deepEqual(atOnce.flat(), batch);
    assert.deepEqual(queries, { micro_batches: 12, lone_request: 14 });
  } finally {
    await store.close();
  }
});

test('the same thread count for both puts every micro-batch on one DuckDB', async () => {
  const { queries, onQuery } = counting();
  const store = await OnlineFeatureStore.open({ threads: 2, loneRequestThreads: 2, onQuery });
  try {
    assert.deepEqual(store.threads, { batches: 2, loneRequests: 2 });
    const [features] = await store.compute([applications[0]], { alone: true });
    assert.ok(features.ok);
    assert.deepEqual(queries, { micro_batches: 1, lone_request: 0 });
  } finally {
    await store.close();
  }
});
