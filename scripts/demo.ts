// `npm run demo`: the whole job in one command. Generates data when data/raw is empty (or uses --source), starts the
// dev server unless one answers, runs a worker, then phase 1 (backfill + training), a challenger model as of an
// earlier month through model-lifecycle, phase 2 (historical inference) and monitoring; creates the schedules
// (paused); prints a summary, where to look and what to try next. Stays up for exploring until Ctrl-C (or SIGINT /
// SIGTERM), or exits with --exit.
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type LogEntry } from '@temporalio/worker';
import { jsonLogLine } from '../workers/telemetry.js';
import { z } from 'zod';
import { loadConfig } from '../lib/config.js';
import { SOURCE_FILES } from '../lib/layout.js';
import { LIFECYCLE_WORKFLOW_ID, workflowIds } from '../lib/temporal.js';
import { temporalConnectConfig } from '../workers/connection.js';
import { ensureDevServer, type DevServer } from '../workers/dev-server.js';
import { generateSources } from '../core/generator/index.js';
import { readMonitoringTable } from '../core/monitoring/read-table.js';
import { createWorker } from '../workers/worker.js';
import { addMonths, compareMonths } from '../lib/months.js';
import { listRegisteredModels } from '../core/models/bank.js';
import { TEMPORAL_BINARY } from '../workers/dev-server.js';
import { backfillWorkflow, forceRetrainSignal, historicalInferenceWorkflow, monitoringWorkflow, statusQuery } from '../workflows/index.js';
import { monthOption, parseCommandLine } from './cli.js';
import { ensureLifecycle, waitWithProgress } from './client.js';
import { formatMonitoringTable, formatTable, wrap } from './format.js';
import { describeModel } from '../lib/model-id.js';
import { readPromotionLog } from '../core/models/promotion-log.js';
import { createSchedules } from './schedules.js';

const options = parseCommandLine('demo', 'Run the whole pipeline on generated data (or --source) against a local Temporal.', {
  source: { type: 'string', description: 'folder of the four source CSVs (default: data/raw, generated when empty)', schema: z.string().optional() },
  from: { type: 'string', description: 'first month (default 2023-01)', schema: monthOption.default('2023-01') },
  to: { type: 'string', description: 'last month (default 2024-12)', schema: monthOption.default('2024-12') },
  customers: { type: 'string', description: 'customers to generate when data/raw is empty (default 12500)', schema: z.coerce.number().int().min(100).default(12_500) },
  exit: { type: 'boolean', description: 'stop what the demo started and exit with the pipeline status (for scripts)' },
});

/** The challenger is trained this many months before the first model's as-of month. */
const CHALLENGER_MONTHS_EARLIER = 6;
const SUMMARY_CELL_WIDTH = 120;
const SCHEDULE_NOTE = 'created paused by the demo: its data ends before today, so a run now would find no data; unpause with npm run schedules -- unpause';
const TEMPORAL_CLI = relative(process.cwd(), TEMPORAL_BINARY) || TEMPORAL_BINARY;

// The demo prints its own story. Everything the worker logs (webpack's report when it bundles the workflows, worker
// state changes, activity failures with their stack traces) goes to a log file as JSON lines; a warning or an error
// also prints one line here, pointing at the file.
const WORKER_LOG = resolve('.temporal', 'demo-worker.log');
mkdirSync(dirname(WORKER_LOG), { recursive: true });
const workerLog = createWriteStream(WORKER_LOG, { flags: 'a' });
const WORKER_LOG_NAME = relative(process.cwd(), WORKER_LOG) || WORKER_LOG;
Runtime.install({
  logger: new DefaultLogger('INFO', (entry) => {
    workerLog.write(`${jsonLogLine(entry)}\n`);
    if (entry.level === 'WARN' || entry.level === 'ERROR') console.error(terminalLine(entry));
  }),
});

