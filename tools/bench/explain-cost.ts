// What explanations add to phase 2 (historical inference), measured outside Temporal with the core functions: generated
// data at S × 12,500 customers, ETL of every month, the three families trained and registered, then for each family
// every month's scoreMonth with and without its gold/explanations partition, alternated `--rounds` times. The figure
// is the scoreMonth seconds summed over the months (what phase 2's activities spend), with and without explanations.
//   node --import tsx tools/bench/explain-cost.ts --scale 1 [--rounds 2] [--work DIR] [--keep]
import { mkdir, rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../lib/config.js';
import { MODEL_FAMILIES } from '../../lib/contracts.js';
import { monthRange } from '../../lib/months.js';
import { generateSources } from '../../core/generator/index.js';
import { latestLabelledMonth } from '../../core/datamart/inventory.js';
import { materializeMonth } from '../../core/datamart/materialize.js';
import { registerModel } from '../../core/models/bank.js';
import { trainCandidate } from '../../core/models/candidate.js';
import { buildTrainingSet } from '../../core/models/training-set.js';
import { releaseScoringSessions } from '../../core/scoring/model-loader.js';
import { scoreMonth } from '../../core/scoring/score-month.js';

const { values } = parseArgs({
  options: { scale: { type: 'string' }, rounds: { type: 'string' }, work: { type: 'string' }, keep: { type: 'boolean' } },
});
const scale = Number(values.scale);
if (!(scale > 0)) throw new Error('usage: explain-cost.ts --scale S [--rounds 2] [--work DIR] [--keep]');
const rounds = Number(values.rounds ?? 2);
const work = resolve(values.work ?? `bench/tmp/explain-cost-${scale}-${process.pid}`);
const sourceDir = join(work, 'sources');
const config = loadConfig({ DATAMART_DIR: join(work, 'datamart'), MODEL_BANK_DIR: join(work, 'model_bank') });
const months = monthRange('2023-01', '2024-12');
const seconds = (since: number) => (performance.now() - since) / 1000;

try {
  await mkdir(work, { recursive: true });
  let t = performance.now();
  await generateSources({ customers: Math.round(scale * 12_500), out: sourceDir, seed: 42 });
  for (const month of months) {
    await materializeMonth({ datamartDir: config.DATAMART_DIR, sourceDir, month, maxQuarantineShare: config.MAX_QUARANTINE_SHARE });
  }
  const asOf = await latestLabelledMonth(config.DATAMART_DIR, months[0], months.at(-1)!);
  if (!asOf) throw new Error('no labelled month to train on');
  const trainingSet = await buildTrainingSet({ datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, asOf, windowMonths: config.TRAINING_WINDOW_MONTHS });
  const models: Record<string, string> = {};
  for (const family of MODEL_FAMILIES) {
    const candidate = await trainCandidate({ trainingSet, family });
    models[family] = (await registerModel({ modelBankDir: config.MODEL_BANK_DIR, trainingSet, candidate, workflow: { workflowId: 'explain-cost', runId: 'run' } })).modelId;
  }
  console.log(`scale ${scale}: data, ETL and training in ${seconds(t).toFixed(1)} s; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);

  for (const [family, modelId] of Object.entries(models)) {
    const totals = { without: [] as number[], with: [] as number[] };
    let rows = 0;
    // Once untimed: the model's session and booster are loaded and the files cached before either is timed.
    for (const month of months) await scoreMonth({ datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, month, modelId });
    for (let round = 0; round < rounds; round++) {
      for (const explain of [false, true]) {
        let sum = 0;
        rows = 0;
        for (const month of months) {
          t = performance.now();
          rows += (await scoreMonth({ datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, month, modelId, explain })).rows;
          sum += seconds(t);
        }
        totals[explain ? 'with' : 'without'].push(sum);
      }
    }
    const best = (list: number[]) => Math.min(...list);
    const extra = best(totals.with) - best(totals.without);
    console.log(
      `${family.padEnd(8)} ${rows} rows in ${months.length} months: scoreMonth seconds summed, best of ${rounds}: ` +
        `${best(totals.without).toFixed(2)} without explanations, ${best(totals.with).toFixed(2)} with (+${extra.toFixed(2)} s, +${((extra / best(totals.without)) * 100).toFixed(0)}%); ` +
        `all runs without [${totals.without.map((s) => s.toFixed(2)).join(', ')}], with [${totals.with.map((s) => s.toFixed(2)).join(', ')}]`,
    );
  }
  console.log(`load average at the end ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
} finally {
  await releaseScoringSessions();
  if (!values.keep) await rm(work, { recursive: true, force: true });
}
process.exit(0);
