import { defineQuery, setCurrentDetails, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { MODEL_FAMILIES } from '../lib/contracts.js';
import { searchAttributes, type Progress } from '../lib/temporal.js';
import { parseInput, trainingInputSchema, type TrainingInput } from '../lib/workflow-inputs.js';
import { selectBest } from '../core/models/selection.js';
import { lifecycle, modelBank, training } from './activity-proxies.js';

export const trainingProgressQuery = defineQuery<Progress>('progress');

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
 * only through the gate (OOT AUC ≥ the minimum and not worse than production on the same OOT months). */
export async function trainingWorkflow(input: TrainingInput): Promise<TrainingResult> {
  const { asOf, reason, promotionMinAuc } = parseInput(trainingInputSchema, input, 'trainingWorkflow');
  upsertSearchAttributes([
    { key: searchAttributes.pipelinePhase, value: 'train' },
    { key: searchAttributes.snapshotMonth, value: asOf },
  ]);
  // Progress counts the candidates; the step says which stage of the training runs now.
  const trained: string[] = [];
  let step = '';
  const setStep = (text: string) => {
    step = text;
    setCurrentDetails(text);
  };
  setHandler(trainingProgressQuery, () => ({
    total: MODEL_FAMILIES.length,
    done: trained.length,
    failed: 0,
    running: step.startsWith('training') ? MODEL_FAMILIES.length - trained.length : 0,
    step,
  }));
  const candidatesStep = () =>
    `training ${MODEL_FAMILIES.length} candidates as of ${asOf} (${MODEL_FAMILIES.map((f) => `${f} ${trained.includes(f) ? 'done' : 'running'}`).join(', ')})`;

  setStep(`building the training set as of ${asOf}`);
  const trainingSet = await training.buildTrainingSet({ asOf });
  setStep(candidatesStep());
  const candidates = await Promise.all(
    MODEL_FAMILIES.map(async (family) => {
      const candidate = await training.trainCandidate({ trainingSet, family });
      trained.push(family);
      setStep(candidatesStep());
      return candidate;
    }),
  );
  const best = selectBest(candidates);
  setStep(`registering the best candidate (${best.family}, OOT AUC ${best.metrics.oot_auc.toFixed(3)})`);
  const { workflowId, runId } = workflowInfo();
  const registered = await training.registerModel({ trainingSet, candidate: best, workflow: { workflowId, runId } });
  upsertSearchAttributes([{ key: searchAttributes.modelId, value: registered.modelId }]);

  setStep(`promotion gate for ${registered.modelId}`);
  const gate = await modelBank.evaluatePromotionGate({ modelId: registered.modelId, minAuc: promotionMinAuc });
  if (gate.promote) {
    await modelBank.promoteModel({ modelId: registered.modelId, reason: `${reason}: ${gate.reason}` });
  } else {
    await modelBank.recordCandidate({ modelId: registered.modelId, reason: gate.reason });
  }
  await lifecycle.notifyRegistryChanged();
  setStep(`${registered.modelId} ${gate.promote ? 'promoted' : 'kept as candidate'}: ${gate.reason}`);

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
