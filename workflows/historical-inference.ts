import {
  ApplicationFailure,
  defineQuery,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { WorkflowFailure } from '../lib/errors.js';
import type { Month } from '../lib/months.js';
import { searchAttributes, type Progress } from '../lib/temporal.js';
import { historyInputSchema, parseInput, type HistoryInput } from '../lib/workflow-inputs.js';
import { quickReads } from './activity-proxies.js';
import { forEachBounded } from './bounded.js';
import { scoreMonthChild } from './children.js';
import { recordingFailure, throwIfMonthsFailed, type MonthFailure } from './month-failures.js';

export const historyProgressQuery = defineQuery<Progress>('progress');

export interface HistoryResult {
  modelId: string;
  scored: Array<{ month: Month; rows: number }>;
  withoutFeatures: Month[];
  failed: MonthFailure[];
  /** Challengers scored in shadow on every month production scored (a challenger's failure never fails the run). */
  shadow?: Array<{ modelId: string; months: Month[]; failed: MonthFailure[] }>;
}

/**
 * Phase 2: the production model (or the one named) scores every month of the range that has features; without a model
 * named, the registered challengers then score the same months in shadow.
 */
export async function historicalInferenceWorkflow(rawInput: HistoryInput): Promise<HistoryResult> {
  const { from, to, parallelism, ...input } = parseInput(historyInputSchema, rawInput, 'historicalInferenceWorkflow');
  // The registry and the inventory are read at once: neither depends on the other.
  const [registry, { present, missing }] = await Promise.all([
    input.modelId ? Promise.resolve(null) : quickReads.readRegistry(),
    quickReads.inventoryMonths({ from, to, requirement: 'features' }),
  ]);
  const modelId = input.modelId ?? registry?.production;
  if (!modelId) {
    throw ApplicationFailure.nonRetryable('no production model: run a backfill (phase 1) first, or pass modelId', WorkflowFailure.NoProductionModel);
  }
  upsertSearchAttributes([
    { key: searchAttributes.pipelinePhase, value: 'score' },
    { key: searchAttributes.modelId, value: modelId },
  ]);

  const result: HistoryResult = { modelId, scored: [], withoutFeatures: missing, failed: [] };
  let running = 0;
  const step = `scoring ${present.length} months with ${modelId}, ${parallelism} at a time`;
  setCurrentDetails(step);
  setHandler(historyProgressQuery, () => ({
    total: present.length,
    done: result.scored.length,
    failed: result.failed.length,
    running,
    step,
  }));

  await forEachBounded(present, parallelism, async (month) => {
    running++;
    const scored = await recordingFailure(result.failed, month, () => scoreMonthChild(month, modelId));
    if (scored) result.scored.push({ month, rows: scored.rows });
    running--;
  });

  // patched: runs begun before shadow scoring replay as they ran.
  if (!input.modelId && patched('shadow-challengers')) {
    const { challengers } = await quickReads.readModelRoles();
    const months = result.scored.map((scored) => scored.month).sort();
    result.shadow = [];
    for (const challenger of challengers.filter((id) => id !== modelId)) {
      const shadow = { modelId: challenger, months: [] as Month[], failed: [] as MonthFailure[] };
      result.shadow.push(shadow);
      setCurrentDetails(`shadow scoring ${months.length} months with challenger ${challenger}`);
      await forEachBounded(months, parallelism, async (month) => {
        if (await recordingFailure(shadow.failed, month, () => scoreMonthChild(month, challenger))) shadow.months.push(month);
      });
    }
  }

  throwIfMonthsFailed(WorkflowFailure.HistoryIncomplete, result.failed, present.length, result);
  return result;
}
