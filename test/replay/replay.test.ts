// Replays recorded histories of every workflow type against today's workflow code: a nondeterministic change
// (reordered, added or removed commands) fails here. Re-record with: npx tsx test/replay/record-histories.ts
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../helpers/temporal.js';

const HISTORIES_DIR = join(import.meta.dirname, 'histories');
const EXPECTED_TYPES = [
  'backfillWorkflow',
  'backfillCoordinatorWorkflow',
  'monthPipelineWorkflow',
  'trainingWorkflow',
  'historicalInferenceWorkflow',
  'scoreMonthWorkflow',
  'monitoringWorkflow',
  'modelLifecycleWorkflow',
  'retrainPolicyWorkflow',
];

test('recorded histories of every workflow type replay without nondeterminism', async () => {
  const files = readdirSync(HISTORIES_DIR).filter((file) => file.endsWith('.json'));
  const histories = files.map((file) => {
    const { workflowId, history } = JSON.parse(readFileSync(join(HISTORIES_DIR, file), 'utf8'));
    return { workflowId, history: historyFromJSON(history) };
  });
  const types = new Set(
    histories.map(({ history }) => history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name),
  );
  for (const type of EXPECTED_TYPES) assert.ok(types.has(type), `a recorded history of ${type}`);

  const results = Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories);
  let replayed = 0;
  for await (const result of results) {
    assert.equal(result.error, undefined, `${result.workflowId}: ${result.error?.message}`);
    replayed++;
  }
  assert.equal(replayed, histories.length);
});
