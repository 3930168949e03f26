// The console's Temporal side (core/console/app.ts's ConsoleTemporal): the visibility API for the runs that wrote a
// partition, model-lifecycle's status, and the operator's actions through scripts/lib/lifecycle-actions.ts.
import type { Client } from '@temporalio/client';
import type { Config } from '../../lib/config.js';
import type { ConsoleTemporal, WorkflowRun } from '../../core/console/app.js';
import { forceRetrain, lifecycleStatus, promoteModel, rollbackModel, startMonitoring } from './lifecycle-actions.js';

export function consoleTemporal(client: Client, config: Config): ConsoleTemporal {
  return {
    namespace: client.options.namespace,
    async listRuns(query, limit) {
      const runs: WorkflowRun[] = [];
      for await (const run of client.workflow.list({ query, pageSize: Math.min(limit, 100) })) {
        runs.push({
          workflowId: run.workflowId,
          runId: run.runId,
          type: run.type,
          status: run.status.name,
          startTime: run.startTime.toISOString(),
          closeTime: run.closeTime?.toISOString() ?? null,
        });
        if (runs.length >= limit) break;
      }
      return runs;
    },
    status: () => lifecycleStatus(client, config),
    promote: (request) => promoteModel(client, config, request),
    rollback: (request) => rollbackModel(client, config, request),
    async forceRetrain(request) {
      const handle = await forceRetrain(client, config, request);
      return { workflowId: handle.workflowId };
    },
    async runMonitoring(request) {
      const handle = await startMonitoring(client, config, request);
      return { workflowId: handle.workflowId };
    },
  };
}
