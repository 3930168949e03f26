import { executeChild, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { monthOf } from '../lib/months.js';
import { searchAttributes, workflowIds } from '../lib/temporal.js';
import { parseInput, retrainPolicyInputSchema, type RetrainPolicyInput } from '../lib/workflow-inputs.js';
import { modelBank, monitoring } from './activity-proxies.js';
import { describeFailure } from './failure-text.js';
import { trainingWorkflow } from './training.js';

export interface RetrainPolicyResult {
  asOf: string;
  action: 'scheduled_retrain' | 'nothing_new';
  reason: string;
  productionModelId: string | null;
  newLabelledMonths: string[];
  training: { workflowId: string; modelId: string | null; promoted: boolean; outcome: string } | null;
}

/**
 * The monthly retrain policy (schedule `credit-monthly-retrain`): when at least RETRAIN_MIN_NEW_LABELLED_MONTHS
 * labelled application months follow the production model's window, train as of the latest label month through the
 * normal training workflow and its promotion gate; otherwise train nothing. Either way the decision and its reason go
 * to the decision log monitoring writes to.
 */
export async function retrainPolicyWorkflow(rawInput: RetrainPolicyInput = {}): Promise<RetrainPolicyResult> {
  const input = parseInput(retrainPolicyInputSchema, rawInput, 'retrainPolicyWorkflow');
  const asOf = input.asOf ?? monthOf(new Date().toISOString());
  upsertSearchAttributes([
    { key: searchAttributes.pipelinePhase, value: 'train' },
    { key: searchAttributes.snapshotMonth, value: asOf },
  ]);
  const { workflowId } = workflowInfo();
  const plan = await monitoring.planScheduledRetrain({ asOf });
  const record = (action: RetrainPolicyResult['action'], reason: string) =>
    monitoring.recordDecision({
      decided_at: new Date().toISOString(),
      as_of: asOf,
      model_id: plan.productionModelId ?? '',
      action,
      reason,
      findings_json: '[]',
      workflow_id: workflowId,
    });
  const result = (action: RetrainPolicyResult['action'], reason: string, training: RetrainPolicyResult['training']): RetrainPolicyResult => ({
    asOf,
    action,
    reason,
    productionModelId: plan.productionModelId,
    newLabelledMonths: plan.newLabelledMonths,
    training,
  });
  if (!plan.retrain || !plan.trainAt) {
    await record('nothing_new', plan.reason);
    return result('nothing_new', plan.reason, null);
  }

  const trainAt = plan.trainAt;
  const sameMonth = (await modelBank.listModels()).filter((model) => model.asOf === trainAt).length;
  const trainingId = workflowIds.training(trainAt, sameMonth + 1);
  let training: NonNullable<RetrainPolicyResult['training']>;
  try {
    const trained = await executeChild(trainingWorkflow, {
      workflowId: trainingId,
      args: [{ asOf: trainAt, reason: plan.reason }],
      staticSummary: `scheduled retraining as of ${trainAt}`,
      typedSearchAttributes: [
        { key: searchAttributes.pipelinePhase, value: 'train' },
        { key: searchAttributes.snapshotMonth, value: trainAt },
      ],
    });
    const verdict = trained.promoted ? 'promoted' : 'kept as candidate';
    training = { workflowId: trainingId, modelId: trained.modelId, promoted: trained.promoted, outcome: `${verdict}: ${trained.reason}` };
  } catch (error) {
    training = { workflowId: trainingId, modelId: null, promoted: false, outcome: `failed: ${describeFailure(error)}` };
  }
  const reason = `${plan.reason}; ${trainingId} trained ${training.modelId ?? 'nothing'}, ${training.outcome}`;
  await record('scheduled_retrain', reason);
  return result('scheduled_retrain', reason, training);
}
