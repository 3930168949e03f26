// What a user meets before anything runs: a bad environment variable or a port taken by something else stops with a
// message naming it; a free port is recognised as free.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { loadConfig } from '../../lib/config.js';
import { probeAddress, startDevServer } from '../../workers/dev-server.js';

test('a bad configuration value names the variable', () => {
  assert.throws(() => loadConfig({ MAX_QUARANTINE_SHARE: '1.5' }), /MAX_QUARANTINE_SHARE="1.5"/);
  assert.throws(() => loadConfig({ ALERT_WEBHOOK_URL: 'not a url' }), /ALERT_WEBHOOK_URL/);
  assert.throws(() => loadConfig({ FAULT_INJECTION: 'scoreMonth' }), /FAULT_INJECTION.*name:count/);
  const defaults = loadConfig({});
  assert.equal(defaults.TEMPORAL_TASK_QUEUE, 'credit-pipeline');
  assert.equal(defaults.MAX_QUARANTINE_SHARE, 0.2);
  assert.equal(defaults.RETRAIN_COOLDOWN_DAYS, 7);
});

test('a port held by something that is not Temporal is refused with a clear message', async () => {
  const sockets = new Set<Socket>();
  const squatter = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined); // clients hang up abruptly; that is not the test's concern
    socket.end('hello\n');
  });
  await new Promise<void>((ready) => squatter.listen(0, '127.0.0.1', ready));
  const port = (squatter.address() as { port: number }).port;
  try {
    assert.equal(await probeAddress(`127.0.0.1:${port}`), 'other');
    await assert.rejects(startDevServer({ port, headless: true }), /taken by something that is not a Temporal server/);
  } finally {
    // A gRPC client may keep retrying its socket: close ours so the server can stop.
    const closed = new Promise((done) => squatter.close(done));
    sockets.forEach((socket) => socket.destroy());
    await closed;
  }
  assert.equal(await probeAddress(`127.0.0.1:${port}`), 'free');
});
