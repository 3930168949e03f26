// One worker on the credit-pipeline task queue hosting every workflow and activity.
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import type { Config } from '../lib/config.js';
import { createActivities } from '../activities/index.js';
import { cachedWorkflowBundle } from './workflow-bundle.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export interface CreateWorkerOptions {
  config: Config;
  connection: NativeConnection;
  namespace: string;
  client: Client;
  /** Prebuilt workflow bundle (tests share one); by default the one cached on disk for these sources. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  identity?: string;
}

export async function createWorker({ config, connection, namespace, client, workflowBundle, identity }: CreateWorkerOptions) {
  return Worker.create({
    connection,
    namespace,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowBundle: workflowBundle ?? { code: (await cachedWorkflowBundle(WORKFLOWS_PATH)).code },
    activities: createActivities(config, client),
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
