import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  executeChild,
  log,
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Registry, RegistryEvent } from '../lib/contracts.js';
import { addMonths, monthOf } from '../lib/months.js';
import { previousProduction } from '../lib/model-registry.js';
import { searchAttributes, workflowIds } from '../lib/temporal.js';
import {
  forceRetrainSchema,
  parseInput,
  promoteRequestSchema,
  type ForceRetrainRequest,
  type PromoteRequest,
  type RollbackRequest,
  rollbackRequestSchema,
} from '../lib/workflow-inputs.js';
import { datamart, modelBank, monitoring } from './activity-proxies.js';
import { describeFailure } from './failure-text.js';
import { historyIsLarge } from './history-size.js';
import { trainingWorkflow } from './training.js';
import { PromotionRefused, WorkflowFailure } from '../lib/errors.js';

export interface TrainingRecord {
  workflowId: string;
  asOf: string | null;
  reason: string;
  modelId: string | null;
  promoted: boolean;
  outcome: string;
}

export interface LifecycleState {
  production: string | null;
  knownModels: string[];
  history: RegistryEvent[];
  trainings: TrainingRecord[];
  pendingRetrains: ForceRetrainRequest[];
}

export interface LifecycleStatus extends LifecycleState {
  /** The model a rollback would return to (the same rule as the rollback itself: never one rolled back before). */
  previousProduction: string | null;
  training: boolean;
  /** Workflow id of the training child running now (its `progress` query says how far it is). */
  currentTraining: string | null;
}

export const statusQuery = defineQuery<LifecycleStatus>('status');
export const forceRetrainSignal = defineSignal<[ForceRetrainRequest]>('forceRetrain');
export const registryChangedSignal = defineSignal('registryChanged');
export const promoteModelUpdate = defineUpdate<LifecycleStatus, [PromoteRequest]>('promoteModel');
export const rollbackModelUpdate = defineUpdate<LifecycleStatus, [RollbackRequest]>('rollbackModel');

const KEPT_EVENTS = 50;
const HISTORY_EVENT_LIMIT = 2000;

/**
 * The single long-lived owner of the production model: answers `status`, retrains on `forceRetrain` (an operator's
 * request bypasses the cooldown and is logged as `retrain_forced`; monitoring's has passed it already), and promotes or rolls back through validated Updates. registry.json on disk is the
 * durable record it mirrors; it continues as new to keep its history small.
 */
