// `npm run console`: the operator's web console (core/console/app.ts) on CONSOLE_HOST:CONSOLE_PORT (127.0.0.1:8090),
// over DATAMART_DIR, MODEL_BANK_DIR and the Temporal server (TEMPORAL_ADDRESS), linking runs to TEMPORAL_UI_URL.
// Pages render without Temporal (the actions and workflow links then say it is unreachable); SIGINT/SIGTERM stop it.
import { Connection, Client } from '@temporalio/client';
import { startConsole } from '../core/console/app.js';
import { temporalConnectConfig } from '../workers/connection.js';
import { consoleTemporal } from './lib/console-temporal.js';
import { loadConfigOrExit } from '../workers/config.js';

const config = loadConfigOrExit();
// A lazy connection: the console starts (and its pages render) while the Temporal server is still down.
const { connectionOptions, namespace } = temporalConnectConfig();
const connection = Connection.lazy(connectionOptions);
const client = new Client({ connection, namespace });
let server;
try {
  server = await startConsole({ config, temporal: consoleTemporal(client, config), host: config.CONSOLE_HOST, port: config.CONSOLE_PORT, logger: true });
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(2);
}
console.log(`console on ${server.url} (datamart ${config.DATAMART_DIR}, model bank ${config.MODEL_BANK_DIR}, Temporal UI ${config.TEMPORAL_UI_URL})`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    Promise.all([server.close(), connection.close()]).then(
      () => process.exit(0),
      (error) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
