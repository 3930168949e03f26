// What every client command shares: the connection, the lifecycle workflow started on demand, waiting on a workflow
// with a progress bar fed by its `progress` query, and exit codes (0 done, 1 failed, 2 usage).
import { isGrpcServiceError, WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { loadConfig, type Config } from '../lib/config.js';
import { LIFECYCLE_WORKFLOW_ID, type Progress } from '../lib/temporal.js';
import { causes } from './lib/causes.js';
import { connectClient } from '../workers/connection.js';
import { modelLifecycleWorkflow } from '../workflows/index.js';
import { UsageError } from './cli.js';
import { WorkflowFailure } from '../lib/errors.js';

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

// gRPC status codes (grpc-js's `status` enum), without depending on grpc-js directly.
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_UNAVAILABLE = 14;

/** The server could not be reached (restarting, network blip): worth waiting for, unlike a workflow's failure. */
export function isConnectionLoss(error: unknown): boolean {
  for (let current: unknown = error; current; current = (current as { cause?: unknown }).cause) {
    if (isGrpcServiceError(current) && [GRPC_UNAVAILABLE, GRPC_DEADLINE_EXCEEDED].includes(current.code)) return true;
    if (current instanceof Error && /UNAVAILABLE|ECONNREFUSED|ECONNRESET|transport error|connection refused|Failed to connect before the deadline/i.test(current.message)) return true;
    if (!(current instanceof Error)) break;
  }
  return false;
}

/**
 * The workflow's result, waiting through connection losses (the workflow goes on without us) for at most
 * `reconnectMs` in a row (CLIENT_RECONNECT_SECONDS, default 600), with a message on stderr while the server is
 * unreachable.
 */
export async function resultThroughOutages<T>(handle: WorkflowHandle, reconnectMs = loadConfig().CLIENT_RECONNECT_SECONDS * 1000): Promise<T> {
  let unreachableSince: number | null = null;
  for (;;) {
    try {
      const result = (await handle.result()) as T;
      if (unreachableSince !== null) console.error('server reachable again');
      return result;
    } catch (error) {
      if (!isConnectionLoss(error)) throw error;
      unreachableSince ??= Date.now();
      const waited = Date.now() - unreachableSince;
      if (waited > reconnectMs) {
        throw new Error(`the Temporal server has been unreachable for ${Math.round(waited / 1000)} s; the workflow ${handle.workflowId} may still be running: check with npm run status or the UI`, { cause: error });
      }
      console.error(`server unreachable (${Math.round(waited / 1000)} s), the workflow goes on; retrying…`);
      await new Promise((wait) => setTimeout(wait, 2000));
    }
  }
}

/**
 * Waits for the result, through server outages; with a `progress` query, shows one line saying how far the workflow
 * is and what it does now: redrawn in place on a terminal, printed only when it changes otherwise (logs stay short).
 */
export async function waitWithProgress<T>(handle: WorkflowHandle, withProgress: boolean, label = ''): Promise<T> {
  const result = resultThroughOutages<T>(handle);
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

/** What to do about a failure, from the failure types in its causes (the type tells the cause). */
export function adviceFor(error: unknown): string {
  const types = new Set<string>();
  const text: string[] = [];
  for (const current of causes(error)) {
    const type = (current as { type?: unknown }).type;
    if (typeof type === 'string') types.add(type);
    text.push(current.message);
  }
  const all = text.join(' ');
  if (types.has('DiskFull') || /DiskFull|disk full writing/.test(all)) {
    return 'action: free space on the file system named above (or move DATAMART_DIR / MODEL_BANK_DIR), then run the same command again; it redoes only what is missing.';
  }
  if (types.has('InvalidSourceData') || types.has('DataQualityError') || /InvalidSourceData|DataQualityError|quarantined/.test(all)) {
    return 'action: fix the source file named above, then run the same command again (only stale months are redone).';
  }
  if (types.has('InvalidWorkflowInput') || types.has('InvalidInput')) return 'action: correct the input named above.';
  if (types.has('PromotionRefused')) {
    return 'action: keep production (the gate says why above), or promote it anyway with --force (logged as forced, with your name).';
  }
  if (error instanceof WorkflowFailedError && /cancel/i.test(all)) return 'action: nothing to do (it was cancelled); run it again to resume.';
  if (error instanceof WorkflowFailedError && /terminat/i.test(all)) return 'action: nothing to do (it was terminated); run it again to resume.';
  if (isConnectionLoss(error)) {
    return 'action: no Temporal server answers there: start it with `npm run server` (or set TEMPORAL_ADDRESS to the running one), then run the same command again.';
  }
  return 'action: run the same command again; it redoes only what is missing or stale.';
}

/** Runs a client command: prints failures readably, with the action that fits the cause, and sets the exit code. */
export function runCommand(main: () => Promise<void>): void {
  main().catch((error) => {
    if (error instanceof UsageError) {
      console.error(error.message);
      process.exit(2);
    }
    // Refused before doing anything (another backfill's source folder holds the datamart): a usage outcome, exit 2.
    if (causes(error).some((cause) => (cause as { type?: unknown }).type === WorkflowFailure.SourceFolderBusy)) {
      console.error(`refused: ${causes(error).at(-1)?.message ?? String(error)}`);
      process.exit(2);
    }
    // Temporal wraps the reason (a workflow's failure, an update validator's rejection) in causes: show the innermost.
    const messages = causes(error).map((cause) => cause.message);
    const prefix = error instanceof WorkflowFailedError ? 'workflow failed: ' : '';
    console.error(prefix + (messages.length > 1 ? `${messages[0]}: ${messages[messages.length - 1]}` : messages[0] ?? String(error)));
    console.error(adviceFor(error));
    process.exit(1);
  });
}

export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}