export async function modelLifecycleWorkflow(
  input: { state?: LifecycleState; /** Continue as new past this many events (tests lower it). */ maxHistoryEvents?: number } = {},
): Promise<void> {
  const maxHistoryEvents = input.maxHistoryEvents ?? HISTORY_EVENT_LIMIT;
  const state: LifecycleState = input.state ?? {
    production: null,
    knownModels: [],
    history: [],
    trainings: [],
    pendingRetrains: [],
  };
  let registryStale = true;
  let training = false;
  let currentTraining: string | null = null;

  const apply = (registry: Registry, models?: string[]) => {
    state.production = registry.production;
    state.history = registry.history.slice(-KEPT_EVENTS);
    if (models) state.knownModels = models;
  };
  const refresh = async () => {
    const [registry, models] = await Promise.all([modelBank.readRegistry(), modelBank.listModels()]);
    apply(registry, models.map((model) => model.modelId));
  };
  const status = (): LifecycleStatus => ({ ...state, previousProduction: previousProduction(state), training, currentTraining });
  /** Who and when, for promotions.parquet: the workflow's clock, so that a retried activity logs the decision once. */
  const operatorDecision = (by: string | undefined) => ({ decidedAt: new Date().toISOString(), decidedBy: by ?? 'operator' });
  const requireReason = (reason: string | undefined, update: string) => {
    if (!reason?.trim()) {
      throw ApplicationFailure.nonRetryable(`${update}: a reason is required (who reads the log later must know why)`, WorkflowFailure.InvalidWorkflowInput);
    }
  };

  setHandler(statusQuery, status);
  setHandler(registryChangedSignal, () => {
    registryStale = true;
  });
  setHandler(forceRetrainSignal, (request) => {
    const parsed = forceRetrainSchema.safeParse(request);
    if (!parsed.success) {
      log.warn('forceRetrain ignored: invalid request', { request, problems: parsed.error.message });
      return;
    }
    state.pendingRetrains.push(parsed.data);
  });
  setHandler(
    promoteModelUpdate,
    async (request) => {
      const { modelId, reason, by, force } = promoteRequestSchema.parse(request);
      if (reason === undefined) {
        // A promotion accepted before reasons were required (replayed from an older history).
        apply(await modelBank.promoteModel({ modelId, reason: 'promoted by operator (promoteModel update)' }));
        return status();
      }
      try {
        apply(await modelBank.promoteModel({ modelId, reason, decision: operatorDecision(by), operator: { by: by ?? 'operator', force: force ?? false } }));
      } catch (error) {
        // The gate refused a model once rolled back or rejected: the operator sees the gate's reason, not an activity failure.
        if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure && error.cause.type === PromotionRefused.type) {
          throw ApplicationFailure.nonRetryable(error.cause.message, PromotionRefused.type);
        }
        throw error;
      }
      return status();
    },
    {
      // A rejection is final (nonRetryable): asking again with the same request cannot succeed.
      validator: (request) => {
        const { modelId, reason } = parseInput(promoteRequestSchema, request, 'promoteModel');
        if (!state.knownModels.includes(modelId)) {
          throw ApplicationFailure.nonRetryable(
            `unknown model id '${modelId}'; known models: ${state.knownModels.join(', ') || 'none'}`,
            WorkflowFailure.UnknownModel,
          );
        }
        requireReason(reason, 'promoteModel');
      },
    },
  );
  setHandler(
    rollbackModelUpdate,
    async (request) => {
      const { reason, by } = rollbackRequestSchema.parse(request ?? {});
      if (!reason?.trim()) {
        // A rollback accepted before reasons were required (replayed from an older history).
        apply(await modelBank.rollbackModel({ reason: 'rolled back by operator (rollbackModel update)' }));
      } else {
        const who = by ?? 'operator';
        apply(await modelBank.rollbackModel({ reason: `${reason} [operator ${who}]`, decision: operatorDecision(who) }));
      }
      return status();
    },
    {
      validator: (request) => {
        const { reason } = parseInput(rollbackRequestSchema, request, 'rollbackModel');
        requireReason(reason, 'rollbackModel');
        if (status().previousProduction === null) {
          throw ApplicationFailure.nonRetryable(
            `no earlier production model to roll back to (production: ${state.production ?? 'none'})`,
            'NoPreviousModel',
          );
        }
      },
    },
  );

  for (;;) {
    await condition(() => registryStale || state.pendingRetrains.length > 0 || historyIsLarge(maxHistoryEvents));
    if (registryStale) {
      registryStale = false;
      await refresh();
    } else if (state.pendingRetrains.length > 0) {
      training = true;
      await retrain(state.pendingRetrains.shift()!);
      // Still "training" until the registry is re-read: a status that lists the new training must also show the
      // production model it promoted, never the one it replaced.
      await refresh();
      training = false;
    } else {
      await condition(allHandlersFinished);
      await continueAsNew<typeof modelLifecycleWorkflow>({ state, maxHistoryEvents: input.maxHistoryEvents });
    }
  }

  async function retrain(request: ForceRetrainRequest): Promise<void> {
    const now = monthOf(new Date().toISOString());
    const asOf = request.asOf ?? (await datamart.latestLabelledMonth({ from: addMonths(now, -120), to: now }));
    if (!asOf) {
      state.trainings.push({ workflowId: '', asOf: null, reason: request.reason, modelId: null, promoted: false, outcome: 'no month with mature labels' });
      return;
    }
    const forced = request.forced !== false;
    // patched: a model-lifecycle already running (it is long-lived) replays its earlier retrains without this step
    if (forced && patched('log-forced-retrain')) {
      // An operator's retrain skips the cooldown; the decision log says it did.
      await monitoring.recordForcedRetrain({ asOf, reason: request.reason, workflowId: workflowInfo().workflowId, now: new Date().toISOString() });
    }
    const sameMonth = (await modelBank.listModels()).filter((model) => model.asOf === asOf).length;
    const workflowId = workflowIds.training(asOf, sameMonth + 1 + state.trainings.filter((t) => t.asOf === asOf).length);
    currentTraining = workflowId;
    try {
      const result = await executeChild(trainingWorkflow, {
        workflowId,
        args: [{ asOf, reason: `${forced ? 'forced retrain' : 'retrain requested'}: ${request.reason}`, forced }],
        staticSummary: `${forced ? 'forced ' : ''}retraining as of ${asOf}: ${request.reason}`,
        typedSearchAttributes: [
          { key: searchAttributes.pipelinePhase, value: 'train' },
          { key: searchAttributes.snapshotMonth, value: asOf },
        ],
      });
      state.trainings.push({ workflowId, asOf, reason: request.reason, modelId: result.modelId, promoted: result.promoted, outcome: result.reason });
    } catch (error) {
      state.trainings.push({ workflowId, asOf, reason: request.reason, modelId: null, promoted: false, outcome: `failed: ${describeFailure(error)}` });
    } finally {
      currentTraining = null;
    }
    state.trainings = state.trainings.slice(-20);
  }
}
