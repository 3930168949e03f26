// Build → train every family → select, without Temporal: what quality checks and scripts run directly.
import type { Config } from '../../lib/config.js';
import { MODEL_FAMILIES } from '../../lib/contracts.js';
import type { Month } from '../../lib/months.js';
import { trainCandidate } from './candidate.js';
import { selectBest } from '../../lib/model-selection.js';
import { buildTrainingSet } from './training-set.js';
import type { CandidateSummary, TrainingSetSummary } from '../../lib/model-summaries.js';

export interface TrainAndSelectResult {
  trainingSet: TrainingSetSummary;
  candidates: CandidateSummary[];
  best: CandidateSummary;
  buildSeconds: number;
}

export async function trainAndSelect(
  config: Pick<Config, 'DATAMART_DIR' | 'MODEL_BANK_DIR'>,
  asOf: Month,
  options: { ootMonths?: number; testMonths?: number } = {},
): Promise<TrainAndSelectResult> {
  const started = performance.now();
  const trainingSet = await buildTrainingSet({ datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, asOf, ...options });
  const buildSeconds = (performance.now() - started) / 1000;
  const candidates: CandidateSummary[] = [];
  for (const family of MODEL_FAMILIES) candidates.push(await trainCandidate({ trainingSet, family }));
  return { trainingSet, candidates, best: selectBest(candidates), buildSeconds };
}
