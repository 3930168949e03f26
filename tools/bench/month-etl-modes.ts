// What running a month's ETL as one unit saves, in process and without Temporal: the 24 months' ETL (bronze ×4 →
// silver ×4 → feature + label each) run three ways on the same sources, each into a fresh datamart whose staging
// cache is built first and not timed.
//   instance-per-step     every step opens and closes its own DuckDB instance (what each of the ~10 ETL activities
//                         of a month paid before the process-wide instance)
//   connection-per-step   the process-wide instance, a connection per step (the activities as they are now)
//   one-connection-month  materializeMonth: one connection per month, the steps in a row (one activity per month)
// `npx tsx tools/bench/month-etl-modes.ts SOURCE_DIR [from] [to] [rounds]`; prints wall and CPU seconds per mode.
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeSharedDuckDB } from '../../core/duckdb.js';
import { materialize, materializeMonth } from '../../core/datamart/materialize.js';
import { TABLE_ORDER } from '../../core/datamart/graph.js';
import { stageSource } from '../../core/etl/staging.js';
import { SOURCES } from '../../lib/layout.js';
import { monthRange, type Month } from '../../lib/months.js';

export const MONTH_ETL_MODES = ['instance-per-step', 'connection-per-step', 'one-connection-month'] as const;
export type MonthEtlMode = (typeof MONTH_ETL_MODES)[number];

export interface ModeTiming {
  mode: MonthEtlMode;
  months: number;
  steps: number;
  wallSeconds: number;
  cpuSeconds: number;
}

const maxQuarantineShare = 0.2;

async function monthBySteps(datamartDir: string, sourceDir: string, month: Month, afterStep: () => Promise<void>): Promise<number> {
  // Each table's partition on its own (a run per step, as a separate activity per step would), in graph order.
  const steps = TABLE_ORDER.map((table) => () => materialize(table, month, { datamartDir, sourceDir, maxQuarantineShare }));
  for (const step of steps) {
    await step();
    await afterStep();
  }
  return steps.length;
}

export async function timeMonthEtlMode(mode: MonthEtlMode, sourceDir: string, months: Month[]): Promise<ModeTiming> {
  const datamartDir = await mkdtemp(join(tmpdir(), `etl-modes-${mode}-`));
  try {
    await Promise.all(SOURCES.map((source) => stageSource(datamartDir, sourceDir, source)));
    await closeSharedDuckDB();
    const cpu = process.cpuUsage();
    const started = performance.now();
    let steps = 0;
    for (const month of months) {
      if (mode === 'one-connection-month') {
        await materializeMonth({ datamartDir, sourceDir, month, maxQuarantineShare, onStep: () => steps++ });
      } else {
        steps += await monthBySteps(datamartDir, sourceDir, month, mode === 'instance-per-step' ? closeSharedDuckDB : async () => {});
      }
    }
    const used = process.cpuUsage(cpu);
    return {
      mode,
      months: months.length,
      steps,
      wallSeconds: (performance.now() - started) / 1000,
      cpuSeconds: (used.user + used.system) / 1e6,
    };
  } finally {
    await rm(datamartDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [sourceDir, from = '2023-01', to = '2024-12', rounds = '2'] = process.argv.slice(2);
  if (!sourceDir) {
    console.error('usage: npx tsx tools/bench/month-etl-modes.ts SOURCE_DIR [from] [to] [rounds]');
    process.exit(2);
  }
  console.log(`load average at start: ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
  for (let round = 1; round <= Number(rounds); round++) {
    for (const mode of MONTH_ETL_MODES) {
      const t = await timeMonthEtlMode(mode, sourceDir, monthRange(from, to));
      console.log(`round ${round} ${mode.padEnd(21)} ${t.months} months, ${t.steps} steps: wall ${t.wallSeconds.toFixed(2)} s, cpu ${t.cpuSeconds.toFixed(2)} s`);
    }
  }
  console.log(`load average at end: ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
  await closeSharedDuckDB();
}
