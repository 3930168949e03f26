// Wall and CPU of the floor's ETL (tools/bench/floor.ts) by step: the four sources staged one after another, then the
// 24 months through materializeMonth, CPU summed per kind of step. Generates the data first unless given a folder.
//   npx tsx tools/bench/etl-cpu.ts --scale 10 [--source DIR] [--from 2023-01] [--to 2024-12]
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { closeSharedDuckDB } from '../../core/duckdb.js';
import { materializeMonth } from '../../core/datamart/materialize.js';
import { stageSource } from '../../core/etl/staging.js';
import { generateSources } from '../../core/generator/index.js';
import { SOURCES } from '../../lib/layout.js';
import { monthRange } from '../../lib/months.js';
import { customersAt } from './options.js';

const { values } = parseArgs({ options: { scale: { type: 'string', default: '1' }, source: { type: 'string' }, from: { type: 'string', default: '2023-01' }, to: { type: 'string', default: '2024-12' } } });
const work = await mkdtemp(join(tmpdir(), 'etl-cpu-'));
const cpuSeconds = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
};
try {
  const sourceDir = values.source ?? join(work, 'sources');
  if (!values.source) await generateSources({ customers: customersAt(Number(values.scale)), out: sourceDir, seed: 42 });
  const datamartDir = join(work, 'datamart');
  console.log(`load average at start: ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
  const started = performance.now();
  const cpu = process.cpuUsage();
  for (const source of SOURCES) {
    const [t, c] = [performance.now(), process.cpuUsage()];
    await stageSource(datamartDir, sourceDir, source);
    console.log(`stage ${source.padEnd(20)} wall ${((performance.now() - t) / 1000).toFixed(2)} s, cpu ${cpuSeconds(c).toFixed(2)} s`);
  }
  const byStep = new Map<string, number>();
  const monthsStarted = performance.now();
  const monthsCpu = process.cpuUsage();
  for (const month of monthRange(values.from, values.to)) {
    let since = process.cpuUsage();
    await materializeMonth({
      datamartDir,
      sourceDir,
      month,
      maxQuarantineShare: 0.2,
      onStep: ({ step }) => {
        byStep.set(step, (byStep.get(step) ?? 0) + cpuSeconds(since));
        since = process.cpuUsage();
      },
    });
  }
  for (const [step, seconds] of byStep) console.log(`${step.padEnd(26)} cpu ${seconds.toFixed(2)} s`);
  console.log(`months: wall ${((performance.now() - monthsStarted) / 1000).toFixed(2)} s, cpu ${cpuSeconds(monthsCpu).toFixed(2)} s`);
  console.log(`ETL: wall ${((performance.now() - started) / 1000).toFixed(2)} s, cpu ${cpuSeconds(cpu).toFixed(2)} s`);
  console.log(`load average at end: ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
} finally {
  await closeSharedDuckDB();
  await rm(work, { recursive: true, force: true });
}
