// The pipeline's core functions over the real sample in one process (ETL of every month through the month activity's
// path, materializeMonth; the three families trained, every month scored, the monitoring table), returning the content
// hash of every gold table, of the ETL's lineage files and the model id: what refactoring and speed work must not
// change. `npx tsx test/helpers/sample-pipeline.ts DIR` prints the hashes as JSON.
import { loadConfig } from '../../lib/config.js';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MODEL_FAMILIES } from '../../lib/contracts.js';
import { datamart } from '../../lib/layout.js';
import { monthRange } from '../../lib/months.js';
import { registerModel } from '../../core/models/bank.js';
import { trainCandidate } from '../../core/models/candidate.js';
import { selectBest } from '../../lib/model-selection.js';
import { buildTrainingSet } from '../../core/models/training-set.js';
import { computeMonitoringTable, monitoringSettings } from '../../core/monitoring/table.js';
import { materializeMonth } from '../../core/datamart/materialize.js';
import { scoreMonth } from '../../core/scoring/score-month.js';
import { FIXTURE_DIR } from './fixture.js';
import { goldTableHash, lineageHash } from './gold.js';

/**
 * The columns the expected hashes were computed over, for the tables that later issues added columns to
 * (predictions: model_role, issue 28; monitoring: estimated performance, calibration and attribution, issues 29 and 30):
 * what was there must stay as it was; what is new is tested where it was added.
 */
const EARLIER_COLUMNS: Record<string, readonly string[]> = {
  predictions: ['loan_id', 'Customer_ID', 'snapshot_date', 'model_id', 'default_probability', 'predicted_default', 'risk_band'],
  monitoring: [
    'model_id', 'snapshot_date', 'n_scored', 'n_labelled', 'n_covered', 'observed_default_rate', 'mean_probability', 'auc', 'gini',
    'ks', 'accuracy', 'precision', 'recall', 'f1', 'brier', 'psi', 'max_csi', 'coverage', 'coverage_baseline', 'psi_covered',
    'max_null_jump', 'max_csi_feature', 'window', 'coverage_source', 'max_null_jump_feature', 'status',
  ],
};

export const SAMPLE_FROM = '2023-01';
export const SAMPLE_TO = '2024-12';
export const SAMPLE_TRAIN_AT = '2024-06';

export async function samplePipelineHashes(work: string): Promise<Record<string, string>> {
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const datamartDir = join(work, 'datamart');
  const modelBankDir = join(work, 'model_bank');
  const months = monthRange(SAMPLE_FROM, SAMPLE_TO);
  for (const month of months) await materializeMonth({ datamartDir, sourceDir: FIXTURE_DIR, month, maxQuarantineShare: 0.2 });
  // The lineage the ETL wrote, before scoring adds the explanations' (every bronze, silver and gold partition's).
  const etlLineage = await lineageHash(datamartDir);
  const trainingSet = await buildTrainingSet({ datamartDir, modelBankDir, asOf: SAMPLE_TRAIN_AT });
  const candidates = [];
  for (const family of MODEL_FAMILIES) candidates.push(await trainCandidate({ trainingSet, family }));
  const { modelId } = await registerModel({ modelBankDir, trainingSet, candidate: selectBest(candidates), workflow: { workflowId: 'gold-test', runId: 'run' } });
  for (const month of months) await scoreMonth({ datamartDir, modelBankDir, month, modelId });
  await computeMonitoringTable(monitoringSettings(loadConfig({}), { datamartDir, modelBankDir }), SAMPLE_TO, modelId);
  const tables: Record<string, string> = {
    feature_store: datamart.featureStore(datamartDir),
    label_store: join(datamartDir, 'gold', 'label_store'),
    predictions: datamart.predictions(datamartDir, modelId),
    monitoring: join(datamartDir, 'gold', 'monitoring'),
    ...Object.fromEntries(['attributes', 'financials', 'clickstream', 'loan_daily'].map((source) => [`silver_${source}`, join(datamartDir, 'silver', source)])),
  };
  const hashes: Record<string, string> = { model_id: modelId, etl_lineage: etlLineage };
  for (const [name, dir] of Object.entries(tables)) hashes[name] = await goldTableHash(dir, EARLIER_COLUMNS[name]);
  return hashes;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const work = process.argv[2] ?? '/tmp/sample-pipeline';
  console.log(JSON.stringify(await samplePipelineHashes(work), null, 2));
}
