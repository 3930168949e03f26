// The serving bench's verdicts (tools/bench/serve.ts): each of issue 17's targets is judged at the level it speaks of,
// never at another level, and the default run measures both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { latencyPercentiles, serveBenchOptionsSchema, serveTargets, type ServeBenchResult } from '../../tools/bench/serve.js';

const level = (connections: number, p99: number, requestsPerSecond: number): ServeBenchResult => ({
  modelId: 'gbtree-2024-06-000000000000',
  applications: 84,
  connections,
  durationSeconds: 10,
  requests: requestsPerSecond * 10,
  requestsPerSecond,
  latencyMs: { p50: p99 / 2, p90: p99 - 1, p99, max: p99 * 2 },
  non2xx: 0,
  errors: 0,
  serverCpuMsPerRequest: 5,
  serverNodeOptions: [],
  gc: null,
  machine: { cpus: 2, loadAverage1m: 1 },
});

test('the p99 target is judged at 1 connection and the req/s target at the busiest level of 64 or more', () => {
  const targets = serveTargets([level(1, 9, 200), level(10, 14, 950), level(64, 40, 2600)]);
  assert.equal(targets.p99, 'p99 <= 10 ms at 1 connection: 9.0 ms, met');
  assert.equal(targets.throughput, '>= 2000 req/s at 64 connections: 2600, met');

  const slow = serveTargets([level(1, 11, 150), level(64, 30, 1800), level(128, 60, 1900)]);
  assert.equal(slow.p99, 'p99 <= 10 ms at 1 connection: 11.0 ms, NOT met');
  assert.equal(slow.throughput, '>= 2000 req/s at 128 connections: 1900, NOT met');

  // Levels listed busiest first: still judged at the busiest.
  assert.equal(serveTargets([level(128, 60, 2100), level(64, 30, 1800)]).throughput, '>= 2000 req/s at 128 connections: 2100, met');
});

test('a level list without 1 or 64+ connections leaves that target unjudged (10 connections judge neither)', () => {
  const targets = serveTargets([level(10, 9, 2100)]);
  assert.match(targets.p99, /not measured/);
  assert.match(targets.throughput, /not measured/);
});

test('the default run measures the levels both targets are judged at', () => {
  assert.deepEqual(serveBenchOptionsSchema.parse({}).connections, [1, 10, 64]);
});

test('latency percentiles keep fractions of a millisecond (autocannon truncates to whole ones) and use the nearest rank', () => {
  // 98 fast answers and two at 10.6 ms: the p99 (the 99th of 100) is 10.6 ms, over the target, not "10 ms".
  const latencies = [...Array.from({ length: 98 }, (_, index) => 4 + index / 98), 10.6, 10.6];
  assert.deepEqual(latencyPercentiles(latencies), { p50: 4.5, p90: 4.91, p99: 10.6, max: 10.6 });
  assert.equal(serveTargets([{ ...level(1, 0, 200), latencyMs: latencyPercentiles(latencies) }]).p99, 'p99 <= 10 ms at 1 connection: 10.6 ms, NOT met');
  assert.deepEqual(latencyPercentiles([7.25]), { p50: 7.25, p90: 7.25, p99: 7.25, max: 7.25 });
  assert.deepEqual(latencyPercentiles([]), { p50: 0, p90: 0, p99: 0, max: 0 });
});
