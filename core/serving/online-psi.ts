// Training-serving skew seen from the outputs: the PSI between the online scores of a month (gold/predictions_online)
// and the batch scores of the same month and model (gold/predictions), on the model's baseline score deciles with
// SPEC §4's rules (outer bins open, proportions floored at 1e-4). Batch is the expected distribution.
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { datamart, partitionDir, partitionFile } from '../../lib/layout.js';
import type { Month } from '../../lib/months.js';
import { queryRows, readParquet, sqlString, withDuckDB } from '../duckdb.js';
import { readMetadata } from '../models/bank.js';
import { numericProportions, psi } from '../monitoring/drift.js';

export interface OnlineBatchPsi {
  modelId: string;
  month: Month;
  psi: number | null;
  batchRows: number;
  onlineRows: number;
}

export async function onlineBatchPsi(options: { datamartDir: string; modelBankDir: string; modelId: string; month: Month }): Promise<OnlineBatchPsi> {
  const { datamartDir, modelBankDir, modelId, month } = options;
  const { baseline } = await readMetadata(modelBankDir, modelId);
  const batchFile = partitionFile(datamart.predictions(datamartDir, modelId), month);
  const onlineDir = partitionDir(datamart.predictionsOnline(datamartDir), month);
  const onlineFiles = (await readdir(onlineDir).catch(() => [] as string[])).filter((name) => name.endsWith('.parquet')).map((name) => `${onlineDir}/${name}`);
  const scores = (sql: string) => withDuckDB(async (db) => (await queryRows<{ p: number }>(db, sql)).map((row) => row.p));
  const batch = existsSync(batchFile) ? await scores(`SELECT default_probability AS p FROM ${readParquet(batchFile)}`) : [];
  const online = onlineFiles.length
    ? await scores(`SELECT default_probability AS p FROM ${readParquet(onlineFiles)} WHERE model_id = ${sqlString(modelId)}`)
    : [];
  const result = { modelId, month, batchRows: batch.length, onlineRows: online.length };
  if (batch.length === 0 || online.length === 0) return { ...result, psi: null };
  const edges = baseline.score.edges;
  return { ...result, psi: psi(numericProportions(batch, edges, false), numericProportions(online, edges, false)) };
}
