// Every workflow the credit-pipeline worker hosts (SPEC §5).
export { backfillWorkflow, progressQuery } from './backfill.js';
export { monthPipelineWorkflow } from './month-pipeline.js';
export { trainingWorkflow } from './training.js';
export { historicalInferenceWorkflow } from './historical-inference.js';
export { scoreMonthWorkflow } from './score-month.js';
export { monitoringWorkflow } from './monitoring.js';
export { retrainPolicyWorkflow } from './retrain-policy.js';
export {
  modelLifecycleWorkflow,
  statusQuery,
  forceRetrainSignal,
  registryChangedSignal,
  promoteModelUpdate,
  rollbackModelUpdate,
} from './model-lifecycle.js';
export { backfillCoordinatorWorkflow, joinedBackfillsQuery } from './backfill-coordinator.js';
