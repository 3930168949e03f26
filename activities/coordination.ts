// Activities that reach other workflows and the outside world for a workflow: joining the backfill coordinator (a
// workflow cannot start or update a workflow that is not its child), asking the server which backfills still run, and
// failure alerts.
import { z } from 'zod';
import { Context } from '@temporalio/activity';
import { WithStartWorkflowOperation, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { monthSchema } from '../lib/months.js';
import {
  BACKFILL_COORDINATOR_TYPE,
  JOIN_BACKFILLS_UPDATE,
  JOINED_BACKFILLS_QUERY,
  workflowIds,
  type JoinAnswer,
  type JoinedBackfill,
  type JoinRequest,
} from '../lib/temporal.js';
import type { Config } from '../lib/config.js';
import { sendPipelineAlert } from '../core/monitoring/pipeline-alerts.js';
import { adaptActivity } from './failures.js';
import { activityLogger } from './heartbeat.js';

const joinInput = z.object({ sourceDir: z.string().min(1), months: monthSchema.array() });
const stillRunningInput = z.object({ backfillIds: z.string().min(1).array() });
const alertInput = z.object({
  kind: z.enum(['backfill', 'month', 'training', 'model']),
  workflowId: z.string().min(1),
  summary: z.string().min(1),
  action: z.string().min(1),
});

const COORDINATOR_QUERY_DEADLINE_MS = 10_000;

/**
 * The backfills joined to the coordinator of `taskQueue` now (none when it is not running). Bounded: a coordinator
 * whose workers are all down cannot answer, and must not hang the caller (null: unknown).
 */
export async function joinedBackfills(client: Client, taskQueue: string): Promise<JoinedBackfill[] | null> {
  const handle = client.workflow.getHandle(workflowIds.backfillCoordinator(taskQueue));
  try {
    const { status } = await handle.describe();
    if (status.name !== 'RUNNING') return [];
    return await client.connection.withDeadline(Date.now() + COORDINATOR_QUERY_DEADLINE_MS, () => handle.query<JoinedBackfill[]>(JOINED_BACKFILLS_QUERY));
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return [];
    return null;
  }
}

export function createCoordinationActivities(config: Config, client: Client) {
  return {
    /**
     * Joins the calling backfill to its task queue's coordinator, starting the coordinator if none runs
     * (update-with-start, USE_EXISTING: of two backfills starting it at once, both reach the same one). Idempotent: a
     * retry, or the continued run of the same backfill, joins again and gets the claims it holds.
     */
    joinBackfills: adaptActivity(async (input: z.input<typeof joinInput>): Promise<JoinAnswer> => {
      const { sourceDir, months } = joinInput.parse(input);
      const { workflowExecution, taskQueue } = Context.current().info;
      if (!workflowExecution) throw new Error('joinBackfills runs inside a workflow only');
      const workflowId = workflowIds.backfillCoordinator(taskQueue);
      const request: JoinRequest = { backfillId: workflowExecution.workflowId, sourceDir, months };
      // The coordinator may run on this very worker: when the worker shuts down it cannot answer, and the update's
      // long poll would keep the activity (and the worker's shutdown) waiting for ever. The activity's cancellation
      // (a worker shutdown's, after its grace time) ends the wait; a retried join is answered from the same claims.
      return client.withAbortSignal(Context.current().cancellationSignal, () => client.workflow.executeUpdateWithStart<() => Promise<void>, JoinAnswer, [JoinRequest]>(JOIN_BACKFILLS_UPDATE, {
        args: [request],
        startWorkflowOperation: new WithStartWorkflowOperation(BACKFILL_COORDINATOR_TYPE, {
          workflowId,
          taskQueue,
          args: [{}],
          workflowIdConflictPolicy: 'USE_EXISTING',
          staticSummary: `coordinator of the backfills on task queue ${taskQueue}`,
        }),
      }));
    }),
    /** Which of `backfillIds` still run (their latest run, described by id: strongly consistent, unlike listing). */
    backfillsStillRunning: adaptActivity(async (input: z.input<typeof stillRunningInput>): Promise<string[]> => {
      const { backfillIds } = stillRunningInput.parse(input);
      const running: string[] = [];
      for (const backfillId of backfillIds) {
        try {
          const { status } = await client.workflow.getHandle(backfillId).describe();
          if (status.name === 'RUNNING') running.push(backfillId);
        } catch (error) {
          if (!(error instanceof WorkflowNotFoundError)) throw error;
        }
      }
      return running;
    }),
    sendPipelineAlert: adaptActivity(async (input: z.input<typeof alertInput>): Promise<{ posted: boolean }> => {
      const alert = alertInput.parse(input);
      return sendPipelineAlert(alert, activityLogger(), { url: config.ALERT_WEBHOOK_URL, format: config.ALERT_FORMAT });
    }),
  };
}
