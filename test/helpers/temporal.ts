// Test harness: a real Temporal dev server (the CLI built by scripts/setup, never the SDK's download and never the
// time-skipping server) plus an in-process worker on a unique task queue, both torn down by the caller.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { loadConfig, type Config } from '../../lib/config.js';
import { ALL_SEARCH_ATTRIBUTES } from '../../lib/temporal.js';
import { PROJECT_ROOT, TEMPORAL_BINARY } from '../../workers/dev-server.js';
import { createWorker, WORKFLOWS_PATH } from '../../workers/worker.js';
import { workflowBundleOptions } from '../../workers/workflow-bundle.js';
import type { Tracing } from '../../workers/telemetry.js';

// Worker state changes and webpack reports are noise in test output; warnings and errors still show.
Runtime.install({ logger: new DefaultLogger('WARN') });

export { FIXTURE_DIR } from './fixture.js';

export async function startTemporal(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: TEMPORAL_BINARY },
      ip: '127.0.0.1',
      searchAttributes: ALL_SEARCH_ATTRIBUTES,
      log: { format: 'pretty', level: 'error' },
    },
  });
}

// Webpack's report is noise in test output.
const quietLogger = new DefaultLogger('WARN');

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** One workflow bundle per test process: bundling takes seconds. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode(workflowBundleOptions(WORKFLOWS_PATH, quietLogger));
  return bundle;
}

/** A scratch directory under .test-tmp with its own datamart, model bank and reports, and a unique task queue. */
export function scratchConfig(name: string, overrides: Record<string, string> = {}): { config: Config; dir: string; cleanup: () => void } {
  const dir = join(PROJECT_ROOT, '.test-tmp', `${name}-${randomUUID().slice(0, 8)}`);
  mkdirSync(dir, { recursive: true });
  const config = loadConfig({
    DATAMART_DIR: join(dir, 'datamart'),
    MODEL_BANK_DIR: join(dir, 'model_bank'),
    REPORTS_DIR: join(dir, 'reports'),
    TEMPORAL_TASK_QUEUE: `test-${name}-${randomUUID().slice(0, 8)}`,
    ...overrides,
  });
  return { config, dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs `body` while a worker for `config` polls the test server; the worker is shut down afterwards. */
export async function withWorker<T>(env: TestWorkflowEnvironment, config: Config, body: () => Promise<T>, tracing: Tracing | null = null): Promise<T> {
  const worker = await createWorker({
    config,
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    client: env.client,
    workflowBundle: await workflowBundle(),
    tracing,
  });
  return worker.runUntil(body);
}
