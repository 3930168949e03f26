// How long training holds the event loop: the longest stretch during which no timer could run while the three
// families train (each alone, then all three at once as the training workflow runs them on one worker). A worker
// whose event loop is held that long cannot complete a workflow task meanwhile (TMPRL1104 past 1 s).
// `node --import tsx tools/bench/training-event-loop.ts [--scale 1] [--work DIR]`: generated data at the scale, the
// ETL of every month and a training set in DIR (kept for a rerun), then the fits.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../lib/config.js';
import { MODEL_FAMILIES, type ModelFamily } from '../../lib/contracts.js';
import { monthRange } from '../../lib/months.js';
import { latestLabelledMonth } from '../../core/datamart/inventory.js';
import { materializeMonth } from '../../core/datamart/materialize.js';
import { generateSources } from '../../core/generator/index.js';
import { trainCandidate } from '../../core/models/candidate.js';
import { buildTrainingSet } from '../../core/models/training-set.js';
import { customersAt } from './options.js';

const FROM = '2023-01';
const TO = '2024-12';

export interface EventLoopBlock {
  /** The longest gap between two runs of a 5 ms timer, beyond its 5 ms (ms). */
  longestBlockMs: number;
  /** perf_hooks.monitorEventLoopDelay's maximum (ms, 10 ms resolution). */
  histogramMaxMs: number;
  seconds: number;
  /** CPU seconds of the whole process (all threads) meanwhile: on a loaded machine, wall ≫ CPU says it waited. */
  cpuSeconds: number;
}

/** Runs `work` while watching the event loop; what was the longest time no callback could run. */
export async function measureEventLoopBlock(work: () => Promise<unknown>): Promise<EventLoopBlock> {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  const interval = 5;
  let last = performance.now();
  let longest = 0;
  const probe = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last - interval);
    last = now;
  }, interval);
  histogram.enable();
  const started = performance.now();
  const cpu = process.cpuUsage();
  try {
    await work();
  } finally {
    clearInterval(probe);
    histogram.disable();
  }
  const used = process.cpuUsage(cpu);
  const seconds = (performance.now() - started) / 1000;
  return {
    longestBlockMs: Math.round(longest),
    histogramMaxMs: Math.round(histogram.max / 1e6),
    seconds: Number(seconds.toFixed(2)),
    cpuSeconds: Number(((used.user + used.system) / 1e6).toFixed(2)),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { scale: { type: 'string', default: '1' }, work: { type: 'string' } } });
  const scale = Number(values.scale);
  const work = values.work ?? join(tmpdir(), `training-event-loop-s${scale}`);
  const config = loadConfig({ DATAMART_DIR: join(work, 'datamart'), MODEL_BANK_DIR: join(work, 'model_bank'), REPORTS_DIR: join(work, 'reports') });
  const sourceDir = join(work, 'sources');
  if (!existsSync(join(sourceDir, 'lms_loan_daily.csv'))) {
    await generateSources({ customers: customersAt(scale), out: sourceDir, seed: 42 });
  }
  const datamartDir = config.DATAMART_DIR;
  await mkdir(datamartDir, { recursive: true });
  for (const month of monthRange(FROM, TO)) {
    await materializeMonth({ datamartDir, sourceDir, month, maxQuarantineShare: config.MAX_QUARANTINE_SHARE });
  }
  const asOf = await latestLabelledMonth(datamartDir, FROM, TO);
  if (!asOf) throw new Error('no labelled month to train on');
  const trainingSet = await buildTrainingSet({ datamartDir, modelBankDir: config.MODEL_BANK_DIR, asOf, windowMonths: config.TRAINING_WINDOW_MONTHS });
  console.log(`scale ${scale}: training rows ${JSON.stringify(trainingSet.rows)}`);
  const results: Record<string, EventLoopBlock> = {};
  const fit = (family: ModelFamily) => trainCandidate({ trainingSet, family });
  for (const family of MODEL_FAMILIES) results[family] = await measureEventLoopBlock(() => fit(family));
  results['all three at once'] = await measureEventLoopBlock(() => Promise.all(MODEL_FAMILIES.map(fit)));
  console.table(results);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
