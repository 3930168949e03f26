// What explanations add to phase 2 (historical inference) on its own, without the rest of the bench: generated data at
// S × 12,500 customers, ETL of every month, the three families trained and registered, then explanation-cost.ts's
// measurement (every month's scoreMonth with and without its gold/explanations partition, alternated `--rounds` times).
// `npm run bench` measures the same on its own run's datamart.
//   node --import tsx tools/bench/explain-cost.ts --scale 1 [--rounds 2] [--work DIR] [--keep] [--reuse]
// --reuse: the datamart and model bank a --keep run left in --work, without generating and ETL again.
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
import { measureExplanationCost, modelOfEveryFamily } from './explanation-cost.js';

const { values } = parseArgs({
  options: { scale: { type: 'string' }, rounds: { type: 'string' }, work: { type: 'string' }, keep: { type: 'boolean' }, reuse: { type: 'boolean' } },
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
  const t = performance.now();
  if (!values.reuse) {
    await generateSources({ customers: Math.round(scale * 12_500), out: sourceDir, seed: 42 });
    for (const month of months) {
      await materializeMonth({ datamartDir: config.DATAMART_DIR, sourceDir, month, maxQuarantineShare: config.MAX_QUARANTINE_SHARE });
    }
  }
  const asOf = await latestLabelledMonth(config.DATAMART_DIR, months[0], months.at(-1)!);
  if (!asOf) throw new Error('no labelled month to train on');
  const trainingSet = await buildTrainingSet({ datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, asOf, windowMonths: config.TRAINING_WINDOW_MONTHS });
  const first = await trainCandidate({ trainingSet, family: MODEL_FAMILIES[0] });
  const { modelId } = await registerModel({ modelBankDir: config.MODEL_BANK_DIR, trainingSet, candidate: first, workflow: { workflowId: 'explain-cost', runId: 'run' } });
  const models = await modelOfEveryFamily({ datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, modelId, windowMonths: config.TRAINING_WINDOW_MONTHS });
  console.log(`scale ${scale}: data, ETL and training in ${seconds(t).toFixed(1)} s; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  await measureExplanationCost({ datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, months, models, rounds, log: console.log });
  console.log(`load average at the end ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
} finally {
  await releaseScoringSessions();
  if (!values.keep && !values.reuse) await rm(work, { recursive: true, force: true });
}
process.exit(0);
