// What every client command shares: the connection, the lifecycle workflow started on demand, waiting on a workflow
// with a progress bar fed by its `progress` query, and exit codes (0 done, 1 failed, 2 usage).
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { loadConfig, type Config } from '../lib/config.js';
import { LIFECYCLE_WORKFLOW_ID, type Progress } from '../lib/temporal.js';
import { connectClient } from '../core/temporal/connection.js';
import { modelLifecycleWorkflow } from '../workflows/index.js';

export async function openClient(): Promise<{ client: Client; config: Config; close: () => Promise<void> }> {
  const config = loadConfig();
  const client = await connectClient();
  return { client, config, close: () => client.connection.close() };
}

/** model-lifecycle is started by whichever command needs it first; later calls attach to the running one. */
export async function ensureLifecycle(client: Client, config: Config) {
  return client.workflow.start(modelLifecycleWorkflow, {
    workflowId: LIFECYCLE_WORKFLOW_ID,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    args: [{}],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
}

function bar(progress: Progress, width = 20): string {
  const settled = progress.done + progress.failed;
  const filled = progress.total === 0 ? width : Math.min(width, Math.round((settled / progress.total) * width));
  const counts = `${settled}/${progress.total}${progress.failed ? ` (${progress.failed} failed)` : ''}${progress.running ? `, ${progress.running} running` : ''}`;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${counts}`;
}

/** One line: the bar and step of a workflow, and the step of the child it names (e.g. the training as of a month). */
async function progressLine(handle: WorkflowHandle, label: string): Promise<string> {
  const progress = await handle.query<Progress>('progress');
  let step = progress.step ?? '';
  if (progress.child) {
    // The child's own progress says which stage it is in (e.g. which candidates are trained).
    const child = await handle.client.getHandle(progress.child).query<Progress>('progress').catch(() => undefined);
    if (child?.step) step = `${step}: ${child.step}`;
  }
  return `${label ? `${label} ` : ''}${bar(progress)}${step ? ` · ${step}` : ''}`;
}

/**
 * Waits for the result; with a `progress` query, shows one line saying how far the workflow is and what it does now:
 * redrawn in place on a terminal, printed only when it changes otherwise (logs stay short).
 */
export async function waitWithProgress<T>(handle: WorkflowHandle, withProgress: boolean, label = ''): Promise<T> {
  const result = handle.result() as Promise<T>;
  if (!withProgress) return result;
  let finished = false;
  const tty = process.stderr.isTTY;
  let shown = '';
  const draw = async () => {
    while (!finished) {
      try {
        const line = await progressLine(handle, label);
        if (!finished && line !== shown) {
          const width = process.stderr.columns ?? 120;
          process.stderr.write(tty ? `\r${line.slice(0, width - 1)}\x1b[K` : `${line}\n`);
          shown = line;
        }
      } catch {
        // Between continue-as-new runs or before the first task the query has no answer yet.
      }
      await Promise.race([result.catch(() => undefined), new Promise((wait) => setTimeout(wait, tty ? 500 : 2000))]);
    }
  };
  const drawing = draw();
  try {
    return await result;
  } finally {
    finished = true;
    await drawing;
    if (tty && shown) process.stderr.write('\n');
  }
}

/** Runs a client command: prints failures readably and sets the exit code. */
export function runCommand(main: () => Promise<void>): void {
  main().catch((error) => {
    // Temporal wraps the reason (a workflow's failure, an update validator's rejection) in causes: show the innermost.
    const messages: string[] = [];
    for (let current: unknown = error; current instanceof Error; current = current.cause) messages.push(current.message);
    const prefix = error instanceof WorkflowFailedError ? 'workflow failed: ' : '';
    console.error(prefix + (messages.length > 1 ? `${messages[0]}: ${messages[messages.length - 1]}` : messages[0] ?? String(error)));
    process.exit(1);
  });
}

export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}
