// Records one history of every workflow type from a real run on the dev server into test/replay/histories/, for the
// replay test. Run again after an intended workflow change: npx tsx test/replay/record-histories.ts
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { LIFECYCLE_WORKFLOW_ID, workflowIds } from '../../lib/temporal.js';
import {
  backfillWorkflow,
  forceRetrainSignal,
  historicalInferenceWorkflow,
  modelLifecycleWorkflow,
  monitoringWorkflow,
  promoteModelUpdate,
  retrainPolicyWorkflow,
  statusQuery,
} from '../../workflows/index.js';
import { FIXTURE_DIR, scratchConfig, startTemporal, withWorker } from '../helpers/temporal.js';

export const HISTORIES_DIR = join(import.meta.dirname, 'histories');

async function main(): Promise<void> {
  const env = await startTemporal();
  const scratch = scratchConfig('record-histories');
  const { config } = scratch;
  const client = env.client;
  const start = { taskQueue: config.TEMPORAL_TASK_QUEUE };
  try {
    const ids = await withWorker(env, config, async () => {
      const lifecycle = await client.workflow.start(modelLifecycleWorkflow, { ...start, workflowId: LIFECYCLE_WORKFLOW_ID, args: [{}] });
      const phase1 = await client.workflow.execute(backfillWorkflow, {
        ...start,
        workflowId: workflowIds.backfill('2023-01', '2024-12'),
        args: [{ from: '2023-01', to: '2024-12', sourceDir: FIXTURE_DIR }],
      });
      await client.workflow.execute(historicalInferenceWorkflow, { ...start, workflowId: workflowIds.history('2023-01', '2024-12'), args: [{ from: '2023-01', to: '2024-12' }] });
      await client.workflow.execute(monitoringWorkflow, { ...start, workflowId: workflowIds.monitoring('2024-12'), args: [{ asOf: '2024-12', from: '2023-01' }] });
      // The production model's window reaches the last labelled month: the policy records "nothing new".
      await client.workflow.execute(retrainPolicyWorkflow, { ...start, workflowId: workflowIds.retrainPolicy('2024-12'), args: [{ asOf: '2024-12' }] });
      await lifecycle.signal(forceRetrainSignal, { reason: 'recording replay histories', asOf: '2024-11' });
      while ((await lifecycle.query(statusQuery)).trainings.length === 0) await new Promise((wait) => setTimeout(wait, 500));
      await lifecycle.executeUpdate(promoteModelUpdate, { args: [{ modelId: phase1.training!.modelId, reason: 'recording histories', by: 'recorder' }] });
      const retrain = (await lifecycle.query(statusQuery)).trainings[0];
      await lifecycle.terminate('recorded');
      return {
        backfillWorkflow: workflowIds.backfill('2023-01', '2024-12'),
        backfillCoordinatorWorkflow: workflowIds.backfillCoordinator(config.TEMPORAL_TASK_QUEUE),
        monthPipelineWorkflow: workflowIds.month('2024-12'),
        trainingWorkflow: phase1.training!.workflowId,
        historicalInferenceWorkflow: workflowIds.history('2023-01', '2024-12'),
        scoreMonthWorkflow: workflowIds.scoreMonth('2024-06', phase1.training!.modelId),
        monitoringWorkflow: workflowIds.monitoring('2024-12'),
        modelLifecycleWorkflow: LIFECYCLE_WORKFLOW_ID,
        retrainingWorkflow: retrain.workflowId,
        retrainPolicyWorkflow: workflowIds.retrainPolicy('2024-12'),
      };
    });
    mkdirSync(HISTORIES_DIR, { recursive: true });
    for (const [name, workflowId] of Object.entries(ids)) {
      const history = await client.workflow.getHandle(workflowId).fetchHistory();
      writeFileSync(join(HISTORIES_DIR, `${name}.json`), JSON.stringify({ workflowId, history: JSON.parse(historyToJSON(history)) }, null, 1));
      console.log(`${name}: ${history.events?.length} events`);
    }
  } finally {
    await env.teardown();
    scratch.cleanup();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
