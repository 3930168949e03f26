import { isCancellation, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { MODEL_FAMILIES } from '../lib/contracts.js';
import { searchAttributes } from '../lib/temporal.js';
import { parseInput, trainingInputSchema, type TrainingInput } from '../lib/workflow-inputs.js';
import { selectBest } from '../core/models/selection.js';
import { lifecycle, modelBank, sendPipelineAlert, training } from './activity-proxies.js';
import { describeFailure } from './failure-text.js';

export interface TrainingResult {
  asOf: string;
  modelId: string;
  family: string;
  created: boolean;
  promoted: boolean;
  reason: string;
  metrics: Record<string, number>;
  candidates: Array<{ family: string; ootAuc: number }>;
}

/** Builds the training set as of a month, trains every family in parallel, registers the best, and promotes it
 * only through the gate (OOT AUC ≥ the minimum and not worse than production on the same OOT months). A model
 * already trained on exactly this training set (same training_data_sha256) is reused, not trained again; a failed
 * training posts an alert. */
export async function trainingWorkflow(input: TrainingInput): Promise<TrainingResult> {
  const parsed = parseInput(trainingInputSchema, input, 'trainingWorkflow');
  upsertSearchAttributes([
    { key: searchAttributes.pipelinePhase, value: 'train' },
    { key: searchAttributes.snapshotMonth, value: parsed.asOf },
  ]);
  try {
    return await train(parsed);
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

async function train({ asOf, reason, promotionMinAuc, forced }: ReturnType<typeof trainingInputSchema.parse>): Promise<TrainingResult> {
  const trainingSet = await training.buildTrainingSet({ asOf });
  const sameData = forced ? [] : await modelBank.findModelsByTrainingData({ trainingDataSha256: trainingSet.trainingDataSha256 });
  if (sameData.length > 0) {
    const registry = await modelBank.readRegistry();
    const modelId = sameData.find((id) => id === registry.production) ?? sameData[0];
    return {
      asOf,
      modelId,
      family: modelId.split('-')[0],
      created: false,
      promoted: registry.production === modelId,
      reason: `model ${modelId} was trained on the same data (training_data_sha256 ${trainingSet.trainingDataSha256.slice(0, 12)}…): reused`,
      metrics: {},
      candidates: [],
    };
  }
  const candidates = await Promise.all(
    MODEL_FAMILIES.map((family) => training.trainCandidate({ trainingSet, family })),
  );
  const best = selectBest(candidates);
  const { workflowId, runId } = workflowInfo();
  const registered = await training.registerModel({ trainingSet, candidate: best, workflow: { workflowId, runId } });
  upsertSearchAttributes([{ key: searchAttributes.modelId, value: registered.modelId }]);

  const gate = await modelBank.evaluatePromotionGate({ modelId: registered.modelId, minAuc: promotionMinAuc });
  if (gate.promote) {
    await modelBank.promoteModel({ modelId: registered.modelId, reason: `${reason}: ${gate.reason}` });
  } else {
    await modelBank.recordCandidate({ modelId: registered.modelId, reason: gate.reason });
  }
  await lifecycle.notifyRegistryChanged();

  return {
    asOf,
    modelId: registered.modelId,
    family: best.family,
    created: registered.created,
    promoted: gate.promote,
    reason: gate.reason,
    metrics: { ...best.metrics },
    candidates: candidates.map((candidate) => ({ family: candidate.family, ootAuc: candidate.metrics.oot_auc })),
  };
}
