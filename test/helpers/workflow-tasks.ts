// Workflow tasks read from histories: the duration (WorkflowTaskCompleted − WorkflowTaskStarted) of every task of every
// workflow on a task queue, and the tasks that timed out or failed. A workflow task should take milliseconds; a long
// one means the worker's event loop was blocked or the workflow code itself is heavy; one over the workflow task
// timeout (10 s) times out and is retried, which histories record.
import type { Client } from '@temporalio/client';
import { eventMs } from '../../tools/bench/history-timing.js';

export interface SlowTask {
  workflowId: string;
  runId: string;
  startedEventId: number;
  ms: number;
}

export interface WorkflowTasks {
  /** Every completed task, longest first. */
  durations: SlowTask[];
  /** 'workflowId #eventId timed out|failed' for every task that did not complete. */
  incomplete: string[];
}

/** The workflow tasks of the workflows on `taskQueue`. */
export async function workflowTasks(client: Client, taskQueue: string): Promise<WorkflowTasks> {
  const tasks: SlowTask[] = [];
  const incomplete: string[] = [];
  for await (const execution of client.workflow.list({ query: `TaskQueue = '${taskQueue}'` })) {
    const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
    const startedAt = new Map<number, number>();
    for (const event of history.events ?? []) {
      const id = Number(event.eventId);
      if (event.workflowTaskTimedOutEventAttributes) incomplete.push(`${execution.workflowId} #${id} timed out`);
      if (event.workflowTaskFailedEventAttributes) incomplete.push(`${execution.workflowId} #${id} failed`);
      if (event.workflowTaskStartedEventAttributes) startedAt.set(id, eventMs(event.eventTime as Parameters<typeof eventMs>[0]));
      const completed = event.workflowTaskCompletedEventAttributes;
      if (completed) {
        const startedEventId = Number(completed.startedEventId);
        const started = startedAt.get(startedEventId);
        if (started !== undefined) {
          tasks.push({
            workflowId: execution.workflowId,
            runId: execution.runId,
            startedEventId,
            ms: eventMs(event.eventTime as Parameters<typeof eventMs>[0]) - started,
          });
        }
      }
    }
  }
  return { durations: tasks.sort((a, b) => b.ms - a.ms), incomplete };
}
