import { ApplicationFailure } from '@temporalio/common';
// Fast workflow tests: the real workflow bundle on the real dev server, with plain functions registered as the
// activities (as Temporal's samples test workflows), so a branch is tested in milliseconds instead of a real ETL.
import { workerTracingOptions } from '../../workers/telemetry.js';
import { randomUUID } from 'node:crypto';
import { after } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { Activities } from '../../activities/index.js';
import type { Registry, RegistryEvent } from '../../lib/contracts.js';
import type { CandidateSummary, TrainingSetSummary } from '../../lib/model-summaries.js';
import type { IncompleteSlice } from '../../lib/completeness.js';
import { previousProduction } from '../../core/models/registry.js';
import { NO_EVIDENCE } from '../../core/scoring/promotion-gate.js';
import { challengersOf } from '../../lib/model-registry.js';
import { startTemporal, workflowBundle } from '../helpers/temporal.js';
import { createCoordinationActivities } from '../../activities/coordination.js';
import { loadConfig } from '../../lib/config.js';

export type MockActivities = Partial<Activities>;

let shared: Promise<TestWorkflowEnvironment> | undefined;
/** One dev server per test process, shared by every workflow test file it loads; torn down after the last test. */
export function sharedTemporal(): Promise<TestWorkflowEnvironment> {
  if (!shared) {
    const starting = startTemporal();
    shared = starting;
    after(async () => {
      await (await starting).teardown();
    });
  }
  return shared;
}

