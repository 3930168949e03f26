// `npm run server`: the Temporal dev server on 127.0.0.1 (gRPC 7233, UI 8233), persisted to TEMPORAL_DB_FILE,
// with the search attributes of SPEC §5. Leaves an already running server alone. Ctrl-C stops it.
import { loadConfig } from '../lib/config.js';
import { temporalConnectConfig } from '../workers/connection.js';
import { ensureDevServer } from '../workers/dev-server.js';
import { parseCommandLine } from './cli.js';

async function main(): Promise<void> {
  parseCommandLine('server', 'Start the local Temporal dev server (persisted, with search attributes); Ctrl-C stops it.', {});
  const config = loadConfig();
  const { connectionOptions, namespace } = temporalConnectConfig();
  const address = connectionOptions.address;
  const { server, registered } = await ensureDevServer(address, namespace, { dbFile: config.TEMPORAL_DB_FILE });
  if (!server) {
    console.log(`a Temporal server already answers on ${address}: leaving it alone${registered.length ? ` (registered ${registered.join(', ')})` : ''}`);
    return;
  }
  console.log(`Temporal dev server on ${server.address}, Web UI ${server.uiUrl}, state in ${config.TEMPORAL_DB_FILE}`);
  console.log('Ctrl-C to stop.');
  // Ctrl-C in a terminal signals the server too, so it may exit before stop() runs: that is a clean stop as well.
  let stopping = false;
  const stop = async () => {
    stopping = true;
    await server.stop();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await new Promise((done) => server.process.once('exit', done));
  if (stopping) return;
  console.error('the Temporal dev server exited');
  process.exit(1);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
