import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  executeChild,
  isCancellation,
  log,
  patched,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { WorkflowFailure } from '../lib/errors.js';
import { addMonths, compareMonths, monthRange, type Month } from '../lib/months.js';
import { OWED_MONTHS_QUERY, SOURCE_FOLDER_QUERY, searchAttributes, workflowIds, type Progress, type SourceFolderAnswer } from '../lib/temporal.js';
import { CLICKSTREAM_LOOKBACK } from '../lib/layout.js';
import type { StaleCause } from '../lib/stale-causes.js';
import { backfillInputSchema, parseInput, type BackfillInput } from '../lib/workflow-inputs.js';
import { trainingBlockedByIncomplete } from '../lib/completeness.js';
import { pollWorkflow, datamart, monthsOwedByOtherBackfills, backfillsOnOtherSources, planMonths, quickReads, recheckMonths, sendPipelineAlert } from './activity-proxies.js';
import { forEachBounded } from './bounded.js';
import { monthPipelineWorkflow } from './month-pipeline.js';
import { scoreMonthChild } from './children.js';
import { trainingWorkflow, type TrainingResult } from './training.js';
import { describeFailure } from './failure-text.js';

export const progressQuery = defineQuery<Progress>('progress');
export const owedMonthsQuery = defineQuery<Month[]>(OWED_MONTHS_QUERY);
export const sourceFolderQuery = defineQuery<SourceFolderAnswer>(SOURCE_FOLDER_QUERY);

export interface BackfillResult {
  from: Month;
  to: Month;
  total: number;
  /** Months this run recomputed (or awaited while another backfill recomputed them). */
  done: Month[];
  /** Months whose gold partitions were already current (built from the same inputs). */
  skipped: Month[];
  failed: Array<{ month: Month; error: string }>;
  trainAt: Month | null;
  /** `reused`: a model trained on the same data already existed, so this run trained and promoted nothing. */
  training: { modelId: string; promoted: boolean; reused?: boolean; reason: string; workflowId: string } | null;
  /** Why no training ran although a training month was set (months feeding it failed or are incomplete), or null. */
  trainingBlocked: string | null;
  /** The model in production when the run ended (whatever it trained or found), or null. */
  production?: string | null;
  /** Whether that model's training data is no longer current (production_stale), null when unknown or none. */
  productionStale?: boolean | null;
  /** Known gaps an operator accepted in this run (--accept-incomplete). */
  acceptedGaps?: Array<{ source: string; month: Month; rows: number }>;
}

/** Waits for a run another backfill started (polled with durable timers, holding no activity slot). */
async function awaitWorkflow({ workflowId }: { workflowId: string }) {
  for (;;) {
    const outcome = await pollWorkflow({ workflowId });
    if (outcome.status !== 'running') return outcome;
    await sleep('2 seconds');
  }
}

/** How often a month taken by another backfill is awaited and re-checked before this run gives up on it. */
const MAX_MONTH_ROUNDS = 4;

/**
 * Phase 1 over a month range: one monthPipelineWorkflow child per month (at most `parallelism` at once), the months
 * up to the training month first, then training, then the later months (which score with the new production model).
 *
 * A month is recomputed only when its gold partitions are not current for the sources (lineage), or when forced: one
 * planning activity stages the sources and finds the months already current, and each other month is checked again
 * right before it starts (a local activity), so a month another backfill finished meanwhile is not done twice. A month
 * running under another backfill (same child id `month-<M>`) is awaited, then checked again. The months are scored
 * with the production model read once per group of months (before the training, after it). No training runs while
 * a month that feeds it failed; the training itself reuses a model trained on the same data.
 */
