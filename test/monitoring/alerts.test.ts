// Alerts: a real HTTP server on 127.0.0.1 receives the findings as JSON; a failing one (HTTP 500) is retried with
// backoff and never fails the activity.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMonitoringActivities } from '../../activities/monitoring.js';
import { sendAlerts } from '../../core/monitoring/alerts.js';
import { loadConfig } from '../../lib/config.js';
import type { Finding } from '../../lib/contracts.js';
import { inActivity } from '../helpers/activity.js';

const FINDINGS: Finding[] = [
  { severity: 'critical', kind: 'performance', metric: 'auc', snapshot_date: '2024-01-01', value: 0.61, threshold: 0.7, message: 'AUC 0.6100 of 2024-01-01 is below 0.7' },
  { severity: 'warning', kind: 'drift', metric: 'psi', snapshot_date: '2024-07-01', value: 0.13, threshold: 0.1, message: 'score PSI 0.1300' },
];

interface Received { method?: string; contentType?: string; body: unknown; at: number }

async function startServer(status: (requestNumber: number) => number): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ method: request.method, contentType: request.headers['content-type'], body: JSON.parse(Buffer.concat(chunks).toString('utf8')), at: Date.now() });
      response.statusCode = status(received.length);
      response.end(response.statusCode < 300 ? 'ok' : 'boom');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received, server };
}

const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

test('findings are logged and POSTed as JSON to the webhook', async () => {
  const { url, received, server } = await startServer(() => 200);
  try {
    const activities = createMonitoringActivities(loadConfig({ ALERT_WEBHOOK_URL: url }));
    const result = await inActivity(() => activities.sendAlerts({ asOf: '2024-07', modelId: 'm1', findings: FINDINGS }));
    assert.deepEqual(result, { logged: 2, posted: true });
    assert.equal(received.length, 1);
    assert.equal(received[0].method, 'POST');
    assert.equal(received[0].contentType, 'application/json');
    assert.deepEqual(received[0].body, { source: 'credit-pipeline', asOf: '2024-07', modelId: 'm1', findings: FINDINGS });
  } finally {
    await close(server);
  }
});

test('a failing webhook (500) is retried with growing delays, then given up on without failing', async () => {
  const { url, received, server } = await startServer(() => 500);
  try {
    const activities = createMonitoringActivities(loadConfig({ ALERT_WEBHOOK_URL: url }));
    const result = await inActivity(() => activities.sendAlerts({ asOf: '2024-07', modelId: 'm1', findings: FINDINGS }));
    assert.deepEqual(result, { logged: 2, posted: false });
    assert.equal(received.length, 4, 'four attempts in all');
    const gaps = received.slice(1).map((r, i) => r.at - received[i].at);
    assert.ok(gaps[0] >= 200 && gaps[1] >= 450 && gaps[2] >= 950, `backoff 250/500/1000 ms, saw ${gaps}`);
  } finally {
    await close(server);
  }
});

test('a webhook that recovers is posted on a later attempt; an unreachable one does not fail', async () => {
  const { url, received, server } = await startServer((n) => (n < 3 ? 503 : 200));
  const lines: string[] = [];
  const logger = { warn: (m: string) => lines.push(`W ${m}`), error: (m: string) => lines.push(`E ${m}`) };
  try {
    const result = await sendAlerts({ asOf: '2024-07', modelId: 'm1', findings: FINDINGS }, logger, { url, initialDelayMs: 10 });
    assert.deepEqual({ posted: result.posted, attempts: result.attempts, logged: result.logged }, { posted: true, attempts: 3, logged: 2 });
    assert.equal(received.length, 3);
    assert.ok(lines.some((l) => l.startsWith('E [CRITICAL] performance finding, model m1 as of 2024-07: AUC 0.6100')));
    assert.ok(lines.some((l) => l.startsWith('W [WARNING]')));
    assert.equal(lines.filter((l) => l.includes('webhook attempt')).length, 2);
  } finally {
    await close(server);
  }
  // the server is closed now: connection refused on every attempt, still no exception
  const refused = await sendAlerts({ asOf: '2024-07', modelId: 'm1', findings: FINDINGS }, logger, { url, initialDelayMs: 10, attempts: 2 });
  assert.equal(refused.posted, false);
  assert.match(refused.lastError ?? '', /fetch failed|ECONNREFUSED/);
});

test('without findings nothing is posted; without a webhook findings are only logged', async () => {
  const { url, received, server } = await startServer(() => 200);
  try {
    const withHook = createMonitoringActivities(loadConfig({ ALERT_WEBHOOK_URL: url }));
    assert.deepEqual(await inActivity(() => withHook.sendAlerts({ asOf: '2024-07', modelId: 'm1', findings: [] })), { logged: 0, posted: false });
    assert.equal(received.length, 0);
    const noHook = createMonitoringActivities(loadConfig({}));
    assert.deepEqual(await inActivity(() => noHook.sendAlerts({ asOf: '2024-07', modelId: 'm1', findings: FINDINGS })), { logged: 2, posted: false });
  } finally {
    await close(server);
  }
});
