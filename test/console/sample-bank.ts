// A datamart and model bank from the real sample for the console's tests and screenshots, through the functions the
// activities run: every month's ETL, two models (gbtree as of 2024-06, gblinear as of 2024-04) registered, the first
// promoted, every month scored by both, each model's monitoring table and a governance decision. `npx tsx
// test/console/sample-bank.ts DIR` builds it in DIR (DIR/datamart, DIR/model_bank) for `npm run docs:console`.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createMonitoringActivities } from '../../activities/monitoring.js';
import { registerModel } from '../../core/models/bank.js';
import { trainCandidate } from '../../core/models/candidate.js';
import { promote, recordCandidate } from '../../core/models/registry.js';
import { buildTrainingSet } from '../../core/models/training-set.js';
import { scoreMonth } from '../../core/scoring/score-month.js';
import { loadConfig, type Config } from '../../lib/config.js';
import type { ModelFamily } from '../../lib/contracts.js';
import { monthRange, type Month } from '../../lib/months.js';
import { sampleDatamart } from '../helpers/sample-cache.js';

export const BANK_FROM = '2023-01';
export const BANK_TO = '2024-12';

export interface SampleBank {
  production: string;
  challenger: string;
}

export async function buildSampleBank(config: Config): Promise<SampleBank> {
  const months = monthRange(BANK_FROM, BANK_TO);
  await sampleDatamart(config); // the ETL of every month
  const train = async (asOf: Month, family: ModelFamily, workflowId: string) => {
    const trainingSet = await buildTrainingSet({ datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, asOf });
    const candidate = await trainCandidate({ trainingSet, family });
    return (await registerModel({ modelBankDir: config.MODEL_BANK_DIR, trainingSet, candidate, workflow: { workflowId, runId: 'sample-run' } })).modelId;
  };
  const challenger = await train('2024-04', 'gblinear', 'training-2024-04-1');
  const production = await train('2024-06', 'gbtree', 'training-2024-06-1');
  await promote(config.MODEL_BANK_DIR, challenger, 'first model of the sample bank');
  await promote(config.MODEL_BANK_DIR, production, 'newer training as of 2024-06');
  await recordCandidate(config.MODEL_BANK_DIR, challenger, 'kept as challenger');
  for (const modelId of [production, challenger]) {
    for (const month of months) await scoreMonth({ datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, month, modelId });
  }
  const monitoring = createMonitoringActivities(config);
  for (const modelId of [challenger, production]) await monitoring.computeMonitoring({ asOf: BANK_TO, modelId });
  await monitoring.decideGovernance({ asOf: BANK_TO, modelId: production, workflowId: `monitoring-${BANK_TO}`, now: new Date().toISOString() });
  return { production, challenger };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2] ?? '.console-sample';
  await mkdir(dir, { recursive: true });
  const config = loadConfig({ ...process.env, DATAMART_DIR: join(dir, 'datamart'), MODEL_BANK_DIR: join(dir, 'model_bank'), REPORTS_DIR: join(dir, 'reports') });
  console.log(JSON.stringify(await buildSampleBank(config)));
  const { releaseScoringSessions } = await import('../../core/scoring/model-loader.js');
  await releaseScoringSessions();
}