export async function backfillWorkflow(rawInput: BackfillInput): Promise<BackfillResult> {
  const input = parseInput(backfillInputSchema, rawInput, 'backfillWorkflow');
  const { from, to, sourceDir, parallelism } = input;
  if (input.trainAt && (compareMonths(input.trainAt, from) < 0 || compareMonths(input.trainAt, to) > 0)) {
    throw ApplicationFailure.nonRetryable(`trainAt ${input.trainAt} lies outside ${from}..${to}`, WorkflowFailure.InvalidWorkflowInput);
  }
  upsertSearchAttributes([{ key: searchAttributes.pipelinePhase, value: 'backfill' }]);

  // Reprocessing chosen months also looks at the months whose feature store reads their clickstream (lookback).
  const dependants = input.months ? await laterMonthsWithGold(input.months) : [];
  const months = [...new Set([...monthRange(from, to), ...dependants])].sort(compareMonths);
  const forced = new Set(input.force ? (input.months ?? months) : []);
  let acceptedGaps: NonNullable<BackfillResult['acceptedGaps']> = [];
  /** The incomplete slices a training as of `asOf` would read, after recording the operator's acceptances. */
  const incompleteUpTo = async (asOf: Month) => {
    if (input.acceptIncomplete) {
      setStep(`accepting the known gaps of ${input.acceptIncomplete.months.join(', ')}: ${input.acceptIncomplete.reason}`);
      const { accepted, nothingToAccept } = await datamart.acceptIncomplete({ ...input.acceptIncomplete, workflowId: workflowInfo().workflowId });
      acceptedGaps = accepted.map(({ source, month, rows }) => ({ source, month, rows }));
      log.info('incomplete source months accepted by the operator', { accepted, nothingToAccept, reason: input.acceptIncomplete.reason });
    }
    return quickReads.incompleteGoldInputs({ upTo: asOf });
  };
  const state = input.carried ?? {
    done: [],
    failed: [],
    skipped: [],
    trainAt: input.trainAt ?? null,
    training: null,
    trainingBlocked: null,
  };
  let running = 0;
  // What is happening now, for the `progress` query and the Web UI's current details.
  let step = 'checking which months are already done';
  let child: string | undefined;
  const setStep = (text: string, childId?: string) => {
    step = text;
    child = childId;
    setCurrentDetails(text);
  };
  // Why each month the plan found not current is stale (missing, source changed, …), until the month is done.
  const staleCauses = new Map<Month, StaleCause[]>();
  setHandler(progressQuery, () => {
    const stale = [...staleCauses].filter(([month]) => !state.done.includes(month) && !state.skipped.includes(month)).map(([month, causes]) => ({ month, causes }));
    return {
      total: months.length,
      done: state.done.length + state.skipped.length,
      failed: state.failed.length,
      running,
      step,
      ...(child ? { child } : {}),
      ...(stale.length > 0 ? { stale } : {}),
    };
  });

  const settled = (month: Month) =>
    state.done.includes(month) || state.skipped.includes(month) || state.failed.some((f) => f.month === month);
  setHandler(owedMonthsQuery, () => months.filter((month) => !settled(month)));
  setHandler(sourceFolderQuery, () => ({ sourceDir, continued: input.carried !== undefined }));
  // One source folder per datamart at a time: two backfills of different folders would overwrite each other's months
  // and each report a model trained on a mix. The one that came later gives way before it writes anything. Checked
  // after the owedMonths handler is set: a training elsewhere asks it at once.
  if (input.carried === undefined && patched('one-source-folder-per-datamart')) {
    const others = await backfillsOnOtherSources({ sourceDir });
    if (others.length > 0) {
      throw ApplicationFailure.nonRetryable(
        `another backfill, ${others.map((o) => `${o.workflowId} (source ${o.sourceDir})`).join(', ')}, is running on this datamart with another ` +
          `source folder than ${sourceDir}; one source folder at a time: wait for it to finish (npm run status), then run this one again`,
        WorkflowFailure.SourceFolderBusy,
      );
    }
  }
  const historyIsLarge = () =>
    workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > input.maxHistoryEvents;

  const runMonth = async (month: Month, currentAtStart: boolean, modelId: string | null, planIsFresh: boolean) => {
    running++;
    try {
      const outcome = await ensureMonth({ month, sourceDir, force: forced.has(month), currentAtStart, planIsFresh, modelId });
      (outcome === 'skipped' ? state.skipped : state.done).push(month);
    } catch (error) {
      if (isCancellation(error)) throw error;
      state.failed.push({ month, error: describeFailure(error) });
    } finally {
      running--;
    }
  };
  const runMonths = async (selection: Month[]) => {
    const pending = selection.filter((month) => !settled(month));
    const toPlan = pending.filter((month) => !forced.has(month));
    // The production model is read while the plan runs (a quick read beside minutes of staging at most): one round
    // trip less before the first month starts. It scores only the months the plan finds not current.
    const [plans, registry] = await Promise.all([
      toPlan.length > 0 ? planMonths({ sourceDir, months: toPlan }) : Promise.resolve([]),
      pending.length > 0 ? quickReads.readRegistry() : Promise.resolve(null),
    ]);
    const currentAtStart = new Set(plans.filter((plan) => plan.current).map((plan) => plan.month));
    for (const plan of plans) if (!plan.current) staleCauses.set(plan.month, plan.causes ?? []);
    const modelId = pending.some((month) => !currentAtStart.has(month)) ? (registry?.production ?? null) : null;
    // The first `parallelism` months to compute start right after the plan (the current ones are skipped without a
    // wait), so they need not be checked again; the later ones start when a slot frees, and another backfill may have
    // made them current by then.
    const startingNow = new Set(pending.filter((month) => !currentAtStart.has(month)).slice(0, parallelism));
    await forEachBounded(pending, parallelism, (month) => runMonth(month, currentAtStart.has(month), modelId, startingNow.has(month)), () => !historyIsLarge());
    if (historyIsLarge() && selection.some((month) => !settled(month))) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof backfillWorkflow>({ ...input, carried: state });
    }
  };

  // 1. The months the training needs: up to trainAt, or all of them when the training month is found afterwards.
  const first = state.trainAt ? months.filter((month) => compareMonths(month, state.trainAt!) <= 0) : months;
  setStep(`ETL of ${first.length} months (${first[0]}..${first[first.length - 1]}), ${parallelism} at a time`);
  await runMonths(first);

  // 2. Training at the last month with mature labels unless told otherwise (reprocessing chosen months trains only
  // when asked to), and only from complete data: every month up to the training month current.
  if (!input.months) {
    setStep('finding the last month with mature labels');
    state.trainAt ??= await quickReads.latestLabelledMonth({ from, to });
  }
  if (state.trainAt && !state.training && !state.trainingBlocked) {
    const asOf = state.trainAt;
    const holes = state.failed.filter((f) => compareMonths(f.month, asOf) <= 0).map((f) => f.month);
    if (holes.length > 0) {
      state.trainingBlocked =
        `no training as of ${asOf}: month(s) ${holes.join(', ')} feed the training set and failed; ` +
        'a later run trains once they are complete';
    } else {
      // The training reads every month up to asOf in the datamart, this run's or not: while another backfill still
      // owes one of them (a wider range, perhaps still planning), training now would leave it out.
      if (patched('training-waits-for-months-owed-elsewhere')) await waitForMonthsOwedElsewhere(asOf, setStep);
      // No model from incomplete data: a source month emptied or cut (gold marked incomplete in its lineage) blocks
      // the training unless the operator accepted that gap.
      const incomplete = patched('training-blocked-by-incomplete-sources') ? await incompleteUpTo(asOf) : [];
      if (incomplete.length > 0) state.trainingBlocked = trainingBlockedByIncomplete(asOf, incomplete);
      else state.training = await trainOnce(asOf, state.failed, setStep);
    }
  }

  // 3. The months after the training month: ETL and scoring with the production model.
  const later = state.trainAt ? months.filter((month) => compareMonths(month, state.trainAt!) > 0) : [];
  if (later.some((month) => !settled(month))) setStep(`ETL and scoring of the ${later.length} months after ${state.trainAt}`);
  await runMonths(later);

  // The staging cache keeps only the source versions a partition still references (scoring reads the feature store,
  // never the staging cache, so pruning goes beside the registry read rather than after the scoring).
  const [{ production }] = await Promise.all([quickReads.readRegistry(), datamart.pruneStaging()]);
  // Months ETL'd in step 1 after the training month (trainAt found late) get their scores here.
  if (production && state.training && !input.trainAt && state.trainAt) {
    const unscored = later.filter((month) => state.done.includes(month));
    if (unscored.length > 0) setStep(`scoring ${unscored.length} months after ${state.trainAt} with ${production}`);
    await forEachBounded(unscored, parallelism, async (month) => {
      await scoreMonthChild(month, production).catch((error) => state.failed.push({ month, error: describeFailure(error) }));
    });
  }

  setStep(state.failed.length > 0 ? `finished with ${state.failed.length} failed months` : 'finished');
  const result: BackfillResult = { from, to, total: months.length, ...state };
  if (patched('backfill-reports-production')) {
    const staleness = await quickReads.productionStaleness();
    Object.assign(result, { production: staleness.production, productionStale: staleness.stale, acceptedGaps });
  }
  if (state.failed.length > 0 || state.trainingBlocked) {
    // A failed training is reported as one, not as a failed month (its month's ETL succeeded).
    const isTraining = (f: { error: string }) => f.error.startsWith(TRAINING_FAILURE);
    const monthFailures = state.failed.filter((f) => !isTraining(f));
    const list = monthFailures.map((f) => `${f.month} (${f.error})`).join('; ');
    const summary = [
      monthFailures.length > 0 ? `${monthFailures.length} of ${months.length} months failed: ${list}.` : '',
      ...state.failed.filter(isTraining).map((f) => `the training as of ${f.month} failed: ${f.error.slice(TRAINING_FAILURE.length)}.`),
      state.trainingBlocked ? `${state.trainingBlocked}.` : '',
    ].filter(Boolean).join(' ');
    await sendPipelineAlert({
      kind: 'backfill',
      workflowId: workflowInfo().workflowId,
      summary,
      action: 'fix what the failures name (a source file) or rerun the same backfill for transient errors; it redoes only what is stale',
    });
    throw ApplicationFailure.create({ type: WorkflowFailure.BackfillIncomplete, message: summary, nonRetryable: true, details: [result] });
  }
  return result;
}

