// The operator's actions on the pipeline, shared by the command line (promote, rollback, retrain, monitor) and the
// console: each is a signal or update to model-lifecycle, or a monitoring workflow started, never a file written.
import type { Client } from '@temporalio/client';
import type { Config } from '../../lib/config.js';
import type { Month } from '../../lib/months.js';
import { workflowIds } from '../../lib/temporal.js';
import type { PromoteRequest, RollbackRequest } from '../../lib/workflow-inputs.js';
import { forceRetrainSignal, monitoringWorkflow, promoteModelUpdate, rollbackModelUpdate, statusQuery } from '../../workflows/index.js';
import { ensureLifecycle } from '../client.js';

/** Who acts and why; recorded with the action. */
export interface Attribution {
  reason: string;
  by?: string;
}

export async function lifecycleStatus(client: Client, config: Config) {
  return (await ensureLifecycle(client, config)).query(statusQuery);
}

/** `force`: promote a model once rolled back or rejected although the gate refuses it (logged as forced). */
export async function promoteModel(client: Client, config: Config, request: { modelId: string; force?: boolean } & Attribution) {
  const handle = await ensureLifecycle(client, config);
  const update: PromoteRequest & Attribution = request;
  return handle.executeUpdate(promoteModelUpdate, { args: [update] });
}

export async function rollbackModel(client: Client, config: Config, request: Attribution) {
  const handle = await ensureLifecycle(client, config);
  const update: RollbackRequest & Attribution = request;
  return handle.executeUpdate(rollbackModelUpdate, { args: [update] });
}

/** Signals forceRetrain; the name of who asked is part of the reason the training records. */
export async function forceRetrain(client: Client, config: Config, request: Attribution & { asOf?: Month }) {
  const handle = await ensureLifecycle(client, config);
  const reason = request.by ? `${request.reason} (by ${request.by})` : request.reason;
  await handle.signal(forceRetrainSignal, { reason, asOf: request.asOf });
  return handle;
}

/** Starts monitoring as of a month (or attaches to the one running with that id). */
export async function startMonitoring(client: Client, config: Config, request: { asOf: Month; modelId?: string; from?: Month } & Partial<Attribution>) {
  await ensureLifecycle(client, config);
  const why = request.reason ? `: ${request.reason}${request.by ? ` (by ${request.by})` : ''}` : '';
  return client.workflow.start(monitoringWorkflow, {
    workflowId: workflowIds.monitoring(request.asOf),
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    args: [{ asOf: request.asOf, modelId: request.modelId, from: request.from }],
    workflowIdConflictPolicy: 'USE_EXISTING',
    staticSummary: `monitoring as of ${request.asOf}${why}`,
  });
}
