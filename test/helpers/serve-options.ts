// The scoring server's options for a test: its datamart and model bank, a port of its own, a fast registry poll, no
// flush of the online log during the test, and the log lines captured in `logs`.
import { PassThrough } from 'node:stream';
import type { Config } from '../../lib/config.js';
import type { ServeOptions } from '../../core/serving/app.js';

export function testServeOptions(config: Config, logs: string[], overrides: Partial<ServeOptions> = {}): ServeOptions {
  const logStream = new PassThrough();
  logStream.on('data', (chunk: Buffer) => logs.push(chunk.toString('utf8')));
  return {
    datamartDir: config.DATAMART_DIR,
    modelBankDir: config.MODEL_BANK_DIR,
    host: '127.0.0.1',
    port: 0,
    bodyLimitBytes: 256 * 1024,
    maxBatch: 8,
    maxQueue: 1000,
    featureConnections: 1,
    featureThreads: 1,
    loneRequestThreads: 1,
    registryPollMs: 200,
    flushRows: 100_000,
    flushSeconds: 3600,
    maxEventLoopDelayMs: 5000,
    logLevel: 'info',
    logStream,
    ...overrides,
  };
}