/** The months after the chosen ones whose feature store reads their clickstream and that have gold partitions now. */
async function laterMonthsWithGold(chosen: Month[]): Promise<Month[]> {
  const last = [...chosen].sort(compareMonths).at(-1)!;
  const inventory = await quickReads.inventoryMonths({ from: addMonths(last, 1), to: addMonths(last, CLICKSTREAM_LOOKBACK), requirement: 'gold' });
  return inventory.present;
}

/**
 * Makes one month current: skipped when its partitions already are (unless forced), else its month-<M> child runs,
 * scoring with `modelId` (null: none). When another backfill runs month-<M> now, that run is awaited and the month
 * checked again (the other may read other sources), so each month's pipeline runs once however many backfills want it.
 */
async function ensureMonth(options: {
  month: Month;
  sourceDir: string;
  force: boolean;
  currentAtStart: boolean;
  /** The plan was made right before this start: no check again on the first round. */
  planIsFresh: boolean;
  modelId: string | null;
}): Promise<'done' | 'skipped'> {
  const { month, sourceDir, force, currentAtStart, planIsFresh, modelId } = options;
  for (let round = 1; ; round++) {
    const firstRound = round === 1;
    if (firstRound && !force && currentAtStart) return 'skipped';
    // After another backfill's run of the month, always; on the first round unless forced or just planned.
    if (!firstRound || (!force && !planIsFresh)) {
      const [plan] = await recheckMonths({ sourceDir, months: [month] });
      if (plan.current) return firstRound ? 'skipped' : 'done';
    }
    try {
      await executeChild(monthPipelineWorkflow, {
        workflowId: workflowIds.month(month),
        // Forced: the month's ETL reads and hashes the source files again (once per backfill run: its run id).
        args: [{ month, sourceDir, modelId, ...(force ? { restage: workflowInfo().runId } : {}) }],
        staticSummary: `ETL of ${month} (bronze → silver → gold)`,
        typedSearchAttributes: [
          { key: searchAttributes.pipelinePhase, value: 'etl' },
          { key: searchAttributes.snapshotMonth, value: month },
        ],
      });
      return 'done';
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError) || round >= MAX_MONTH_ROUNDS) throw error;
      setCurrentDetails(`month ${month} runs under another backfill: awaiting it`);
      const other = await awaitWorkflow({ workflowId: workflowIds.month(month) });
      if (other.status === 'failed') throw ApplicationFailure.create({ type: WorkflowFailure.MonthFailedElsewhere, message: other.error });
    }
  }
}

