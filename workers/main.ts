// `npm run worker`: one worker process; scale out by starting more (docker compose --scale worker=N does).
// Worker.run handles SIGINT/SIGTERM: it stops polling, lets in-flight activities finish (shutdownGraceTime), exits.
import { Client } from '@temporalio/client';
import { loadConfig } from '../lib/config.js';
import { temporalConnectConfig, connectWorkerConnection } from './connection.js';
import { createWorker } from './worker.js';
import { Connection } from '@temporalio/client';

async function main(): Promise<void> {
  const config = loadConfig();
  const { connection, namespace } = await connectWorkerConnection();
  const clientConnection = await Connection.connect(temporalConnectConfig().connectionOptions);
  const client = new Client({ connection: clientConnection, namespace });
  const worker = await createWorker({ config, connection, namespace, client });
  console.log(
    `worker ${worker.options.identity} polling task queue '${config.TEMPORAL_TASK_QUEUE}' on ${temporalConnectConfig().connectionOptions.address} (namespace ${namespace})`,
  );
  try {
    await worker.run();
  } finally {
    await clientConnection.close();
    await connection.close();
  }
  console.log('worker stopped');
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
