// Activities that reach other workflows and the outside world for a workflow: awaiting a run the workflow did not
// start (a workflow can only await its own children), and failure alerts.
import { z } from 'zod';
import { WorkflowFailedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Config } from '../lib/config.js';
import { sendPipelineAlert } from '../core/pipeline-alerts.js';
import { adaptActivity } from './failures.js';
import { activityLogger } from './heartbeat.js';

const awaitInput = z.object({ workflowId: z.string().min(1) });
const alertInput = z.object({
  kind: z.enum(['backfill', 'month', 'training']),
  workflowId: z.string().min(1),
  summary: z.string().min(1),
  action: z.string().min(1),
});

export type AwaitedOutcome = { status: 'running' } | { status: 'completed'; result: unknown } | { status: 'failed'; error: string } | { status: 'gone' };

export function createCoordinationActivities(config: Config, client: Client) {
  return {
    /**
     * Where the current run of `workflowId` (started by another backfill) stands, with its result once closed. Short:
     * the caller polls with workflow timers, so no activity slot is held while it waits (a waiting activity per month
     * could take every slot and starve the very runs it waits for).
     */
    pollWorkflow: adaptActivity(async (input: z.input<typeof awaitInput>): Promise<AwaitedOutcome> => {
      const { workflowId } = awaitInput.parse(input);
      const handle = client.workflow.getHandle(workflowId);
      try {
        const { status } = await handle.describe();
        if (status.name === 'RUNNING') return { status: 'running' };
        return { status: 'completed', result: await handle.result() };
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return { status: 'gone' };
        if (error instanceof WorkflowFailedError) {
          const messages: string[] = [];
          for (let cause: unknown = error.cause; cause instanceof Error; cause = cause.cause) messages.push(cause.message);
          return { status: 'failed', error: messages[messages.length - 1] ?? error.message };
        }
        throw error;
      }
    }),
    sendPipelineAlert: adaptActivity(async (input: z.input<typeof alertInput>): Promise<{ posted: boolean }> => {
      const alert = alertInput.parse(input);
      return sendPipelineAlert(alert, activityLogger(), { url: config.ALERT_WEBHOOK_URL, format: config.ALERT_FORMAT });
    }),
  };
}
