// The real sample through the batch path with the core functions: ETL of every month, one training set as of
// 2024-12, a gbtree and a gblinear model registered (gbtree in production), and batch predictions of every month by
// the production model. What the serving tests compare online answers with, and the model the serving bench serves.
import { join } from 'node:path';
import { materializeMonth } from '../../core/datamart/materialize.js';
import { registerModel } from '../../core/models/bank.js';
import { trainCandidate } from '../../core/models/candidate.js';
import { promote } from '../../core/models/registry.js';
import { buildTrainingSet } from '../../core/models/training-set.js';
import { scoreMonth } from '../../core/scoring/score-month.js';
import { queryRows, readParquet, withDuckDB } from '../../core/duckdb.js';
import { datamart } from '../../lib/layout.js';
import { monthRange } from '../../lib/months.js';
import { loadConfig, type Config } from '../../lib/config.js';

export const SAMPLE_MONTHS = monthRange('2023-01', '2024-12');

export interface SampleModels {
  gbtree: string;
  gblinear: string;
}

export async function trainSampleModels(config: Config, sourceDir: string): Promise<SampleModels> {
  for (const month of SAMPLE_MONTHS) {
    await materializeMonth({ datamartDir: config.DATAMART_DIR, sourceDir, month, maxQuarantineShare: config.MAX_QUARANTINE_SHARE });
  }
  const trainingSet = await buildTrainingSet({ datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, asOf: '2024-12' });
  const models = { gbtree: '', gblinear: '' };
  for (const family of ['gbtree', 'gblinear'] as const) {
    const candidate = await trainCandidate({ trainingSet, family });
    const workflow = { workflowId: 'training-serving-test', runId: 'run' };
    models[family] = (await registerModel({ modelBankDir: config.MODEL_BANK_DIR, trainingSet, candidate, workflow })).modelId;
  }
  await promote(config.MODEL_BANK_DIR, models.gbtree, 'serving test');
  for (const month of SAMPLE_MONTHS) {
    await scoreMonth({ datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, month, modelId: models.gbtree });
  }
  return models;
}

export type BatchPrediction = {
  loan_id: string;
  snapshot_date: string;
  default_probability: number;
  risk_band: string;
  predicted_default: number;
};

export async function batchPredictions(config: Config, modelId: string): Promise<BatchPrediction[]> {
  const glob = join(datamart.predictions(config.DATAMART_DIR, modelId), '*', 'data.parquet');
  return withDuckDB((db) =>
    queryRows<BatchPrediction>(db, `SELECT loan_id, snapshot_date, default_probability, risk_band, predicted_default FROM ${readParquet(glob)} ORDER BY loan_id`),
  );
}

// `node --import tsx tools/bench/sample-models.ts <source dir> <datamart dir> <model bank dir>`: trainSampleModels in a
// process of its own, for the serve bench, whose autocannon client would otherwise carry the ETL's and training's
// heap into the measurement (its major collections paused the client up to 12 ms while it timed requests).
if (import.meta.url === `file://${process.argv[1]}`) {
  const [sourceDir, datamartDir, modelBankDir] = process.argv.slice(2);
  if (!sourceDir || !datamartDir || !modelBankDir) throw new Error('usage: sample-models.ts <source dir> <datamart dir> <model bank dir>');
  console.log(JSON.stringify(await trainSampleModels(loadConfig({ DATAMART_DIR: datamartDir, MODEL_BANK_DIR: modelBankDir }), sourceDir)));
  process.exit(0);
}
