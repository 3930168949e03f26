// Child workflows started from several parents, with the ids and search attributes of SPEC §5.
import { executeChild } from '@temporalio/workflow';
import type { Month } from '../lib/months.js';
import { searchAttributes, workflowIds } from '../lib/temporal.js';
import { scoreMonthWorkflow } from './score-month.js';

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
