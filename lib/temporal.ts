// The Temporal surface of SPEC §5: workflow ids, search attributes, schedule ids. Pure: workflows import it.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { Month } from './months.js';

export const DEFAULT_TASK_QUEUE = 'credit-pipeline';
export const LIFECYCLE_WORKFLOW_ID = 'model-lifecycle';

export const workflowIds = {
  backfill: (from: Month, to: Month) => `backfill-${from}-${to}`,
  month: (month: Month) => `month-${month}`,
  training: (asOf: Month, sequence: number) => `training-${asOf}-${sequence}`,
  history: (from: Month, to: Month) => `history-${from}-${to}`,
  scoreMonth: (month: Month, modelId: string) => `score-${month}-${modelId}`,
  monitoring: (asOf: Month) => `monitoring-${asOf}`,
  retrainPolicy: (asOf: Month) => `retrain-policy-${asOf}`,
};

export const scheduleIds = {
  monthlyPipeline: 'credit-monthly-pipeline',
  weeklyMonitoring: 'credit-weekly-monitoring',
  monthlyRetrain: 'credit-monthly-retrain',
};

export const PIPELINE_PHASES = ['backfill', 'etl', 'train', 'score', 'monitor'] as const;
export type PipelinePhase = (typeof PIPELINE_PHASES)[number];

export const searchAttributes = {
  pipelinePhase: defineSearchAttributeKey('PipelinePhase', SearchAttributeType.KEYWORD),
  snapshotMonth: defineSearchAttributeKey('SnapshotMonth', SearchAttributeType.KEYWORD),
  modelId: defineSearchAttributeKey('ModelId', SearchAttributeType.KEYWORD),
};
export const ALL_SEARCH_ATTRIBUTES = Object.values(searchAttributes);

/** Progress answered by the `progress` query of backfill and history workflows. */
export interface Progress {
  total: number;
  done: number;
  failed: number;
  running: number;
}
