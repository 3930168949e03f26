// Driven from outside: two worker PROCESSES share one backfill started with the `temporal` CLI; the CLI queries
// progress, signals forceRetrain, lists by search attribute and sees an unknown promotion rejected. The outputs equal
// those of a run with one in-process worker.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { TEMPORAL_BINARY } from '../../workers/dev-server.js';
import { datamart } from '../../lib/layout.js';
import { LIFECYCLE_WORKFLOW_ID, workflowIds } from '../../lib/temporal.js';
import { backfillWorkflow } from '../../workflows/index.js';
import { goldTableHash } from '../helpers/gold.js';
import { startWorkerChild, type WorkerChild } from '../../workers/worker-process.js';
import { FIXTURE_DIR, scratchConfig, startTemporal, withWorker } from '../helpers/temporal.js';

const run = promisify(execFile);
const FROM = '2023-01';
const TO = '2024-12';
let env: TestWorkflowEnvironment;
const shared = scratchConfig('two-workers');
const single = scratchConfig('one-worker');
const workers: WorkerChild[] = [];

before(async () => {
  env = await startTemporal();
});
after(async () => {
  await Promise.all(workers.map((worker) => worker.stop()));
  await env?.teardown();
  shared.cleanup();
  single.cleanup();
});

async function temporal(...args: string[]): Promise<string> {
  const { stdout } = await run(TEMPORAL_BINARY, [...args, '--address', env.address, '--namespace', 'default'], { timeout: 30_000 });
  return stdout;
}
const temporalJson = async (...args: string[]) => JSON.parse(await temporal(...args, '--output', 'json'));
const sleep = (ms: number) => new Promise((wait) => setTimeout(wait, ms));

async function listIds(query: string): Promise<string[]> {
  const out = await temporal('workflow', 'list', '--query', query, '--output', 'json');
  return out.trim() ? (JSON.parse(out) as Array<{ execution: { workflowId: string } }>).map((row) => row.execution.workflowId) : [];
}

test('two worker processes share a backfill driven by the temporal CLI', async () => {
  const { config } = shared;
  workers.push(await startWorkerChild({ address: env.address, config }), await startWorkerChild({ address: env.address, config }));
  const queue = ['--task-queue', config.TEMPORAL_TASK_QUEUE];

  await temporal('workflow', 'start', ...queue, '--type', 'modelLifecycleWorkflow', '--workflow-id', LIFECYCLE_WORKFLOW_ID, '--input', '{}');
  const backfillId = workflowIds.backfill(FROM, TO);
  await temporal('workflow', 'start', ...queue, '--type', 'backfillWorkflow', '--workflow-id', backfillId,
    '--input', JSON.stringify({ from: FROM, to: TO, sourceDir: FIXTURE_DIR, parallelism: 4 }));

  // Progress through the CLI until the whole range is settled.
  let progress = { total: 0, done: 0, failed: 0, running: 0 };
  for (let i = 0; i < 600 && !(progress.total > 0 && progress.done + progress.failed === progress.total); i++) {
    await sleep(500);
    try {
      progress = (await temporalJson('workflow', 'query', '--workflow-id', backfillId, '--type', 'progress')).queryResult[0];
    } catch {
      // Not answerable before the first workflow task.
    }
  }
  // The counts; what runs now (step, child: the training once every month is settled) depends on when the poll lands.
  assert.deepEqual({ ...progress, step: undefined, child: undefined }, { total: 24, done: 24, failed: 0, running: 0, step: undefined, child: undefined });
  const described = await temporalJson('workflow', 'result', '--workflow-id', backfillId);
  assert.equal(described.status, 'COMPLETED', JSON.stringify(described));

  // Both worker processes executed activities of it.
  const identities = new Set<string>();
  const children = await listIds(`PipelinePhase='etl' AND TaskQueue='${config.TEMPORAL_TASK_QUEUE}'`);
  assert.equal(children.length, 24);
  for (const workflowId of children.slice(0, 12)) {
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    for (const event of history.events ?? []) {
      if (event.activityTaskStartedEventAttributes?.identity) identities.add(event.activityTaskStartedEventAttributes.identity);
    }
  }
  const pids = workers.map((worker) => String(worker.pid));
  assert.deepEqual([...identities].map((identity) => identity.split('@')[0]).sort(), [...pids].sort());

  // forceRetrain by signal, then the lifecycle's status by query.
  await temporal('workflow', 'signal', '--workflow-id', LIFECYCLE_WORKFLOW_ID, '--name', 'forceRetrain', '--input', JSON.stringify({ reason: 'cli test', asOf: '2024-11' }));
  let status: { trainings: Array<{ asOf: string; reason: string; modelId: string | null; workflowId: string }>; production: string | null } = { trainings: [], production: null };
  for (let i = 0; i < 240 && status.trainings.length === 0; i++) {
    await sleep(500);
    const answer = await temporalJson('workflow', 'query', '--workflow-id', LIFECYCLE_WORKFLOW_ID, '--type', 'status');
    // The CLI prints an empty list as null.
    status = { ...answer.queryResult[0], trainings: answer.queryResult[0].trainings ?? [] };
  }
  assert.equal(status.trainings.length, 1);
  assert.equal(status.trainings[0].asOf, '2024-11');
  assert.equal(status.trainings[0].reason, 'cli test');
  assert.ok(status.trainings[0].modelId, JSON.stringify(status.trainings[0]));

  // Listing by search attribute finds both trainings: the backfill's and the forced one.
  const trainings = await listIds(`PipelinePhase='train' AND TaskQueue='${config.TEMPORAL_TASK_QUEUE}'`);
  assert.deepEqual(trainings.sort(), [workflowIds.training('2024-11', 1), workflowIds.training('2024-12', 1)].sort());
  assert.deepEqual(await listIds(`SnapshotMonth='2024-06' AND PipelinePhase='etl'`), [workflowIds.month('2024-06')]);

  // An Update naming an unknown model is rejected by its validator and changes nothing.
  await assert.rejects(
    temporal('workflow', 'update', 'execute', '--workflow-id', LIFECYCLE_WORKFLOW_ID, '--name', 'promoteModel', '--input', '{"modelId":"no-such-model"}'),
    /unknown model id 'no-such-model'/,
  );
  const after = (await temporalJson('workflow', 'query', '--workflow-id', LIFECYCLE_WORKFLOW_ID, '--type', 'status')).queryResult[0];
  assert.equal(after.production, status.production);
  await temporal('workflow', 'terminate', '--workflow-id', LIFECYCLE_WORKFLOW_ID, '--reason', 'test over');
  await Promise.all(workers.splice(0).map((worker) => worker.stop()));

  // The same backfill with one in-process worker writes the same gold content and trains the same model.
  const one = single.config;
  const reference = await withWorker(env, one, () =>
    env.client.workflow.execute(backfillWorkflow, {
      workflowId: `${backfillId}-single`,
      taskQueue: one.TEMPORAL_TASK_QUEUE,
      args: [{ from: FROM, to: TO, sourceDir: FIXTURE_DIR }],
    }),
  );
  assert.equal(reference.training?.modelId, described.result.training.modelId);
  for (const table of [datamart.featureStore, datamart.labelStore]) {
    assert.equal(await goldTableHash(table(config.DATAMART_DIR)), await goldTableHash(table(one.DATAMART_DIR)));
  }
});
