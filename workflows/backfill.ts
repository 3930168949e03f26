import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  executeChild,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowFailure } from '../lib/errors.js';
import { compareMonths, monthRange, type Month } from '../lib/months.js';
import { searchAttributes, workflowIds, type Progress } from '../lib/temporal.js';
import { backfillInputSchema, parseInput, type BackfillInput } from '../lib/workflow-inputs.js';
import { datamart, modelBank } from './activity-proxies.js';
import { forEachBounded } from './bounded.js';
import { monthPipelineWorkflow } from './month-pipeline.js';
import { scoreMonthChild } from './children.js';
import { trainingWorkflow } from './training.js';
import { describeFailure } from './failure-text.js';

export const progressQuery = defineQuery<Progress>('progress');

export interface BackfillResult {
  from: Month;
  to: Month;
  total: number;
  done: Month[];
  skipped: Month[];
  failed: Array<{ month: Month; error: string }>;
  trainAt: Month | null;
  training: { modelId: string; promoted: boolean; reason: string; workflowId: string } | null;
}

/**
 * Phase 1 over a month range: one monthPipelineWorkflow child per month (at most `parallelism` at once), the months
 * up to the training month first, then training, then the later months (which score with the new production model).
 * Months whose gold partitions exist are skipped, so running it again redoes only what is missing. Continues as new
 * before its history grows large, carrying what it has done.
 */
export async function backfillWorkflow(rawInput: BackfillInput): Promise<BackfillResult> {
  const input = parseInput(backfillInputSchema, rawInput, 'backfillWorkflow');
  const { from, to, sourceDir, parallelism } = input;
  if (input.trainAt && (compareMonths(input.trainAt, from) < 0 || compareMonths(input.trainAt, to) > 0)) {
    throw ApplicationFailure.nonRetryable(`trainAt ${input.trainAt} lies outside ${from}..${to}`, WorkflowFailure.InvalidWorkflowInput);
  }
  upsertSearchAttributes([{ key: searchAttributes.pipelinePhase, value: 'backfill' }]);

  const months = monthRange(from, to);
  const state = input.carried ?? { done: [], failed: [], skipped: [], trainAt: input.trainAt ?? null, training: null };
  let running = 0;
  setHandler(progressQuery, () => ({
    total: months.length,
    done: state.done.length + state.skipped.length,
    failed: state.failed.length,
    running,
  }));

  if (!input.carried) {
    const inventory = await datamart.inventoryMonths({ from, to, requirement: 'gold' });
    state.skipped = inventory.present;
  }
  const settled = (month: Month) =>
    state.done.includes(month) || state.skipped.includes(month) || state.failed.some((f) => f.month === month);
  const historyIsLarge = () =>
    workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > input.maxHistoryEvents;

  const runMonth = async (month: Month) => {
    running++;
    setCurrentDetails(`running month ${month}`);
    try {
      await executeChild(monthPipelineWorkflow, {
        workflowId: workflowIds.month(month),
        args: [{ month, sourceDir }],
        staticSummary: `ETL of ${month} (bronze → silver → gold)`,
        typedSearchAttributes: [
          { key: searchAttributes.pipelinePhase, value: 'etl' },
          { key: searchAttributes.snapshotMonth, value: month },
        ],
      });
      state.done.push(month);
    } catch (error) {
      state.failed.push({ month, error: describeFailure(error) });
    } finally {
      running--;
    }
  };
  const runMonths = async (selection: Month[]) => {
    await forEachBounded(selection.filter((month) => !settled(month)), parallelism, runMonth, () => !historyIsLarge());
    if (historyIsLarge() && selection.some((month) => !settled(month))) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof backfillWorkflow>({ ...input, carried: state });
    }
  };

  // 1. The months the training needs: up to trainAt, or all of them when the training month is found afterwards.
  await runMonths(state.trainAt ? months.filter((month) => compareMonths(month, state.trainAt!) <= 0) : months);

  // 2. Training at the last month with mature labels unless told otherwise, once per as-of month.
  state.trainAt ??= await datamart.latestLabelledMonth({ from, to });
  if (state.trainAt && !state.training && !state.failed.some((f) => f.month === state.trainAt)) {
    state.training = await trainOnce(state.trainAt, state.failed);
  }

  // 3. The months after the training month: ETL and scoring with the production model.
  const later = state.trainAt ? months.filter((month) => compareMonths(month, state.trainAt!) > 0) : [];
  await runMonths(later);

  // Months ETL'd in step 1 after the training month (trainAt found late) get their scores here.
  const production = (await modelBank.readRegistry()).production;
  if (production && !input.trainAt && state.trainAt) {
    const unscored = later.filter((month) => state.done.includes(month));
    await forEachBounded(unscored, parallelism, async (month) => {
      await scoreMonthChild(month, production).catch((error) => state.failed.push({ month, error: describeFailure(error) }));
    });
  }

  const result: BackfillResult = { from, to, total: months.length, ...state };
  if (state.failed.length > 0) {
    const list = state.failed.map((f) => `${f.month} (${f.error})`).join('; ');
    throw ApplicationFailure.create({
      type: WorkflowFailure.BackfillIncomplete,
      message: `${state.failed.length} of ${months.length} months failed: ${list}. Run the same backfill again to redo only what is missing.`,
      nonRetryable: true,
      details: [result],
    });
  }
  return result;
}

async function trainOnce(
  asOf: Month,
  failed: Array<{ month: Month; error: string }>,
): Promise<BackfillResult['training']> {
  const existing = (await modelBank.listModels()).filter((model) => model.asOf === asOf);
  const registry = await modelBank.readRegistry();
  const alreadyTrained = existing.find((model) => model.modelId === registry.production) ?? existing[0];
  if (alreadyTrained) {
    return {
      modelId: alreadyTrained.modelId,
      promoted: registry.production === alreadyTrained.modelId,
      reason: `a model as of ${asOf} already exists`,
      workflowId: '',
    };
  }
  const workflowId = workflowIds.training(asOf, 1);
  try {
    const trained = await executeChild(trainingWorkflow, {
      workflowId,
      args: [{ asOf, reason: `backfill training as of ${asOf}` }],
      staticSummary: `training as of ${asOf}`,
      typedSearchAttributes: [
        { key: searchAttributes.pipelinePhase, value: 'train' },
        { key: searchAttributes.snapshotMonth, value: asOf },
      ],
    });
    return { modelId: trained.modelId, promoted: trained.promoted, reason: trained.reason, workflowId };
  } catch (error) {
    failed.push({ month: asOf, error: `training: ${describeFailure(error)}` });
    return null;
  }
}
