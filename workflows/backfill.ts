import {
  ApplicationFailure,
  CancellationScope,
  ContinueAsNew,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  executeChild,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowFailure } from '../lib/errors.js';
import { addMonths, compareMonths, monthRange, type Month } from '../lib/months.js';
import { claimOf, searchAttributes, workflowIds, type HandedClaim, type Progress, type TrainingOutcome } from '../lib/temporal.js';
import { CLICKSTREAM_LOOKBACK } from '../lib/layout.js';
import type { StaleCause } from '../lib/stale-causes.js';
import { backfillInputSchema, parseInput, type BackfillInput } from '../lib/workflow-inputs.js';
import { trainingBlockedByIncomplete } from '../lib/completeness.js';
import { datamart, joinBackfills, planMonths, quickReads, recheckMonths, sendPipelineAlert } from './activity-proxies.js';
import { claimHandedSignal, leaveSignal, requestClaimSignal, settleClaimSignal } from './backfill-coordinator.js';
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
  /** Months this run recomputed (or awaited while another backfill recomputed them). */
  done: Month[];
  /** Months whose gold partitions were already current (built from the same inputs). */
  skipped: Month[];
  failed: Array<{ month: Month; error: string }>;
  trainAt: Month | null;
  /** `reused`: a model trained on the same data already existed, so this run trained and promoted nothing. */
  training: TrainingOutcome | null;
  /** Why no training ran although a training month was set (months feeding it failed or are incomplete), or null. */
  trainingBlocked: string | null;
  /** The model in production when the run ended (whatever it trained or found), or null. */
  production?: string | null;
  /** Whether that model's training data is no longer current (production_stale), null when unknown or none. */
  productionStale?: boolean | null;
  /** Known gaps an operator accepted in this run (--accept-incomplete). */
  acceptedGaps?: Array<{ source: string; month: Month; rows: number }>;
}

/**
 * Phase 1 over a month range: one monthPipelineWorkflow child per month (at most `parallelism` at once), the months
 * up to the training month first, then training, then the later months (which score with the new production model).
 *
 * A month is recomputed only when its gold partitions are not current for the sources (lineage), or when forced: one
 * planning activity stages the sources and finds the months already current, and each other month is checked again
 * right before it starts (a local activity), so a month another backfill finished meanwhile is not done twice.
 * Overlapping backfills share the work through the datamart's coordinator (workflows/backfill-coordinator.ts): a
 * month is run by the backfill holding its claim; another backfill wanting it waits for the claim, then checks the
 * month again; the training waits until no other backfill owes a month it reads, and its result passes with its
 * claim to a backfill waiting to train as of the same month. The months are scored
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

  // Claims handed by the coordinator (at the join, then by signal), until this run settles them.
  const held = new Map<string, HandedClaim>();
  setHandler(claimHandedSignal, (handed) => {
    held.set(handed.claim, handed);
  });
  const backfillId = workflowInfo().workflowId;
  const coordinator = getExternalWorkflowHandle(workflowIds.backfillCoordinator(workflowInfo().taskQueue));
  /** Waits until the coordinator hands `claim` to this run; returns what the backfill before it left there. */
  const awaitClaim = async (claim: string, waiting: string) => {
    if (!held.has(claim)) {
      setCurrentDetails(waiting);
      await condition(() => held.has(claim));
    }
    return held.get(claim)!;
  };
  const settle = async (claim: string, outcome: { failed?: string; training?: TrainingOutcome } = {}) => {
    held.delete(claim);
    await coordinator.signal(settleClaimSignal, { backfillId, claim, ...outcome });
  };
  // One source folder per datamart at a time: two backfills of different folders would overwrite each other's months
  // and each report a model trained on a mix. The coordinator admits one folder at a time; the later backfill gives
  // way before it writes anything. A continued run joins again and gets the claims its earlier run held. Not
  // cancellable: a join cancelled mid-way could still land after this run's leave; once joined, a cancellation waiting
  // meanwhile ends the run at its next step, and the run leaves.
  const joined = await CancellationScope.nonCancellable(() => joinBackfills({ sourceDir, months: months.filter((month) => !settled(month)) }));
  if (!joined.admitted) {
    const { holder } = joined;
    throw ApplicationFailure.nonRetryable(
      `another backfill, ${holder.backfillId} (source ${holder.sourceDir}), is running on this datamart with another ` +
        `source folder than ${sourceDir}; one source folder at a time: wait for it to finish (npm run status), then run this one again`,
      WorkflowFailure.SourceFolderBusy,
    );
  }
  for (const handed of joined.handed) held.set(handed.claim, handed);
  let continued = false;
  try {
    const historyIsLarge = () =>
      workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > input.maxHistoryEvents;

    const runMonth = async (month: Month, currentAtStart: boolean, modelId: string | null, planIsFresh: boolean) => {
      const claim = claimOf.month(month);
      const { previous } = await awaitClaim(claim, `month ${month} runs under another backfill: awaiting it`);
      running++;
      let failed: string | undefined;
      try {
        if (previous?.failed) {
          throw ApplicationFailure.create({ type: WorkflowFailure.MonthFailedElsewhere, message: `in ${previous.backfillId}: ${previous.failed}` });
        }
        const outcome = await ensureMonth({ month, sourceDir, force: forced.has(month), currentAtStart, planIsFresh, afterAnother: previous !== undefined, modelId });
        (outcome === 'skipped' ? state.skipped : state.done).push(month);
      } catch (error) {
        // Cancelled: the claim passes on unsettled when this run leaves, never as a failed month.
        if (isCancellation(error)) throw error;
        failed = describeFailure(error);
        state.failed.push({ month, error: failed });
      } finally {
        running--;
      }
      await settle(claim, failed ? { failed } : {});
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
        // The training reads every month up to asOf in the datamart, this run's or not: the coordinator hands its claim
        // over once no other backfill owes one of them (a wider range, perhaps still planning), and only to one
        // backfill at a time; a backfill handed it after another's training reports that training.
        const claim = claimOf.training(asOf);
        await coordinator.signal(requestClaimSignal, { backfillId, claim });
        setStep(`training as of ${asOf}: waiting until no other backfill owes a month up to ${asOf} or trains as of it`);
        const { previous } = await awaitClaim(claim, step);
        let failed: string | undefined;
        if (previous?.training) {
          state.training = previous.training;
        } else if (previous?.failed) {
          failed = `${WorkflowFailure.TrainingFailedElsewhere} in ${previous.backfillId}: ${previous.failed}`;
        } else {
          // No model from incomplete data: a source month emptied or cut (gold marked incomplete in its lineage) blocks
          // the training unless the operator accepted that gap.
          const incomplete = patched('training-blocked-by-incomplete-sources') ? await incompleteUpTo(asOf) : [];
          if (incomplete.length > 0) {
            state.trainingBlocked = trainingBlockedByIncomplete(asOf, incomplete);
          } else {
            try {
              state.training = await trainOnce(asOf, setStep);
            } catch (error) {
              if (isCancellation(error)) throw error;
              failed = describeFailure(error);
            }
          }
        }
        if (failed) state.failed.push({ month: asOf, error: `${TRAINING_FAILURE}${failed}` });
        await settle(claim, state.training ? { training: state.training } : failed ? { failed } : {});
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
  } catch (error) {
    continued = error instanceof ContinueAsNew;
    throw error;
  } finally {
    // A continued run stays joined (its next run joins again); any other end leaves, cancelled or not, and what it
    // still held passes to the backfills waiting for it.
    if (!continued) {
      await CancellationScope.nonCancellable(() =>
        // A coordinator terminated by hand has nobody left to tell; this run's own outcome stands.
        coordinator.signal(leaveSignal, { backfillId }).catch((error: unknown) => log.warn('could not leave the backfill coordinator', { error: describeFailure(error) })),
      );
    }
  }
}