/** One line for the terminal: level, message, activity and workflow, the error's first line; the rest is in the log. */
function terminalLine(entry: LogEntry): string {
  const meta = (entry.meta ?? {}) as Record<string, unknown>;
  const where = [meta.activityType, meta.workflowId].filter((part) => typeof part === 'string').join(' in ');
  const error = meta.error ?? meta.failure;
  const reason = error instanceof Error ? error.message : typeof error === 'string' ? error : '';
  const first = (text: string) => text.split('\n')[0].trim();
  return `worker ${entry.level.toLowerCase()}: ${first(entry.message)}${where ? ` (${where})` : ''}${reason ? `: ${first(reason)}` : ''} [details: ${WORKER_LOG_NAME}]`;
}

function hasSources(dir: string): boolean {
  return existsSync(dir) && Object.values(SOURCE_FILES).every((file) => existsSync(resolve(dir, file)));
}

const sleep = (ms: number) => new Promise((wait) => setTimeout(wait, ms));

/** The shell line to run a client command against this demo's server (the address only when it is not the default). */
function command(line: string): string {
  const address = process.env.TEMPORAL_ADDRESS;
  return address ? `TEMPORAL_ADDRESS=${address} ${line}` : line;
}

/**
 * A challenger through model-lifecycle: the forceRetrain signal as of an earlier month, then its training child
 * watched through the lifecycle's `currentTraining`. Returns the model id, or null when the training failed.
 */
async function trainChallenger(client: Client, asOf: string, label: string): Promise<{ modelId: string | null; promoted: boolean; outcome: string }> {
  const lifecycle = client.workflow.getHandle(LIFECYCLE_WORKFLOW_ID);
  const before = (await lifecycle.query(statusQuery)).trainings.length;
  await lifecycle.signal(forceRetrainSignal, { reason: `demo: a challenger as of ${asOf}`, asOf });
  for (;;) {
    const status = await lifecycle.query(statusQuery);
    if (status.currentTraining) {
      await waitWithProgress(client.workflow.getHandle(status.currentTraining), true, label).catch(() => undefined);
    }
    if (status.trainings.length > before) {
      const record = status.trainings[status.trainings.length - 1];
      return { modelId: record.modelId, promoted: record.promoted, outcome: record.outcome };
    }
    await sleep(500);
  }
}