/**
 * Polls (durable timers, no activity held) until no other running backfill owes a month up to `asOf`: every 2 s at
 * first, then less often (up to every 30 s), so that waiting for an hours-long backfill adds few history events.
 */
async function waitForMonthsOwedElsewhere(asOf: Month, setStep: (text: string) => void): Promise<void> {
  for (let seconds = 2; ; seconds = Math.min(seconds * 2, 30)) {
    const owed = await monthsOwedByOtherBackfills({ upTo: asOf });
    if (owed.length === 0) return;
    setStep(`waiting for ${owed.join(', ')}: another backfill is computing them, and the training as of ${asOf} reads them`);
    await sleep(`${seconds} seconds`);
  }
}

/** Prefix of a failed training's entry among the failed months. */
const TRAINING_FAILURE = 'training: ';

async function trainOnce(
  asOf: Month,
  failed: Array<{ month: Month; error: string }>,
  setStep: (text: string, child?: string) => void,
): Promise<BackfillResult['training']> {
  const workflowId = workflowIds.training(asOf, 1);
  setStep(`training as of ${asOf}`, workflowId);
  try {
    let trained: TrainingResult;
    try {
      trained = await executeChild(trainingWorkflow, {
        workflowId,
        args: [{ asOf, reason: `backfill training as of ${asOf}` }],
        staticSummary: `training as of ${asOf}`,
        typedSearchAttributes: [
          { key: searchAttributes.pipelinePhase, value: 'train' },
          { key: searchAttributes.snapshotMonth, value: asOf },
        ],
      });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      // An overlapping backfill trains as of the same month right now: its result is this run's too.
      const other = await awaitWorkflow({ workflowId });
      if (other.status !== 'completed') {
        throw ApplicationFailure.create({ type: WorkflowFailure.TrainingFailedElsewhere, message: other.status === 'failed' ? other.error : `${workflowId} vanished` });
      }
      trained = other.result as TrainingResult;
    }
    return { modelId: trained.modelId, promoted: trained.promoted, reused: trained.reused, reason: trained.reason, workflowId };
  } catch (error) {
    if (isCancellation(error)) throw error;
    failed.push({ month: asOf, error: `${TRAINING_FAILURE}${describeFailure(error)}` });
    return null;
  }
}
