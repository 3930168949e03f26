// `npm run demo`: the whole job in one command. Generates data when data/raw is empty (or uses --source), starts the
// dev server unless one answers, runs a worker, then phase 1 (backfill + training), phase 2 (historical inference)
// and monitoring; prints a summary and where to look. Stays up for exploring until Ctrl-C, or exits with --exit.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { z } from 'zod';
import { loadConfig } from '../lib/config.js';
import { SOURCE_FILES } from '../lib/layout.js';
import { LIFECYCLE_WORKFLOW_ID, workflowIds } from '../lib/temporal.js';
import { temporalConnectConfig } from '../core/temporal/connection.js';
import { ensureDevServer, type DevServer } from '../core/temporal/dev-server.js';
import { generateSources } from '../core/generator/index.js';
import { readMonitoringTable } from '../core/monitoring/read-table.js';
import { createWorker } from '../workers/worker.js';
import { backfillWorkflow, historicalInferenceWorkflow, monitoringWorkflow, statusQuery } from '../workflows/index.js';
import { monthOption, parseCommandLine } from './cli.js';
import { ensureLifecycle, waitWithProgress } from './client.js';
import { formatMonitoringTable, formatTable } from './format.js';

const options = parseCommandLine('demo', 'Run the whole pipeline on generated data (or --source) against a local Temporal.', {
  source: { type: 'string', description: 'folder of the four source CSVs (default: data/raw, generated when empty)', schema: z.string().optional() },
  from: { type: 'string', description: 'first month (default 2023-01)', schema: monthOption.default('2023-01') },
  to: { type: 'string', description: 'last month (default 2024-12)', schema: monthOption.default('2024-12') },
  customers: { type: 'string', description: 'customers to generate when data/raw is empty (default 12500)', schema: z.coerce.number().int().min(100).default(12_500) },
  exit: { type: 'boolean', description: 'stop what the demo started and exit with the pipeline status (for scripts)' },
});

// The demo prints its own story; the SDK's worker-state and bundler chatter would drown it (warnings still show).
Runtime.install({ logger: new DefaultLogger('WARN') });

function hasSources(dir: string): boolean {
  return existsSync(dir) && Object.values(SOURCE_FILES).every((file) => existsSync(resolve(dir, file)));
}

async function main(): Promise<number> {
  const config = loadConfig();
  const started: { server?: DevServer } = {};
  const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);

  // 1. Data.
  const sourceDir = resolve(options.source ?? 'data/raw');
  if (!options.source && !hasSources(sourceDir)) {
    const t = Date.now();
    console.log(`generating ${options.customers} customers into ${sourceDir} …`);
    await generateSources({ customers: options.customers, out: sourceDir });
    console.log(`  done in ${seconds(t)} s`);
  } else if (!hasSources(sourceDir)) {
    throw new Error(`${sourceDir} lacks one of ${Object.values(SOURCE_FILES).join(', ')}`);
  }

  // 2. Temporal: use a reachable server, else start the dev server.
  const { connectionOptions, namespace } = temporalConnectConfig();
  const address = connectionOptions.address;
  const { server } = await ensureDevServer(address, namespace, { dbFile: config.TEMPORAL_DB_FILE });
  if (server) {
    started.server = server;
    console.log(`started the Temporal dev server on ${address} (state in ${config.TEMPORAL_DB_FILE})`);
  } else {
    console.log(`using the Temporal server already on ${address}`);
  }
  const connection = await Connection.connect(connectionOptions);
  const client = new Client({ connection, namespace });
  const workerConnection = await NativeConnection.connect(connectionOptions);
  const worker = await createWorker({ config, connection: workerConnection, namespace, client, identity: `demo-worker@${process.pid}` });
  const workerRun = worker.run();

  const shutdown = async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await workerRun.catch(() => undefined);
    await workerConnection.close();
    await connection.close();
    await started.server?.stop();
  };

  let status = 0;
  try {
    const t0 = Date.now();
    await ensureLifecycle(client, config);

    console.log(`\nphase 1: backfill ${options.from}..${options.to}`);
    const backfill = await client.workflow.start(backfillWorkflow, {
      workflowId: workflowIds.backfill(options.from, options.to),
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      args: [{ from: options.from, to: options.to, sourceDir }],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    const phase1 = await waitWithProgress<Awaited<ReturnType<typeof backfillWorkflow>>>(backfill, true);
    const t1 = Date.now();

    console.log(`phase 2: historical inference ${options.from}..${options.to}`);
    const history = await client.workflow.start(historicalInferenceWorkflow, {
      workflowId: workflowIds.history(options.from, options.to),
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      args: [{ from: options.from, to: options.to }],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    const phase2 = await waitWithProgress<Awaited<ReturnType<typeof historicalInferenceWorkflow>>>(history, true);
    const t2 = Date.now();

    console.log(`monitoring as of ${options.to}`);
    const monitored = await client.workflow.execute(monitoringWorkflow, {
      workflowId: workflowIds.monitoring(options.to),
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      args: [{ asOf: options.to, from: options.from }],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    const t3 = Date.now();
    const lifecycle = await client.workflow.getHandle(LIFECYCLE_WORKFLOW_ID).query(statusQuery);

    console.log('\n' + formatTable(['stage', 'result', 'seconds'], [
      ['phase 1 backfill', `${phase1.done.length} months run, ${phase1.skipped.length} already done, ${phase1.failed.length} failed`, ((t1 - t0) / 1000).toFixed(1)],
      ['training', phase1.training ? `${phase1.training.modelId} (${phase1.training.promoted ? 'promoted' : 'not promoted'}: ${phase1.training.reason})` : 'none', ''],
      ['phase 2 inference', `${phase2.scored.reduce((sum, month) => sum + month.rows, 0)} rows over ${phase2.scored.length} months`, ((t2 - t1) / 1000).toFixed(1)],
      ['monitoring', `${monitored.months} months, decision ${monitored.action}`, ((t3 - t2) / 1000).toFixed(1)],
      ['production model', lifecycle.production ?? 'none', ''],
    ]));
    if (monitored.modelId) console.log('\n' + formatMonitoringTable(await readMonitoringTable(config.DATAMART_DIR, monitored.modelId)));
    console.log(`\nWeb UI:      ${started.server?.uiUrl ?? `the UI of ${address}`}  (http://127.0.0.1:8233/namespaces/${namespace}/workflows)`);
    console.log(`datamart:    ${resolve(config.DATAMART_DIR)}`);
    console.log(`model bank:  ${resolve(config.MODEL_BANK_DIR)}`);
    if (monitored.dashboard) console.log(`dashboard:   ${resolve(monitored.dashboard.png)}\n             ${resolve(monitored.dashboard.html)}`);
    console.log(`CLI:         .tools/bin/temporal workflow list --query "PipelinePhase='train'"`);
  } catch (error) {
    status = 1;
    console.error(`\npipeline failed: ${error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : error}`);
  }

  if (options.exit) {
    await shutdown();
    return status;
  }
  console.log('\nserver and worker stay up for exploring; Ctrl-C stops them.');
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await shutdown();
  return status;
}

main().then(
  (status) => process.exit(status),
  (error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