async function main(): Promise<number> {
  const config = loadConfig();
  const started: { server?: DevServer } = {};
  const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);

  // Ctrl-C (or SIGINT/SIGTERM to npm, which passes it on) at any moment: stop the worker, close the connections, stop
  // the dev server if the demo started it, exit. A terminal's Ctrl-C reaches npm, this process and the server at once,
  // so a second signal while stopping is expected and ignored.
  let shutdown: () => Promise<void> = async () => started.server?.stop();
  let pipelineStatus: number | null = null;
  let stopping = false;
  const stopOnSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.error(`\n${signal}: stopping the worker${started.server ? ' and the dev server' : ''} …`);
    void shutdown().finally(() => process.exit(pipelineStatus ?? (signal === 'SIGINT' ? 130 : 143)));
  };
  process.on('SIGINT', stopOnSignal);
  process.on('SIGTERM', stopOnSignal);

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
  if (stopping) return new Promise<never>(() => undefined); // a signal came while the server started: let it finish
  const connection = await Connection.connect(connectionOptions);
  const client = new Client({ connection, namespace });
  const workerConnection = await NativeConnection.connect(connectionOptions);
  const worker = await createWorker({ config, connection: workerConnection, namespace, client, identity: `demo-worker@${process.pid}` });
  const workerRun = worker.run();

  shutdown = async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await workerRun.catch(() => undefined);
    await workerConnection.close();
    await started.server?.stop();
    // The client's connection last and only when nothing waits on it: after a signal a progress query or result
    // poll may still be retrying, and a closed channel would throw from its timer; process.exit closes it then.
    if (pipelineStatus !== null) await connection.close();
  };

  let status = 0;
  try {
    const t0 = Date.now();
    await ensureLifecycle(client, config);

    console.log(`\nphase 1: backfill ${options.from}..${options.to}, training as of the last month with mature labels`);
    const backfill = await client.workflow.start(backfillWorkflow, {
      workflowId: workflowIds.backfill(options.from, options.to),
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      args: [{ from: options.from, to: options.to, sourceDir }],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    const phase1 = await waitWithProgress<Awaited<ReturnType<typeof backfillWorkflow>>>(backfill, true, 'phase 1');
    const t1 = Date.now();

    // A second model, so that promote and rollback have something to act on: a challenger as of an earlier month
    // through model-lifecycle's forceRetrain (once: a later run finds it in the model bank).
    const challengerAsOf = phase1.trainAt ? addMonths(phase1.trainAt, -CHALLENGER_MONTHS_EARLIER) : null;
    let challenger: { modelId: string | null; promoted: boolean; outcome: string; reused: boolean } | null = null;
    if (challengerAsOf && compareMonths(challengerAsOf, options.from) > 0) {
      const existing = (await listRegisteredModels(config.MODEL_BANK_DIR)).find((model) => model.as_of === challengerAsOf);
      if (existing) {
        challenger = { modelId: existing.model_id, promoted: false, outcome: 'trained by an earlier run', reused: true };
      } else {
        console.log(`challenger: forced retraining as of ${challengerAsOf} (signal forceRetrain to ${LIFECYCLE_WORKFLOW_ID})`);
        challenger = { ...(await trainChallenger(client, challengerAsOf, 'challenger')), reused: false };
      }
    }
    const t2 = Date.now();

    console.log(`phase 2: historical inference ${options.from}..${options.to}`);
    const history = await client.workflow.start(historicalInferenceWorkflow, {
      workflowId: workflowIds.history(options.from, options.to),
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      args: [{ from: options.from, to: options.to }],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    const phase2 = await waitWithProgress<Awaited<ReturnType<typeof historicalInferenceWorkflow>>>(history, true, 'phase 2');
    const t3 = Date.now();

    console.log(`monitoring as of ${options.to}`);
    const monitoringRun = await client.workflow.start(monitoringWorkflow, {
      workflowId: workflowIds.monitoring(options.to),
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      args: [{ asOf: options.to, from: options.from }],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    const monitored = await waitWithProgress<Awaited<ReturnType<typeof monitoringWorkflow>>>(monitoringRun, true, 'monitoring');
    const t4 = Date.now();

    const schedules = await createSchedules(client, config, sourceDir, { note: SCHEDULE_NOTE });
    const lifecycle = await client.workflow.getHandle(LIFECYCLE_WORKFLOW_ID).query(statusQuery);
    const models = await listRegisteredModels(config.MODEL_BANK_DIR);

    // A model named for a person: its id with its training window and as-of (the id carries the last labelled
    // application month, so "training as of 2024-12 → gbtree-2024-06-…" reads as what it is).
    const named = (modelId: string | null | undefined) => {
      const model = models.find((candidate) => candidate.model_id === modelId);
      return model ? describeModel(model) : (modelId ?? 'none');
    };
    const first = phase1.training;
    const firstText = !first
      ? 'none'
      : first.reused
        ? `${named(first.modelId)}: ${first.reason}`
        : `${named(first.modelId)} ${first.promoted ? 'promoted' : 'kept as candidate'} (${first.reason})`;
    const challengerText = !challenger
      ? `none (the range has no month ${CHALLENGER_MONTHS_EARLIER} months before the training month)`
      : challenger.reused
        ? `${named(challenger.modelId)}: not retrained, ${challenger.outcome}`
        : challenger.modelId
          ? `${named(challenger.modelId)} ${challenger.promoted ? 'promoted' : 'kept as a shadow challenger'} (${challenger.outcome})`
          : `training failed: ${challenger.outcome}`;
    // Wrapped, never cut: a reason cut mid-word reads as a different reason.
    const cell = (text: string) => wrap(text, SUMMARY_CELL_WIDTH);
    console.log('\n' + formatTable(['stage', 'result', 'seconds'], [
      ['phase 1 backfill', cell(`${phase1.done.length} months run, ${phase1.skipped.length} already done, ${phase1.failed.length} failed`), ((t1 - t0) / 1000).toFixed(1)],
      [`training ${phase1.trainAt ?? ''}`.trim(), cell(firstText), ''],
      [`challenger ${challengerAsOf ?? ''}`.trim(), cell(challengerText), ((t2 - t1) / 1000).toFixed(1)],
      ['phase 2 inference', cell(`${phase2.scored.reduce((sum, month) => sum + month.rows, 0)} rows over ${phase2.scored.length} months${(phase2.shadow ?? []).map((shadow) => `; challenger ${shadow.modelId} in shadow on ${shadow.months.length} months`).join('')}`), ((t3 - t2) / 1000).toFixed(1)],
      ['monitoring', cell(`${monitored.months} months, decision ${monitored.action}`), ((t4 - t3) / 1000).toFixed(1)],
      ['production model', cell(named(lifecycle.production)), ''],
      ['rollback would go to', cell(named(lifecycle.previousProduction)), ''],
      ['model bank', cell(`${models.length} models: ${models.map((model) => `${model.model_id} (as of ${model.as_of})`).join(', ')}`), ''],
      ['schedules', cell(schedules.map((schedule) => `${schedule.scheduleId} ${schedule.outcome}`).join(', ')), ''],
    ]));
    if (monitored.modelId) console.log('\n' + formatMonitoringTable(await readMonitoringTable(config.DATAMART_DIR, monitored.modelId)));

    const uiBase = started.server?.uiUrl ?? 'http://127.0.0.1:8233';
    const ui = `${uiBase}/namespaces/${namespace}/workflows`;
    console.log(`\ndatamart:    ${resolve(config.DATAMART_DIR)}`);
    console.log(`model bank:  ${resolve(config.MODEL_BANK_DIR)}`);
    if (monitored.dashboard) console.log(`dashboard:   ${resolve(monitored.dashboard.png)}\n             ${resolve(monitored.dashboard.html)}`);
    console.log(`schedules:   paused, so that they do not run on months without data; to let them run:`);
    console.log(`               ${command('npm run schedules -- unpause')}`);

    const other = models.map((model) => model.model_id).find((id) => id !== lifecycle.production);
    // A model the gate rejected goes through the gate again when an operator promotes it: the suggestion says --force.
    const rejected = other !== undefined && (await readPromotionLog(config.DATAMART_DIR)).some((row) => row.candidate_model_id === other && row.action === 'reject');
    const tryNext = [
      ...(other
        ? [
            rejected
              ? [command(`npm run promote -- --model ${other} --reason "demo: try the challenger" --force`), `make ${other} the production model although the gate rejected it (logged as forced, with your name)`]
              : [command(`npm run promote -- --model ${other} --reason "demo: try the challenger"`), `make ${other} the production model (logged with your name)`],
            [command('npm run rollback -- --reason "demo: back again"'), `back to ${lifecycle.production}`],
          ]
        : []),
      [command(`npm run monitor -- --as-of ${options.to}`), 'monitoring again, with the production model of then'],
      [command('npm run status'), 'production, the rollback target, the challengers and the last promotion decisions'],
      [command('npm run schedules -- describe'), 'the schedules, paused'],
      [`${TEMPORAL_CLI} workflow list --address ${address} --query "PipelinePhase='train'"`, 'the trainings, from the CLI'],
    ];
    const uiByPhase = `${ui}?query=${encodeURIComponent(`PipelinePhase="train"`)}`;
    if (options.exit) {
      console.log(`\nthe demo stopped its worker${started.server ? ' and the dev server' : ''}. Try next, with ${command('npm run server')} and ${command('npm run worker')} running:`);
    } else {
      console.log(`\nWeb UI:      ${ui}`);
      console.log(`\ntry next (another terminal; this one keeps the server and the worker up):`);
    }
    for (const [line, what] of tryNext) console.log(`  ${line}\n      ${what}`);
    console.log(`  open ${uiByPhase}\n      the Web UI filtered by phase (train, etl, score, monitor, backfill)`);
  } catch (error) {
    status = 1;
    console.error(`\npipeline failed: ${error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : error}`);
  }
  pipelineStatus = status;

  if (options.exit) {
    stopping = true;
    await shutdown();
    return status;
  }
  console.log('\nserver and worker stay up for exploring; Ctrl-C stops them.');
  return new Promise<never>(() => undefined); // stopOnSignal exits
}

main().then(
  (status) => process.exit(status),
  (error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
