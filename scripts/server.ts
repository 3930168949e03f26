// `npm run server`: the Temporal dev server on 127.0.0.1 (gRPC 7233, UI 8233), persisted to TEMPORAL_DB_FILE,
// with the search attributes of SPEC §5. Leaves an already running server alone. Ctrl-C stops it.
import { Connection } from '@temporalio/client';
import { loadConfig } from '../lib/config.js';
import { temporalConnectConfig } from '../core/temporal/connection.js';
import { ensureSearchAttributes, probeAddress, startDevServer } from '../core/temporal/dev-server.js';
import { parseCommandLine } from './cli.js';

async function main(): Promise<void> {
  parseCommandLine('server', 'Start the local Temporal dev server (persisted, with search attributes); Ctrl-C stops it.', {});
  const config = loadConfig();
  const { connectionOptions, namespace } = temporalConnectConfig();
  const address = connectionOptions.address;
  const state = await probeAddress(address);
  if (state === 'temporal') {
    const connection = await Connection.connect({ address });
    const added = await ensureSearchAttributes(connection, namespace);
    await connection.close();
    console.log(`a Temporal server already answers on ${address}: leaving it alone${added.length ? ` (registered ${added.join(', ')})` : ''}`);
    return;
  }
  const [ip, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  const server = await startDevServer({ ip, port, dbFile: config.TEMPORAL_DB_FILE, namespace });
  console.log(`Temporal dev server on ${server.address}, Web UI ${server.uiUrl}, state in ${config.TEMPORAL_DB_FILE}`);
  console.log('Ctrl-C to stop.');
  const stop = async () => {
    await server.stop();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await new Promise((done) => server.process.once('exit', done));
  console.error('the Temporal dev server exited');
  process.exit(1);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