/** The months after the chosen ones whose feature store reads their clickstream and that have gold partitions now. */
async function laterMonthsWithGold(chosen: Month[]): Promise<Month[]> {
  const last = [...chosen].sort(compareMonths).at(-1)!;
  const inventory = await quickReads.inventoryMonths({ from: addMonths(last, 1), to: addMonths(last, CLICKSTREAM_LOOKBACK), requirement: 'gold' });
  return inventory.present;
}

/**
 * Makes one month current: skipped when its partitions already are (unless forced), else its month-<M> child runs,
 * scoring with `modelId` (null: none). After another backfill held the month (`afterAnother`), it is checked again
 * first (the other may have read other sources, or left it undone), so each month's pipeline runs once however many
 * backfills want it.
 */
async function ensureMonth(options: {
  month: Month;
  sourceDir: string;
  force: boolean;
  currentAtStart: boolean;
  /** The plan was made right before this start: no check again. */
  planIsFresh: boolean;
  afterAnother: boolean;
  modelId: string | null;
}): Promise<'done' | 'skipped'> {
  const { month, sourceDir, force, currentAtStart, planIsFresh, afterAnother, modelId } = options;
  if (!afterAnother && !force && currentAtStart) return 'skipped';
  if (afterAnother || (!force && !planIsFresh)) {
    const [plan] = await recheckMonths({ sourceDir, months: [month] });
    if (plan.current) return afterAnother ? 'done' : 'skipped';
  }
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
}

/** Prefix of a failed training's entry among the failed months. */
const TRAINING_FAILURE = 'training: ';

/** The training as of `asOf` as the child `training-<asOf>-1` (this backfill holds its claim). */
async function trainOnce(asOf: Month, setStep: (text: string, child?: string) => void): Promise<TrainingOutcome> {
  const workflowId = workflowIds.training(asOf, 1);
  setStep(`training as of ${asOf}`, workflowId);
  const trained = await executeChild(trainingWorkflow, {
    workflowId,
    args: [{ asOf, reason: `backfill training as of ${asOf}` }],
    staticSummary: `training as of ${asOf}`,
    typedSearchAttributes: [
      { key: searchAttributes.pipelinePhase, value: 'train' },
      { key: searchAttributes.snapshotMonth, value: asOf },
    ],
  });
  return { modelId: trained.modelId, promoted: trained.promoted, reused: trained.reused, reason: trained.reason, workflowId };
}
