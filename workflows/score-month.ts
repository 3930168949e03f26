import { upsertSearchAttributes } from '@temporalio/workflow';
import { searchAttributes } from '../lib/temporal.js';
import { parseInput, scoreMonthInputSchema, type ScoreMonthInput } from '../lib/workflow-inputs.js';
import { scoring } from './activity-proxies.js';

/** Scores one month of the feature store with one model into gold/predictions. */
export async function scoreMonthWorkflow(input: ScoreMonthInput) {
  const { month, modelId } = parseInput(scoreMonthInputSchema, input, 'scoreMonthWorkflow');
  upsertSearchAttributes([
    { key: searchAttributes.pipelinePhase, value: 'score' },
    { key: searchAttributes.snapshotMonth, value: month },
    { key: searchAttributes.modelId, value: modelId },
  ]);
  return scoring.scoreMonth({ month, modelId });
}
