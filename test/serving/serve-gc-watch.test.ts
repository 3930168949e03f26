// The serving bench's GC report (tools/bench/serve-gc-watch.ts): the preloaded watcher records score requests and GC
// pauses of a real server process, and gcImpact attributes pauses to the requests they overlapped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gcImpact, type GcWatchRecord } from '../../tools/bench/serve-gc-watch.js';

test('gcImpact counts the requests of the window a pause overlapped and the p99 of the others', () => {
  const untouched = Array.from({ length: 100 }, (_, index): [number, number] => [1000 + index * 10, 1000 + index * 10 + 1 + (index % 5)]);
  const record: GcWatchRecord = {
    requests: [
      [0, 50], // before the window
      [100, 110], // overlapped by the first pause
      [200, 230], // overlapped by the second
      [300, 305], // ends as the second pause starts: untouched
      ...untouched,
    ],
    pauses: [
      [105, 108, 1],
      [225, 300, 1],
      [5000, 5001, 4], // after the window
    ],
  };
  const impact = gcImpact(record, 100, 3000);
  assert.equal(impact.requests, 103);
  assert.equal(impact.pauses, 2);
  assert.equal(impact.pauseMs, 78);
  assert.equal(impact.requestsPausedShare, 2 / 103);
  assert.equal(impact.meanLatencyMs.paused, 20);
  assert.equal(impact.meanLatencyMs.untouched, (5 + untouched.reduce((sum, [start, end]) => sum + end - start, 0)) / 101);
  assert.equal(impact.untouchedP99Ms, 5); // 101 latencies of 1-5 ms
  assert.deepEqual(gcImpact(record, 6000, 7000), { requests: 0, pauses: 0, pauseMs: 0, requestsPausedShare: 0, meanLatencyMs: { paused: null, untouched: null }, untouchedP99Ms: null });
});

test('the watcher records POST /v1/score requests and GC pauses of a server process and writes them at exit', async () => {
  const work = mkdtempSync(join(tmpdir(), 'gc-watch-'));
  const file = join(work, 'gc.json');
  // A server answering two score requests and one other, allocating enough between them for scavenges.
  const server = `
    const http = require('node:http');
    const server = http.createServer((request, response) => {
      let junk = [];
      for (let i = 0; i < 200000; i++) junk.push({ i });
      request.resume();
      request.on('end', () => response.end(String(junk.length)));
    }).listen(0, '127.0.0.1', async () => {
      const url = 'http://127.0.0.1:' + server.address().port;
      await (await fetch(url + '/v1/score', { method: 'POST', body: '{}' })).text();
      await (await fetch(url + '/v1/score', { method: 'POST', body: '{}' })).text();
      await (await fetch(url + '/healthz')).text();
      process.exit(0);
    });`;
  try {
    const watcher = fileURLToPath(new URL('../../tools/bench/serve-gc-watch.ts', import.meta.url));
    await promisify(execFile)(process.execPath, ['--max-semi-space-size=1', '--import', 'tsx', '--import', watcher, '-e', server], {
      env: { ...process.env, SERVE_BENCH_GC_FILE: file },
    });
    const record = JSON.parse(readFileSync(file, 'utf8')) as GcWatchRecord;
    assert.equal(record.requests.length, 2);
    for (const [start, end] of record.requests) assert.ok(end >= start && start > Date.now() - 60_000, `request [${start}, ${end}]`);
    assert.ok(record.pauses.length > 0, 'no GC pause recorded');
    assert.ok(record.pauses.some(([, , kind]) => kind === 1), 'no scavenge (kind 1) among the pauses');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
