// The serving settings of lib/config.ts: defaults of SPEC §6 and refusals naming the variable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../lib/config.js';
import { serveOptionsFrom } from '../../core/serving/app.js';

test('serve defaults to 127.0.0.1:8080; SERVE_HOST and SERVE_PORT are validated', () => {
  const config = loadConfig({});
  assert.equal(config.SERVE_HOST, '127.0.0.1');
  assert.equal(config.SERVE_PORT, 8080);
  assert.equal(loadConfig({ SERVE_HOST: '0.0.0.0', SERVE_PORT: '9000' }).SERVE_PORT, 9000);
  assert.equal(loadConfig({ SERVE_HOST: 'scoring.internal' }).SERVE_HOST, 'scoring.internal');
  assert.throws(() => loadConfig({ SERVE_PORT: '70000' }), (error: unknown) => error instanceof ConfigError && /SERVE_PORT="70000"/.test(error.message));
  assert.throws(() => loadConfig({ SERVE_HOST: 'not a host!' }), (error: unknown) => error instanceof ConfigError && /SERVE_HOST="not a host!"/.test(error.message));
  assert.throws(() => loadConfig({ SERVE_REGISTRY_POLL_MS: '5' }), /SERVE_REGISTRY_POLL_MS/);
});

test('serve computes one micro-batch at a time unless SERVE_FEATURE_CONNECTIONS says more', () => {
  assert.equal(loadConfig({}).SERVE_FEATURE_CONNECTIONS, 1);
  assert.equal(loadConfig({ SERVE_FEATURE_CONNECTIONS: '4' }).SERVE_FEATURE_CONNECTIONS, 4);
  assert.throws(() => loadConfig({ SERVE_FEATURE_CONNECTIONS: '0' }), (error: unknown) => error instanceof ConfigError && /SERVE_FEATURE_CONNECTIONS/.test(error.message));
});

test("the feature store's DuckDB runs micro-batches on 1 thread and a lone request's on 2 unless told otherwise", () => {
  assert.equal(loadConfig({}).SERVE_FEATURE_THREADS, 1);
  assert.equal(serveOptionsFrom(loadConfig({ SERVE_FEATURE_THREADS: '2' })).featureThreads, 2);
  assert.throws(() => loadConfig({ SERVE_FEATURE_THREADS: '0' }), (error: unknown) => error instanceof ConfigError && /SERVE_FEATURE_THREADS/.test(error.message));
  assert.equal(serveOptionsFrom(loadConfig({})).loneRequestThreads, 2);
  assert.equal(serveOptionsFrom(loadConfig({ SERVE_LONE_REQUEST_THREADS: '1' })).loneRequestThreads, 1);
  assert.throws(
    () => loadConfig({ SERVE_LONE_REQUEST_THREADS: 'two' }),
    (error: unknown) => error instanceof ConfigError && /SERVE_LONE_REQUEST_THREADS/.test(error.message),
  );
});
