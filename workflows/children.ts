// Child workflows started from several parents, with the ids and search attributes of SPEC §5.
import { executeChild, isCancellation } from '@temporalio/workflow';
import type { Month } from '../lib/months.js';
import { searchAttributes, workflowIds } from '../lib/temporal.js';
import { scoreMonthWorkflow } from './score-month.js';
import { describeFailure } from './failure-text.js';

/** Scores one month with one model as the child `score-<month>-<model>`. */
export function scoreMonthChild(month: Month, modelId: string) {
  return executeChild(scoreMonthWorkflow, {
    workflowId: workflowIds.scoreMonth(month, modelId),
    args: [{ month, modelId }],
    staticSummary: `score ${month} with ${modelId}`,
    typedSearchAttributes: [
      { key: searchAttributes.pipelinePhase, value: 'score' },
      { key: searchAttributes.snapshotMonth, value: month },
      { key: searchAttributes.modelId, value: modelId },
    ],
  });
}

/**
 * Scores one month with each challenger in shadow (the same child per month and model as production's), all at once.
 * A challenger that fails is reported, never a failure of the month: production's predictions are what the month owes.
 */
export async function scoreChallengers(month: Month, challengers: readonly string[]) {
  const shadowScored: string[] = [];
  const shadowFailed: Array<{ modelId: string; error: string }> = [];
  await Promise.all(
    challengers.map(async (modelId) => {
      try {
        await scoreMonthChild(month, modelId);
        shadowScored.push(modelId);
      } catch (error) {
        if (isCancellation(error)) throw error;
        shadowFailed.push({ modelId, error: describeFailure(error) });
      }
    }),
  );
  return { shadowScored, shadowFailed };
}
