// `npm run serve`: the online scoring API (core/serving/app.ts) on SERVE_HOST:SERVE_PORT (127.0.0.1:8080), serving
// MODEL_BANK_DIR's production model and following its promotions and rollbacks. SIGINT/SIGTERM: in-flight requests
// finish, buffered online scores are written, then the process exits.
import '../core/serving/duckdb-allocator.js'; // first: configures DuckDB's allocator before the library loads
import { ConfigError } from '../lib/config.js';
import { serveOptionsFrom, startScoringServer } from '../core/serving/app.js';
import { loadConfigOrExit } from '../workers/config.js';

const config = loadConfigOrExit();
// Refused start (e.g. listening beyond loopback without SERVE_API_KEYS): the reason, no stack trace.
const server = await startScoringServer(serveOptionsFrom(config)).catch((error: unknown) => {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(2);
});
server.app.log.info(
  { url: server.url, model: server.holder.current?.modelId ?? null },
  server.holder.current ? 'scoring API ready' : 'scoring API up, not ready: no verified production model yet',
);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    server.app.log.info({ signal }, 'shutting down: finishing in-flight requests, flushing online scores');
    server.close().then(
      () => process.exit(0),
      (error) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
