// Workflow task durations read from histories: WorkflowTaskCompleted − WorkflowTaskStarted of every task of every
// workflow on a task queue. A workflow task should take milliseconds; a long one means the worker's event loop was
// blocked or the workflow code itself is heavy.
import type { Client } from '@temporalio/client';
import { eventMs } from '../../tools/bench/history-timing.js';

export interface SlowTask {
  workflowId: string;
  runId: string;
  startedEventId: number;
  ms: number;
}

/** Every workflow task of the workflows on `taskQueue`, longest first. */
export async function workflowTaskDurations(client: Client, taskQueue: string): Promise<SlowTask[]> {
  const tasks: SlowTask[] = [];
  for await (const execution of client.workflow.list({ query: `TaskQueue = '${taskQueue}'` })) {
    const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
    const startedAt = new Map<number, number>();
    for (const event of history.events ?? []) {
      const id = Number(event.eventId);
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
  return tasks.sort((a, b) => b.ms - a.ms);
}
