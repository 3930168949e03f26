// Preloaded into the server by `tools/bench/serve.ts --gc-report`: records when each POST /v1/score request ran and
// when V8 paused for garbage collection, and writes both (epoch milliseconds) to SERVE_BENCH_GC_FILE at exit, so the
// bench can tell how much of the latency tail GC pauses make: the share of requests a pause landed in, what those
// requests took against the others, and the p99 of the requests no pause touched.
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { nearestRank } from './percentiles.js';

export interface GcWatchRecord {
  /** [start, end] of each answered score request. */
  requests: Array<[number, number]>;
  /** [start, end, kind] of each GC pause (kind: PerformanceEntry detail.kind, 1 minor, 4 major, ...). */
  pauses: Array<[number, number, number]>;
}

const file = process.env.SERVE_BENCH_GC_FILE;
if (file) {
  const record: GcWatchRecord = { requests: [], pauses: [] };
  const epoch = (time: number) => performance.timeOrigin + time;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? 0;
      record.pauses.push([epoch(entry.startTime), epoch(entry.startTime + entry.duration), kind]);
    }
  }).observe({ entryTypes: ['gc'] });
  const emit = http.Server.prototype.emit as (this: http.Server, event: string | symbol, ...args: unknown[]) => boolean;
  http.Server.prototype.emit = function (this: http.Server, event: string | symbol, ...args: unknown[]) {
    if (event === 'request') {
      const [request, response] = args as [http.IncomingMessage, http.ServerResponse];
      if (request.method === 'POST' && request.url === '/v1/score') {
        const start = epoch(performance.now());
        response.once('finish', () => record.requests.push([start, epoch(performance.now())]));
      }
    }
    return emit.call(this, event, ...args);
  } as typeof http.Server.prototype.emit;
  process.once('exit', () => writeFileSync(file, JSON.stringify(record)));
}

export interface GcImpact {
  requests: number;
  pauses: number;
  pauseMs: number;
  /** Share of the requests a GC pause overlapped. */
  requestsPausedShare: number;
  meanLatencyMs: { paused: number | null; untouched: number | null };
  /** p99 latency of the requests no pause overlapped: the tail GC tuning cannot remove. */
  untouchedP99Ms: number | null;
}

/** What GC pauses did to the requests that started in [from, to). */
export function gcImpact(record: GcWatchRecord, from: number, to: number): GcImpact {
  const requests = record.requests.filter(([start]) => start >= from && start < to);
  const pauses = record.pauses.filter(([start, end]) => end > from && start < to);
  const paused: number[] = [];
  const untouched: number[] = [];
  for (const [start, end] of requests) {
    const hit = pauses.some(([pauseStart, pauseEnd]) => pauseStart < end && pauseEnd > start);
    (hit ? paused : untouched).push(end - start);
  }
  const mean = (values: number[]) => (values.length ? values.reduce((sum, value) => sum + value, 0) / values.length : null);
  const sorted = [...untouched].sort((a, b) => a - b);
  return {
    requests: requests.length,
    pauses: pauses.length,
    pauseMs: pauses.reduce((sum, [start, end]) => sum + end - start, 0),
    requestsPausedShare: requests.length ? paused.length / requests.length : 0,
    meanLatencyMs: { paused: mean(paused), untouched: mean(untouched) },
    untouchedP99Ms: nearestRank(sorted, 0.99),
  };
}
