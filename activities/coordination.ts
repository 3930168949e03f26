// Activities that reach other workflows and the outside world for a workflow: awaiting a run the workflow did not
// start (a workflow can only await its own children), and failure alerts.
import { z } from 'zod';
import { Context } from '@temporalio/activity';
import { QueryNotRegisteredError, WorkflowFailedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { compareMonths, monthSchema, type Month } from '../lib/months.js';
import { OWED_MONTHS_QUERY, SOURCE_FOLDER_QUERY, type SourceFolderAnswer } from '../lib/temporal.js';
import type { Config } from '../lib/config.js';
import { sendPipelineAlert } from '../core/monitoring/pipeline-alerts.js';
import { adaptActivity } from './failures.js';
import { activityLogger } from './heartbeat.js';

const awaitInput = z.object({ workflowId: z.string().min(1) });
const owedInput = z.object({ upTo: monthSchema });
const alertInput = z.object({
  kind: z.enum(['backfill', 'month', 'training', 'model']),
  workflowId: z.string().min(1),
  summary: z.string().min(1),
  action: z.string().min(1),
});

const sourcesInput = z.object({ sourceDir: z.string().min(1) });

const SOURCE_QUERY_DEADLINE_MS = 10_000;

/** A running backfill that reads another source folder and came first. */
export interface OtherSourceBackfill {
  workflowId: string;
  sourceDir: string;
}

/**
 * The running backfills on `taskQueue` (so on this datamart: its workers share DATAMART_DIR) whose source folder is
 * not `sourceDir` and that came before `self` (a continued run always did; otherwise the earlier start, ties by id):
 * of two started together each sees the other and exactly one of them gives way. Without `self` (the client, before
 * it starts one), every such backfill. A backfill of an older worker without the query is not seen.
 */
export async function backfillsOnOtherSources(
  client: Client,
  taskQueue: string,
  sourceDir: string,
  self?: { workflowId: string; startTime: Date },
): Promise<OtherSourceBackfill[]> {
  const others: OtherSourceBackfill[] = [];
  const running = client.workflow.list({ query: `WorkflowType = 'backfillWorkflow' AND ExecutionStatus = 'Running' AND TaskQueue = '${taskQueue}'` });
  for await (const execution of running) {
    if (execution.workflowId === self?.workflowId) continue;
    let answer: SourceFolderAnswer;
    try {
      // Bounded: a backfill whose workers are all down cannot answer, and must not hang the caller.
      answer = await client.connection.withDeadline(Date.now() + SOURCE_QUERY_DEADLINE_MS, () =>
        client.workflow.getHandle(execution.workflowId).query<SourceFolderAnswer>(SOURCE_FOLDER_QUERY),
      );
    } catch {
      // Closed meanwhile, an older worker without the query, or no worker answering: its folder is unknown here
      // (the workflow's own check at start, run by a worker, sees it once workers are up).
      continue;
    }
    if (answer.sourceDir === sourceDir) continue;
    const first =
      !self ||
      answer.continued ||
      execution.startTime.getTime() < self.startTime.getTime() ||
      (execution.startTime.getTime() === self.startTime.getTime() && execution.workflowId < self.workflowId);
    if (first) others.push({ workflowId: execution.workflowId, sourceDir: answer.sourceDir });
  }
  return others;
}

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
    /**
     * The months up to `upTo` that other backfills running on this task queue have not settled yet (their
     * OWED_MONTHS_QUERY), oldest first. A run that has closed meanwhile, or one started by a worker without that query,
     * owes nothing here.
     */
    monthsOwedByOtherBackfills: adaptActivity(async (input: z.input<typeof owedInput>): Promise<Month[]> => {
      const { upTo } = owedInput.parse(input);
      const { workflowExecution, taskQueue } = Context.current().info;
      const owed = new Set<Month>();
      const running = client.workflow.list({ query: `WorkflowType = 'backfillWorkflow' AND ExecutionStatus = 'Running' AND TaskQueue = '${taskQueue}'` });
      for await (const execution of running) {
        if (execution.workflowId === workflowExecution?.workflowId) continue;
        try {
          const months = monthSchema.array().parse(await client.workflow.getHandle(execution.workflowId).query<unknown>(OWED_MONTHS_QUERY));
          for (const month of months) if (compareMonths(month, upTo) <= 0) owed.add(month);
        } catch (error) {
          if (error instanceof WorkflowNotFoundError || error instanceof QueryNotRegisteredError) continue;
          throw error;
        }
      }
      return [...owed].sort(compareMonths);
    }),
    /** backfillsOnOtherSources for the calling backfill (its own start time read from the server). */
    backfillsOnOtherSources: adaptActivity(async (input: z.input<typeof sourcesInput>): Promise<OtherSourceBackfill[]> => {
      const { sourceDir } = sourcesInput.parse(input);
      const { workflowExecution, taskQueue } = Context.current().info;
      if (!workflowExecution) throw new Error('backfillsOnOtherSources runs inside a workflow only');
      const { startTime } = await client.workflow.getHandle(workflowExecution.workflowId, workflowExecution.runId).describe();
      return backfillsOnOtherSources(client, taskQueue, sourceDir, { workflowId: workflowExecution.workflowId, startTime });
    }),
    sendPipelineAlert: adaptActivity(async (input: z.input<typeof alertInput>): Promise<{ posted: boolean }> => {
      const alert = alertInput.parse(input);
      return sendPipelineAlert(alert, activityLogger(), { url: config.ALERT_WEBHOOK_URL, format: config.ALERT_FORMAT });
    }),
  };
}
