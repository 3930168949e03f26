// docs/benchmarks.md is rendered from the newest results in bench/results/: the committed page must be what the
// script renders now (a new bench result without `npm run docs:benchmarks` fails here), and it must pick the newest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCHMARKS_DOC, RESULTS_DIR, currentResults, renderBenchmarksDoc } from '../../scripts/docs/benchmarks.js';

test('the committed benchmarks page is the rendered one (run `npm run docs:benchmarks` after a bench)', () => {
  assert.equal(readFileSync(BENCHMARKS_DOC, 'utf8'), renderBenchmarksDoc());
});

test('the page shows the newest result of each scale, not an older one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-results-'));
  try {
    cpSync(RESULTS_DIR, dir, { recursive: true });
    const current = currentResults(dir).pipeline.find(({ result }) => result.scale === 1)!;
    const newer = { ...current.result, seconds: { ...current.result.seconds, pipeline: 4.25 } };
    writeFileSync(join(dir, '2999-01-01-1.json'), JSON.stringify(newer));
    const page = renderBenchmarksDoc(currentResults(dir));
    assert.match(page, /^\| 1 \| 12,500 \| .* \| 4\.3 s \| .*`2999-01-01-1\.json` \|$/m);
    assert.doesNotMatch(page, new RegExp(current.file.replace('.', '\\.')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
