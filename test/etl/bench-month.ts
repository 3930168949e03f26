// ETL throughput of one month (bronze + silver + gold, 4 sources): `npx tsx test/etl/bench-month.ts [sourceDir] [month]`.
// Prints the one-off staging cost (each CSV parsed once) and then the per-month cost, in rows per second.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { materializeMonth } from '../../core/datamart/materialize.js';
import { stageSource } from '../../core/etl/staging.js';
import { SOURCES } from '../../lib/layout.js';
import { withSourceRows } from './helpers.js';

const sourceDir = process.argv[2] ?? new URL('../../../shared/fixtures/cs611-sample/', import.meta.url).pathname;
const month = process.argv[3] ?? '2024-01';
const datamartDir = await mkdtemp(join(tmpdir(), 'etl-bench-'));
try {
  let started = performance.now();
  const staged = await Promise.all(SOURCES.map((source) => stageSource(datamartDir, sourceDir, source)));
  const stagedRows = staged.reduce((sum, s) => sum + s.rows, 0);
  const stagingMs = performance.now() - started;
  started = performance.now();
  const result = withSourceRows(await materializeMonth({ datamartDir, sourceDir, month, maxQuarantineShare: 0.2 }));
  const monthMs = performance.now() - started;
  const rows = result.bronze.reduce((sum, b) => sum + b.rows, 0);
  console.log(`staging: ${stagedRows} CSV rows in ${stagingMs.toFixed(0)} ms (${Math.round(stagedRows / (stagingMs / 1000))} rows/s, once per file)`);
  console.log(
    `month ${month}: ${rows} bronze rows (${result.bronze.map((b) => `${b.source} ${b.rows}`).join(', ')}) -> ` +
      `features ${result.features.rows}, labels ${result.labels.rows} in ${monthMs.toFixed(0)} ms = ${Math.round(rows / (monthMs / 1000))} rows/s`,
  );
} finally {
  await rm(datamartDir, { recursive: true, force: true });
}
