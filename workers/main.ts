// `npm run worker` (from source) and the image's `node dist/workers/main.js`: one worker process; scale out by
// starting more (docker compose --scale worker=N does). Worker.run handles SIGINT/SIGTERM: it stops polling, lets
// in-flight activities finish (shutdownGraceTime), exits. Logs, metrics and traces: workers/telemetry.ts.
import { Client, Connection } from '@temporalio/client';
import { temporalConnectConfig, connectWorkerConnection } from './connection.js';
import { clientInterceptors, installWorkerRuntime, startTracing } from './telemetry.js';
import { createWorker } from './worker.js';
import { loadConfigOrExit } from './config.js';

const config = loadConfigOrExit();
const runtime = installWorkerRuntime(config);
const log = runtime.logger;

async function main(): Promise<void> {
  const tracing = startTracing(config, 'credit-pipeline-worker');
  const { connection, namespace } = await connectWorkerConnection();
  const { address } = temporalConnectConfig().connectionOptions;
  const clientConnection = await Connection.connect(temporalConnectConfig().connectionOptions);
  const client = new Client({ connection: clientConnection, namespace, interceptors: clientInterceptors(tracing) });
  const worker = await createWorker({ config, connection, namespace, client, tracing });
  log.info(`worker ${worker.options.identity} polling task queue '${config.TEMPORAL_TASK_QUEUE}' on ${address} (namespace ${namespace})`, {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    namespace,
    address,
    metrics: config.WORKER_METRICS_PORT ? `http://${config.WORKER_METRICS_HOST}:${config.WORKER_METRICS_PORT}/metrics` : null,
    tracing: config.OTEL_EXPORTER_OTLP_ENDPOINT ?? null,
  });
  try {
    await worker.run();
  } finally {
    await clientConnection.close();
    await connection.close();
    await tracing?.shutdown();
  }
  log.info('worker stopped');
}

main().catch((error: unknown) => {
  log.error(`worker failed: ${error instanceof Error ? error.message : String(error)}`, { error });
  process.exit(1);
});
