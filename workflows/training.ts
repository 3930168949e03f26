import { upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { MODEL_FAMILIES } from '../lib/contracts.js';
import { searchAttributes } from '../lib/temporal.js';
import { parseInput, trainingInputSchema, type TrainingInput } from '../lib/workflow-inputs.js';
import { selectBest } from '../core/models/selection.js';
import { lifecycle, modelBank, training } from './activity-proxies.js';

export interface TrainingResult {
  asOf: string;
  modelId: string;
  family: string;
  created: boolean;
  forced: boolean;
  promoted: boolean;
  reason: string;
  metrics: Record<string, number>;
  candidates: Array<{ family: string; testAuc: number; ootAuc: number }>;
}

/** Builds the training set as of a month, trains every family in parallel, registers the one best on the test months,
 * and promotes it only through the gate (OOT AUC ≥ PROMOTION_MIN_AUC, read by the gate activity unless the input
 * overrides it, and not worse than production on the same OOT months). */
export async function trainingWorkflow(input: TrainingInput): Promise<TrainingResult> {
  const { asOf, reason, forced, promotionMinAuc } = parseInput(trainingInputSchema, input, 'trainingWorkflow');
  upsertSearchAttributes([
    { key: searchAttributes.pipelinePhase, value: 'train' },
    { key: searchAttributes.snapshotMonth, value: asOf },
  ]);

  const trainingSet = await training.buildTrainingSet({ asOf });
  const candidates = await Promise.all(
    MODEL_FAMILIES.map((family) => training.trainCandidate({ trainingSet, family })),
  );
  const best = selectBest(candidates);
  const { workflowId, runId } = workflowInfo();
  const registered = await training.registerModel({ trainingSet, candidate: best, workflow: { workflowId, runId } });
  upsertSearchAttributes([{ key: searchAttributes.modelId, value: registered.modelId }]);

  const gate = await modelBank.evaluatePromotionGate({ modelId: registered.modelId, minAuc: promotionMinAuc });
  // A forced training still goes through the gate; the registry says it was forced (the cooldown did not apply).
  const why = forced ? `${reason} [forced: cooldown bypassed]` : reason;
  if (gate.promote) {
    await modelBank.promoteModel({ modelId: registered.modelId, reason: `${why}: ${gate.reason}` });
  } else {
    await modelBank.recordCandidate({ modelId: registered.modelId, reason: forced ? `${why}: ${gate.reason}` : gate.reason });
  }
  await lifecycle.notifyRegistryChanged();

  return {
    asOf,
    modelId: registered.modelId,
    family: best.family,
    created: registered.created,
    forced,
    promoted: gate.promote,
    reason: gate.reason,
    metrics: { ...best.metrics },
    candidates: candidates.map((candidate) => ({ family: candidate.family, testAuc: candidate.metrics.test_auc, ootAuc: candidate.metrics.oot_auc })),
  };
}