/** Runs `body` while a worker with `activities` polls a fresh task queue (passed to `body`); shuts it down after. */
export async function withMockedActivities<T>(
  env: TestWorkflowEnvironment,
  activities: MockActivities,
  body: (taskQueue: string) => Promise<T>,
): Promise<T> {
  const taskQueue = `mocked-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities,
    // The bundle holds the tracing interceptors; their sink is registered, discarding.
    ...workerTracingOptions(null),
  });
  return worker.runUntil(body(taskQueue));
}

/**
 * The real activities a backfill joins its coordinator with (update-with-start through `env`'s client) and the
 * coordinator checks the backfills with: a mocked backfill still coordinates through the real coordinator workflow.
 */
export function coordinationActivities(env: TestWorkflowEnvironment) {
  const { joinBackfills, backfillsStillRunning } = createCoordinationActivities(loadConfig({}), env.client);
  return { joinBackfills, backfillsStillRunning } satisfies MockActivities;
}

/** Every activity call with its input, in order. */
export class CallLog {
  readonly calls: Array<{ name: string; input: unknown }> = [];
  record(name: string, input?: unknown): void {
    this.calls.push({ name, input });
  }
  count(name: string): number {
    return this.calls.filter((call) => call.name === name).length;
  }
  inputs(name: string): unknown[] {
    return this.calls.filter((call) => call.name === name).map((call) => call.input);
  }
}

const event = (model_id: string, stage: RegistryEvent['stage'], reason: string): RegistryEvent => ({
  model_id,
  stage,
  at: '2025-01-01T00:00:00.000Z',
  reason,
});

/** An in-memory model bank: the registry changes as the real one does (promote archives, rollback rejects). */
export function inMemoryModelBank(models: Array<{ modelId: string; asOf: string }>, log: CallLog) {
  let registry: Registry = { production: null, history: [] };
  const activities = {
    readRegistry: async () => {
      log.record('readRegistry');
      return registry;
    },
    readModelRoles: async () => {
      log.record('readModelRoles');
      return { production: registry.production, challengers: challengersOf(registry, 2) };
    },
    listModels: async () => {
      log.record('listModels');
      return models.map(({ modelId, asOf }) => ({ modelId, asOf, family: 'gbtree', ootAuc: 0.8 }));
    },
    promoteModel: async (input: { modelId: string; reason: string; operator?: { by: string; force?: boolean } }) => {
      log.record('promoteModel', input);
      // As the real activity: an operator's promotion of a model once rolled back goes through the gate (here: refused).
      const rolledBack = registry.history.some((e) => e.model_id === input.modelId && e.stage === 'rejected');
      if (input.operator && rolledBack && !input.operator.force) {
        throw ApplicationFailure.nonRetryable(`refused: ${input.modelId} was rolled back before and does not pass the gate now`, 'PromotionRefused');
      }
      if (registry.production === input.modelId) return registry;
      const history = [...registry.history];
      if (registry.production) history.push(event(registry.production, 'archived', `replaced by ${input.modelId}`));
      registry = { production: input.modelId, history: [...history, event(input.modelId, 'production', input.reason)] };
      return registry;
    },
    rollbackModel: async (input: { reason: string }) => {
      log.record('rollbackModel', input);
      const target = previousProduction(registry);
      if (!registry.production || !target) throw new Error('no earlier production model');
      registry = {
        production: target,
        history: [...registry.history, event(registry.production, 'rejected', input.reason), event(target, 'production', input.reason)],
      };
      return registry;
    },
    recordCandidate: async (input: { modelId: string; reason: string }) => {
      log.record('recordCandidate', input);
      registry = { ...registry, history: [...registry.history, event(input.modelId, 'candidate', input.reason)] };
      return registry;
    },
  } satisfies MockActivities;
  return { activities, registry: () => registry, models };
}

/** The training_data_sha256 of every mocked training set and candidate. */
export const TRAINING_DATA_SHA256 = 'a'.repeat(64);

export function trainingSetSummary(asOf: string): TrainingSetSummary {
  const window = { from: '2023-01', to: '2023-06' };
  return {
    path: `/nowhere/training-set-${asOf}`,
    asOf,
    trainingDataSha256: TRAINING_DATA_SHA256,
    featureSchemaSha256: TRAINING_DATA_SHA256,
    windows: { train: window, test: window, oot: window },
    rows: { train: 100, test: 20, oot: 20 },
    defaultRate: 0.2,
  };
}

/** A candidate chosen by `testAuc` (selection runs on the test months) whose OOT AUC, judged by the gate, is `ootAuc`. */
export function candidateSummary(family: CandidateSummary['family'], testAuc: number, ootAuc = testAuc): CandidateSummary {
  return {
    family,
    params: {},
    candidateDir: `/nowhere/${family}`,
    trainingDataSha256: TRAINING_DATA_SHA256,
    metrics: { train_auc: 0.9, test_auc: testAuc, oot_auc: ootAuc, oot_gini: 2 * ootAuc - 1, oot_ks: 0.4 },
    threshold: 0.3,
    trainingSeconds: 1,
    rounds: 10,
  };
}

type AucsByFamily = Partial<Record<CandidateSummary['family'], number>>;

/**
 * Training activities whose candidates reach `testAucs` (and `ootAucs`, the test AUC unless given) by family, whose
 * promotion gate answers `promote`, and whose model bank holds `sameData` as the models already trained on the
 * training set's data (none unless given).
 */
export function trainingActivities(
  log: CallLog,
  options: {
    promote: boolean;
    testAucs?: AucsByFamily;
    ootAucs?: AucsByFamily;
    sameData?: string[];
    /** The production model's training data is no longer current (production_stale). */
    productionStale?: boolean;
    /** Incomplete source slices the gold up to the training month was built from. */
    incomplete?: IncompleteSlice[];
    /** The production model the gate compares with (reports). */
    productionModelId?: string;
  },
) {
  const testAucs = { gbtree: 0.8, gblinear: 0.75, rf: 0.78, ...options.testAucs };
  return {
    buildTrainingSet: async (input: { asOf: string }) => {
      log.record('buildTrainingSet', input);
      return trainingSetSummary(input.asOf);
    },
    trainCandidate: async (input: { family: CandidateSummary['family'] }) => {
      log.record('trainCandidate', input.family);
      return candidateSummary(input.family, testAucs[input.family], options.ootAucs?.[input.family]);
    },
    incompleteGoldInputs: async (input: { upTo: string }) => {
      log.record('incompleteGoldInputs', input);
      return options.incomplete ?? [];
    },
    productionStaleness: async () => {
      log.record('productionStaleness');
      const stale = options.productionStale ?? false;
      return {
        production: null,
        stale,
        changed: stale ? ['gold/feature_store/2024-01'] : [],
        reason: stale ? 'production was trained on data no longer current: gold/feature_store/2024-01 changed since' : 'trained on the current data',
      };
    },
    findModelsByTrainingData: async (input: { trainingDataSha256: string }) => {
      log.record('findModelsByTrainingData', input);
      return options.sameData ?? [];
    },
    registerModel: async (input: { trainingSet: TrainingSetSummary; candidate: CandidateSummary }) => {
      const { candidate, trainingSet } = input;
      log.record('registerModel', candidate.family);
      return { modelId: `${candidate.family}-${trainingSet.asOf}-abc`, created: true, metrics: candidate.metrics, family: candidate.family };
    },
    evaluatePromotionGate: async (input: { modelId: string; minAuc?: number }) => {
      log.record('evaluatePromotionGate', input);
      return {
        promote: options.promote,
        action: options.promote ? ('promote' as const) : ('reject' as const),
        reason: options.promote ? 'better than production' : 'worse than production',
        candidateOotAuc: 0.8,
        productionOotAuc: 0.79,
        productionModelId: options.productionModelId ?? null,
        evidence: { ...NO_EVIDENCE, months_compared: '2024-05..2024-06', n_rows: 500, candidate_auc: 0.8, production_auc: 0.79, auc_diff: 0.01, auc_diff_low: -0.005, auc_diff_high: 0.025, p_value: 0.2 },
      };
    },
    notifyRegistryChanged: async () => {
      log.record('notifyRegistryChanged');
      return { notified: false };
    },
    sendPipelineAlert: async (input: { kind: string; workflowId: string; summary: string; action: string }) => {
      log.record('sendPipelineAlert', input);
      return { posted: false };
    },
  } satisfies MockActivities;
}
