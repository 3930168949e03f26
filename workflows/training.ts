import { ApplicationFailure, defineQuery, isCancellation, patched, setCurrentDetails, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { trainingBlockedByIncomplete } from '../lib/completeness.js';
import { IncompleteSourceData } from '../lib/errors.js';
import { describeModel, MODEL_FAMILIES } from '../lib/model-id.js';
import { searchAttributes, type Progress } from '../lib/temporal.js';
import { parseInput, trainingInputSchema, type TrainingInput } from '../lib/workflow-inputs.js';
import { selectBest } from '../lib/model-selection.js';
import { lifecycle, modelBank, quickReads, sendPipelineAlert, training } from './activity-proxies.js';
import { describeFailure } from './failure-text.js';
import { settleAll } from './settle-all.js';

export const trainingProgressQuery = defineQuery<Progress>('progress');

export interface TrainingResult {
  asOf: string;
  modelId: string;
  family: string;
  created: boolean;
  forced: boolean;
  promoted: boolean;
  /** A model trained on the same data existed: this run trained nothing (it may have promoted it through the gate). */
  reused?: boolean;
  reason: string;
  /** The model in production after this run (absent in runs recorded before it was reported). */
  production?: string | null;
  metrics: Record<string, number>;
  candidates: Array<{ family: string; testAuc: number; ootAuc: number }>;
}

/** Builds the training set as of a month, trains every family in parallel, registers the one best on the test months,
 * and promotes it only through the gate (OOT AUC ≥ PROMOTION_MIN_AUC, read by the gate activity unless the input
 * overrides it, and non-inferior and better than production on months out of sample for both, by DeLong's test).
 * Nothing is trained from gold built on incomplete source data no operator accepted (IncompleteSourceData). A model
 * already trained on exactly this training set (same training_data_sha256) is not trained again; when production is
 * stale (trained on data since changed) or there is none, that model goes through the gate like a new one. A failed
 * training posts an alert. */
export async function trainingWorkflow(input: TrainingInput): Promise<TrainingResult> {
  const parsed = parseInput(trainingInputSchema, input, 'trainingWorkflow');
  upsertSearchAttributes([
    { key: searchAttributes.pipelinePhase, value: 'train' },
    { key: searchAttributes.snapshotMonth, value: parsed.asOf },
  ]);
  // Progress counts the candidates; the step says which stage of the training runs now.
  const progress = { trained: [] as string[], step: '' };
  setHandler(trainingProgressQuery, () => ({
    total: MODEL_FAMILIES.length,
    done: progress.trained.length,
    failed: 0,
    running: progress.step.startsWith('training') ? MODEL_FAMILIES.length - progress.trained.length : 0,
    step: progress.step,
  }));
  try {
    return await train(parsed, progress);
  } catch (error) {
    if (!isCancellation(error)) {
      await sendPipelineAlert({
        kind: 'training',
        workflowId: workflowInfo().workflowId,
        summary: `training as of ${parsed.asOf} failed: ${describeFailure(error)}`,
        action: 'production keeps its model; fix the cause named here, then retrain (npm run retrain)',
      });
    }
    throw error;
  }
}

async function train(
  { asOf, reason, promotionMinAuc, forced }: ReturnType<typeof trainingInputSchema.parse>,
  progress: { trained: string[]; step: string },
): Promise<TrainingResult> {
  const { trained } = progress;
  const setStep = (text: string) => {
    progress.step = text;
    setCurrentDetails(text);
  };
  const candidatesStep = () =>
    `training ${MODEL_FAMILIES.length} candidates as of ${asOf} (${MODEL_FAMILIES.map((f) => `${f} ${trained.includes(f) ? 'done' : 'running'}`).join(', ')})`;

  setStep(`building the training set as of ${asOf}`);
  if (patched('training-refuses-incomplete-data')) {
    const incomplete = await quickReads.incompleteGoldInputs({ upTo: asOf });
    if (incomplete.length > 0) throw ApplicationFailure.nonRetryable(trainingBlockedByIncomplete(asOf, incomplete), IncompleteSourceData.type);
  }
  const trainingSet = await training.buildTrainingSet({ asOf });
  const sameData = forced ? [] : await quickReads.findModelsByTrainingData({ trainingDataSha256: trainingSet.trainingDataSha256 });
  if (sameData.length > 0) {
    const registry = await quickReads.readRegistry();
    const modelId = sameData.find((id) => id === registry.production) ?? sameData[0];
    const sameDataReason = `${modelId} was trained on the same data (training_data_sha256 ${trainingSet.trainingDataSha256.slice(0, 12)}…)`;
    // Nothing was trained by this run: the existing model, whether the gate promoted it, and why.
    const reused = (promoted: boolean, why: string, production: string | null): TrainingResult => ({
      asOf,
      modelId,
      family: modelId.split('-')[0],
      created: false,
      forced,
      promoted,
      reused: true,
      reason: `not retrained: ${sameDataReason}${why}`,
      production,
      metrics: {},
      candidates: [],
    });
    // Production follows the data: a model of the current data goes through the gate when production is stale or
    // absent, even though it exists already (a model an operator rolled back is left to the operator).
    if (registry.production !== modelId && patched('existing-model-goes-through-gate')) {
      const staleness = await quickReads.productionStaleness();
      const rolledBack = registry.history.some((event) => event.model_id === modelId && event.stage === 'rejected');
      if ((registry.production === null || staleness.stale) && !rolledBack) {
        const why = registry.production === null ? 'no production model' : staleness.reason;
        const gated = await passGate(modelId, modelId, promotionMinAuc, `${reason}: not retrained, ${sameDataReason}; ${why}`, forced, setStep);
        if (!gated.promoted) await alertProductionStays(asOf, modelId, why, gated.reason);
        return reused(gated.promoted, `; ${why}; gate: ${gated.reason}`, gated.production);
      }
    }
    const stage = registry.production === modelId ? 'the production model' : 'not in production';
    setStep(`reused ${modelId}: trained on the same data`);
    return reused(false, ` and is ${stage}`, registry.production);
  }
  setStep(candidatesStep());
  const candidates = await settleAll(
    MODEL_FAMILIES.map(async (family) => {
      const candidate = await training.trainCandidate({ trainingSet, family });
      trained.push(family);
      setStep(candidatesStep());
      return candidate;
    }),
  );
  const best = selectBest(candidates);
  setStep(`registering the best candidate (${best.family}, test AUC ${best.metrics.test_auc.toFixed(3)})`);
  const { workflowId, runId } = workflowInfo();
  const registered = await training.registerModel({ trainingSet, candidate: best, workflow: { workflowId, runId } });
  upsertSearchAttributes([{ key: searchAttributes.modelId, value: registered.modelId }]);

  // The model named for a person (Web UI's current details): its id with its as-of and windows.
  const named = describeModel({ model_id: registered.modelId, as_of: asOf, windows: trainingSet.windows });
  const gate = await passGate(registered.modelId, named, promotionMinAuc, reason, forced, setStep);
  if (!gate.promoted && patched('alert-when-stale-production-stays')) {
    const staleness = await quickReads.productionStaleness();
    if (staleness.stale) await alertProductionStays(asOf, registered.modelId, staleness.reason, gate.reason);
  }

  return {
    asOf,
    modelId: registered.modelId,
    family: best.family,
    created: registered.created,
    forced,
    promoted: gate.promoted,
    reason: gate.reason,
    production: gate.production,
    metrics: { ...best.metrics },
    candidates: candidates.map((candidate) => ({ family: candidate.family, testAuc: candidate.metrics.test_auc, ootAuc: candidate.metrics.oot_auc })),
  };
}

/** The promotion gate for a registered model, then the registry change it decides: promoted or kept as candidate. */
async function passGate(
  modelId: string,
  named: string,
  promotionMinAuc: number | undefined,
  reason: string,
  forced: boolean,
  setStep: (text: string) => void,
): Promise<{ promoted: boolean; reason: string; production: string | null }> {
  setStep(`promotion gate for ${named}`);
  const gate = await modelBank.evaluatePromotionGate({ modelId, minAuc: promotionMinAuc });
  // A forced training still goes through the gate; the registry says it was forced (the cooldown did not apply).
  const why = forced ? `${reason} [forced: cooldown bypassed]` : reason;
  // The decision and its paired evidence go to promotions.parquet with the registry change (older gates gave none).
  const decision = {
    decidedAt: new Date().toISOString(),
    decidedBy: 'gate',
    action: gate.action ?? (gate.promote ? 'promote' : 'reject'),
    productionModelId: gate.productionModelId,
    ...(gate.evidence ? { evidence: gate.evidence } : {}),
  } as const;
  if (gate.promote) {
    await modelBank.promoteModel({ modelId, reason: `${why}: ${gate.reason}`, decision });
  } else {
    await modelBank.recordCandidate({ modelId, reason: forced ? `${why}: ${gate.reason}` : gate.reason, decision });
  }
  await lifecycle.notifyRegistryChanged();
  setStep(`${named} ${gate.promote ? 'promoted' : 'kept as candidate'}: ${gate.reason}`);
  return { promoted: gate.promote, reason: gate.reason, production: gate.promote ? modelId : gate.productionModelId };
}

/** A model of the current data did not pass the gate while production is stale or absent: someone should look. */
async function alertProductionStays(asOf: string, modelId: string, why: string, gateReason: string): Promise<void> {
  await sendPipelineAlert({
    kind: 'training',
    workflowId: workflowInfo().workflowId,
    summary: `training as of ${asOf}: ${modelId}, trained on the current data, did not pass the promotion gate (${gateReason}); ${why}`,
    action: 'production stays on a model of data no longer current: look at the gate reason, then retrain or promote (npm run promote) by hand',
  });
}
