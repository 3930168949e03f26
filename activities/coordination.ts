// Activities that reach other workflows and the outside world for a workflow: awaiting a run the workflow did not
// start (a workflow can only await its own children), and failure alerts.
import { z } from 'zod';
import { WorkflowFailedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Config } from '../lib/config.js';
import { sendPipelineAlert } from '../core/pipeline-alerts.js';
import { adaptActivity } from './failures.js';
import { activityContext, activityLogger, heartbeat } from './heartbeat.js';

const awaitInput = z.object({ workflowId: z.string().min(1) });
const alertInput = z.object({
  kind: z.enum(['backfill', 'month', 'training']),
  workflowId: z.string().min(1),
  summary: z.string().min(1),
  action: z.string().min(1),
});

export type AwaitedOutcome = { status: 'completed'; result: unknown } | { status: 'failed'; error: string } | { status: 'gone' };

export function createCoordinationActivities(config: Config, client: Client) {
  return {
    /**
     * Waits for the current run of `workflowId` (started by another backfill) to close, heartbeating meanwhile so a
     * cancellation of the caller stops the wait. The outcome only: the caller decides what it means for its data.
     */
    awaitWorkflow: adaptActivity(async (input: z.input<typeof awaitInput>): Promise<AwaitedOutcome> => {
      const { workflowId } = awaitInput.parse(input);
      const signal = activityContext()?.cancellationSignal;
      const beat = setInterval(() => heartbeat({ awaiting: workflowId }), 1_000);
      try {
        const result = client.workflow.getHandle(workflowId).result();
        const cancelled = new Promise<never>((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason), { once: true }));
        return { status: 'completed', result: await Promise.race([result, cancelled]) };
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        if (error instanceof WorkflowNotFoundError) return { status: 'gone' };
        if (error instanceof WorkflowFailedError) {
          const messages: string[] = [];
          for (let cause: unknown = error.cause; cause instanceof Error; cause = cause.cause) messages.push(cause.message);
          return { status: 'failed', error: messages[messages.length - 1] ?? error.message };
        }
        throw error;
      } finally {
        clearInterval(beat);
      }
    }),
    sendPipelineAlert: adaptActivity(async (input: z.input<typeof alertInput>): Promise<{ posted: boolean }> => {
      const alert = alertInput.parse(input);
      return sendPipelineAlert(alert, activityLogger(), { url: config.ALERT_WEBHOOK_URL, format: config.ALERT_FORMAT });
    }),
  };
}
