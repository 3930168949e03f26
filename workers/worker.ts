// One worker on the credit-pipeline task queue hosting every workflow and activity.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { Runtime, Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import type { Config } from '../lib/config.js';
import { createActivities } from '../activities/index.js';
import { workerTracingOptions, type Tracing } from './telemetry.js';
import { cachedWorkflowBundle } from './workflow-bundle.js';

/** Compiled (the image runs dist/workers/*.js) or from source through tsx. */
const COMPILED = import.meta.url.endsWith('.js');
export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
/** Where the image's build step writes the bundle (scripts/build-workflow-bundle.ts), next to the compiled code. */
export const PREBUILT_WORKFLOW_BUNDLE = fileURLToPath(new URL('../workflow-bundle.js', import.meta.url));

export interface CreateWorkerOptions {
  config: Config;
  connection: NativeConnection;
  namespace: string;
  client: Client;
  /** Prebuilt workflow bundle (tests share one); by default the image's prebuilt one or the one cached for these sources. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  identity?: string;
  /** Spans of activities and workflows go to this tracing (workers/telemetry.ts); none when null. */
  tracing?: Tracing | null;
}

async function defaultWorkflowBundle(): Promise<WorkerOptions['workflowBundle']> {
  if (COMPILED) {
    if (!existsSync(PREBUILT_WORKFLOW_BUNDLE)) {
      throw new Error(`${PREBUILT_WORKFLOW_BUNDLE} is missing: the image's build step (npm run build) writes it`);
    }
    return { codePath: PREBUILT_WORKFLOW_BUNDLE };
  }
  // Webpack's report goes to the runtime's logger (the demo's keeps it out of the terminal), never straight to stderr.
  return { code: (await cachedWorkflowBundle(WORKFLOWS_PATH, Runtime.instance().logger)).code };
}

export async function createWorker({ config, connection, namespace, client, workflowBundle, identity, tracing = null }: CreateWorkerOptions) {
  return Worker.create({
    connection,
    namespace,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowBundle: workflowBundle ?? (await defaultWorkflowBundle()),
    activities: createActivities(config, client),
    ...workerTracingOptions(tracing),
    // One slot per core: the activities are CPU-bound (DuckDB, libxgboost, onnxruntime), so more at once only stretch
    // each one's wall (at 2 × cores a scoring month took twice as long) without finishing the whole sooner.
    maxConcurrentActivityTaskExecutions: config.WORKER_MAX_CONCURRENT_ACTIVITIES ?? availableParallelism(),
    // In-flight activities get this long to finish after SIGINT/SIGTERM before they are cancelled.
    shutdownGraceTime: '30 seconds',
    // Two workflow threads (the SDK's default is one with a reusable V8 context): a phase's 24 children start at once,
    // and their first workflow tasks queued behind each other on one thread (S = 1: phase 2's wall with no activity
    // running 0.39–0.48 s → 0.29–0.33 s, the pipeline 9.2–9.7 s → 8.8–9.2 s; an extra V8 context's memory).
    workflowThreadPoolSize: 2,
    // Heartbeats reach the server at least every second (the default is 80% of the heartbeat timeout): cancellation
    // only reaches an activity in a heartbeat's answer, so this is how fast a cancelled activity stops.
    maxHeartbeatThrottleInterval: '1 second',
    ...(identity ? { identity } : {}),
  });
}
