// CPU time of the online feature query alone, without HTTP or a model: `node --import tsx
// tools/bench/online-features.ts [--sizes 1,16,64] [--calls 50] [--month 2024-06]`. Calls OnlineFeatureStore.compute
// (core/serving/online-features.ts) in a loop on micro-batches of the month's real applications and prints the
// process CPU and wall time per call and per application: the figure the machine's other load changes least.
import '../../core/serving/duckdb-allocator.js'; // first, as in scripts/serve.ts
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { monthSchema } from '../../lib/months.js';
import { OnlineFeatureStore, placeApplication } from '../../core/serving/online-features.js';
import { recordMonth } from '../../core/serving/request.js';
import { rawApplications, SAMPLE_SOURCES_DIR } from './sample-applications.js';

const optionsSchema = z.object({
  sizes: z
    .string()
    .default('1,16,64')
    .transform((value) => value.split(',').map(Number))
    .pipe(z.array(z.number().int().min(1).max(64)).min(1)),
  calls: z.coerce.number().int().min(1).max(10_000).default(50),
  month: monthSchema.default('2024-06'),
});

const { values } = parseArgs({ options: { sizes: { type: 'string' }, calls: { type: 'string' }, month: { type: 'string' } } });
const parsed = optionsSchema.safeParse(values);
if (!parsed.success) {
  console.error(`online-features bench: ${parsed.error.issues.map((issue) => `--${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  process.exit(2);
}
const options = parsed.data;
const placed = rawApplications(SAMPLE_SOURCES_DIR)
  .filter((application) => recordMonth(application.loan, 'loan').month === options.month)
  .map((application, index) => placeApplication(application, `applications.${index}`));
const store = await OnlineFeatureStore.open();
try {
  for (const size of options.sizes) {
    if (size > placed.length) throw new Error(`--sizes: ${size} is more than the ${placed.length} applications of ${options.month}`);
    // Consecutive windows of the month's applications (distinct customers and loans, as the micro-batcher makes them).
    const batch = (call: number) => {
      const start = (call * size) % (placed.length - size + 1);
      return placed.slice(start, start + size);
    };
    for (let call = 0; call < 10; call++) await store.compute(batch(call)); // warm-up: prepared statements, JIT
    const cpuBefore = process.cpuUsage();
    const wallBefore = performance.now();
    for (let call = 0; call < options.calls; call++) await store.compute(batch(call));
    const cpu = process.cpuUsage(cpuBefore);
    const cpuMs = (cpu.user + cpu.system) / 1000 / options.calls;
    const wallMs = (performance.now() - wallBefore) / options.calls;
    console.log(
      `${size} application(s) per call: CPU ${cpuMs.toFixed(2)} ms per call, ${(cpuMs / size).toFixed(3)} ms per application; wall ${wallMs.toFixed(2)} ms per call`,
    );
  }
} finally {
  await store.close();
}
