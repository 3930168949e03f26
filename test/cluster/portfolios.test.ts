// Several portfolios on one Temporal service, a namespace each (`npm run cluster -- namespace create NAME`): the
// model-lifecycle entity, the schedules and visibility stay inside their namespace, so two portfolios with their own
// model banks never read each other's production model. On the dev server, which holds namespaces as a cluster does.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { LIFECYCLE_WORKFLOW_ID } from '../../lib/temporal.js';
import { modelBank } from '../../lib/layout.js';
import { statusQuery } from '../../workflows/index.js';
import { ensureLifecycle } from '../../scripts/client.js';
import { createSchedules } from '../../scripts/schedules.js';
import { classifyNamespaceDescribe, describeNamespace, ensureNamespace } from '../../scripts/cluster/services.js';
import { createWorker } from '../../workers/worker.js';
import { scratchConfig, startTemporal, workflowBundle, FIXTURE_DIR } from '../helpers/temporal.js';
import { waitUntil } from '../helpers/wait.js';

const CARDS = 'portfolio-cards';
let env: TestWorkflowEnvironment;
const scratches: Array<{ cleanup: () => void }> = [];

before(async () => {
  env = await startTemporal();
});
after(async () => {
  await env?.teardown();
  for (const scratch of scratches) scratch.cleanup();
});

test('a NotFound answer is "missing"; a database or connection failure is "not reachable yet", never "missing"', () => {
  assert.deepEqual(classifyNamespaceDescribe('Error: unable to describe namespace: Namespace nope is not found.'), { kind: 'missing' });
  const afterCrash = classifyNamespaceDescribe('Error: unable to describe namespace: no usable database connection found');
  assert.equal(afterCrash.kind, 'unreachable');
  assert.equal(classifyNamespaceDescribe('Error: failed reaching server: connection refused').kind, 'unreachable');
});

test('namespace create makes a namespace with the search attributes, and is idempotent', async () => {
  const server = { address: env.address, namespace: CARDS };
  assert.deepEqual(await describeNamespace(server, CARDS), { kind: 'missing' });
  const said: string[] = [];
  await ensureNamespace(server, (line) => said.push(line));
  assert.deepEqual(await describeNamespace(server, CARDS), { kind: 'exists' });
  assert.ok(said.some((line) => line.includes(`namespace ${CARDS} created`)), said.join('\n'));
  assert.ok(said.some((line) => line.includes('PipelinePhase')), said.join('\n'));
  const again: string[] = [];
  await ensureNamespace(server, (line) => again.push(line));
  assert.deepEqual(again, [], 'the second run finds everything there');
});

test('two portfolios on one service: their own model banks give independent status, schedules and visibility', { timeout: 180_000 }, async () => {
  await ensureNamespace({ address: env.address, namespace: CARDS }, () => undefined);
  const loans = scratchConfig('portfolio-loans');
  const cards = scratchConfig('portfolio-cards');
  scratches.push(loans, cards);
  // Each portfolio's bank names its own production model.
  const production = (config: typeof loans.config, modelId: string) => {
    mkdirSync(config.MODEL_BANK_DIR, { recursive: true });
    const history = [{ model_id: modelId, stage: 'production', at: new Date().toISOString(), reason: 'test' }];
    writeFileSync(modelBank.registry(config.MODEL_BANK_DIR), JSON.stringify({ production: modelId, history }));
  };
  production(loans.config, 'gbtree-2024-06-loans0000000');
  production(cards.config, 'gbtree-2023-12-cards0000000');
  const cardsClient = new Client({ connection: env.connection, namespace: CARDS });
  const bundle = await workflowBundle();
  const loansWorker = await createWorker({ config: loans.config, connection: env.nativeConnection, namespace: 'default', client: env.client, workflowBundle: bundle });
  const cardsWorker = await createWorker({ config: cards.config, connection: env.nativeConnection, namespace: CARDS, client: cardsClient, workflowBundle: bundle });
  await loansWorker.runUntil(cardsWorker.runUntil(async () => {
    // The lifecycle reads its registry once started: wait for the first read, then the answer must be its own bank's.
    const settledProduction = async (client: Client, config: typeof loans.config) => {
      const handle = await ensureLifecycle(client, config);
      await waitUntil('the lifecycle read its registry', async () => (await handle.query(statusQuery)).production !== null, { timeoutMs: 60_000 });
      return (await handle.query(statusQuery)).production;
    };
    assert.equal(await settledProduction(env.client, loans.config), 'gbtree-2024-06-loans0000000');
    assert.equal(await settledProduction(cardsClient, cards.config), 'gbtree-2023-12-cards0000000', 'the cards portfolio answers from its own bank');
    assert.equal((await env.client.workflow.getHandle(LIFECYCLE_WORKFLOW_ID).query(statusQuery)).production, 'gbtree-2024-06-loans0000000');

    // One model-lifecycle per namespace, each a workflow of its own namespace only.
    const lifecycleIds = async (client: Client) => {
      const runs = [];
      for await (const run of client.workflow.list({ query: `WorkflowId='${LIFECYCLE_WORKFLOW_ID}'` })) runs.push(run.runId);
      return runs;
    };
    const [loansRuns, cardsRuns] = [await lifecycleIds(env.client), await lifecycleIds(cardsClient)];
    assert.equal(loansRuns.length, 1);
    assert.equal(cardsRuns.length, 1);
    assert.notEqual(loansRuns[0], cardsRuns[0]);

    // Schedules created for the cards portfolio exist in its namespace only.
    await createSchedules(cardsClient, cards.config, FIXTURE_DIR, { note: 'test' });
    const scheduleIds = async (client: Client) => {
      const ids = [];
      for await (const schedule of client.schedule.list()) ids.push(schedule.scheduleId);
      return ids.sort();
    };
    // The schedule list reads visibility, which is eventually consistent: wait until it shows what was just created.
    await waitUntil('the cards schedules are listed', async () => (await scheduleIds(cardsClient)).length >= 3, { timeoutMs: 30_000 });
    assert.deepEqual(await scheduleIds(env.client), [], 'no schedule leaked into the loans namespace');
    for (const id of await scheduleIds(cardsClient)) await cardsClient.schedule.getHandle(id).delete();
    await env.client.workflow.getHandle(LIFECYCLE_WORKFLOW_ID).terminate('test over');
    await cardsClient.workflow.getHandle(LIFECYCLE_WORKFLOW_ID).terminate('test over');
  }));
});
