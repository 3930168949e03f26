// Shapes that cross module boundaries and are read back from disk: model metadata, the registry, monitoring rows,
// governance decisions. zod schemas, so that a file read back is validated before use.
import { monthSchema } from './months.js';
import { z } from 'zod';
import { baselineSchema, dataBaselineSchema } from './baseline.js';
import { modelFamilySchema } from './model-id.js';
export { MODEL_FAMILIES, modelFamilySchema, modelIdSchema, type ModelFamily } from './model-id.js';

const monthWindowSchema = z.object({ from: monthSchema, to: monthSchema });

/** Metrics at the model's threshold, per split: what the seeds report beside AUC. */
const THRESHOLD_METRICS = ['accuracy', 'precision', 'recall', 'f1'] as const;
const thresholdMetricShape = Object.fromEntries(
  (['train', 'test', 'oot'] as const).flatMap((split) => THRESHOLD_METRICS.map((metric) => [`${split}_${metric}`, z.number().min(0).max(1).optional()])),
) as Record<`${'train' | 'test' | 'oot'}_${(typeof THRESHOLD_METRICS)[number]}`, z.ZodOptional<z.ZodNumber>>;

export const modelMetricsSchema = z.object({
  train_auc: z.number(),
  test_auc: z.number(),
  oot_auc: z.number(),
  oot_gini: z.number(),
  oot_ks: z.number(),
  /** Optional only so that models registered before they existed still load. */
  ...thresholdMetricShape,
});
export type ModelMetrics = z.infer<typeof modelMetricsSchema>;

/** How well the model's probabilities match default rates on its OOT months (issue 30), as training measured it. */
export const ootCalibrationSchema = z.object({
  /** Per probability decile of the OOT loans: their count, mean probability and observed default rate. */
  reliability: z.array(z.object({ loans: z.number().int().positive(), mean_probability: z.number(), observed_rate: z.number() })),
  hl_statistic: z.number().nullable(),
  hl_p_value: z.number().nullable(),
  brier: z.number(),
  expected_default_rate: z.number(),
  observed_default_rate: z.number(),
});
export type OotCalibration = z.infer<typeof ootCalibrationSchema>;
/** The same, judged at registration against the calibration alpha in force. */
export const modelCalibrationSchema = ootCalibrationSchema.extend({
  /** hl_p_value at or above `alpha`: the probabilities can be read as default rates, and estimated performance trusted. */
  calibrated: z.boolean(),
  alpha: z.number(),
});
export type ModelCalibration = z.infer<typeof modelCalibrationSchema>;
/**
 * Mean |contribution| (log-odds) per raw feature on a model's train and OOT sets: the global importance matching its
 * local explanations (SPEC §4c), and the baseline of attribution drift.
 */
export const attributionBaselineSchema = z.object({
  /** Rows the means are taken over (a set's rows, or a sample of them evenly spaced). */
  rows: z.object({ train: z.number().int(), oot: z.number().int() }),
  train: z.record(z.string(), z.number()),
  oot: z.record(z.string(), z.number()),
});
export type AttributionBaseline = z.infer<typeof attributionBaselineSchema>;

export const modelMetadataSchema = z.object({
  model_id: z.string().min(1),
  family: modelFamilySchema,
  params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  features: z.array(z.string()).min(1),
  as_of: monthSchema,
  windows: z.object({ train: monthWindowSchema, test: monthWindowSchema, oot: monthWindowSchema }),
  metrics: modelMetricsSchema,
  threshold: z.number().min(0).max(1),
  baseline: baselineSchema,
  /** Calibration on the OOT months (reliability curve, Hosmer–Lemeshow); absent in models registered before it existed. */
  calibration: modelCalibrationSchema.optional(),
  /** Null rates and source coverage of the training rows; absent in models registered before it existed. */
  data_baseline: dataBaselineSchema.optional(),
  /** Mean |contribution| per raw feature; absent in models registered before explanations existed. */
  attribution: attributionBaselineSchema.optional(),
  training_data_sha256: z.string().length(64),
  /**
   * Lineage fingerprint of every gold partition it was trained on, by name: once one changes, its training data is no
   * longer current (production_stale). Absent in models registered before it was recorded.
   */
  training_lineage: z.record(z.string(), z.string()).optional(),
  feature_schema_sha256: z.string().length(64),
  /** sha256 of each other artifact of the model directory, by file name. */
  artifacts_sha256: z.record(z.string(), z.string().length(64)),
  xgboost_version: z.string(),
  created_at: z.string(),
  workflow: z.object({ workflowId: z.string(), runId: z.string() }),
});
export type ModelMetadata = z.infer<typeof modelMetadataSchema>;

export const registryEventSchema = z.object({
  model_id: z.string(),
  stage: z.enum(['candidate', 'production', 'archived', 'rejected']),
  at: z.string(),
  reason: z.string(),
});
export const registrySchema = z.object({
  production: z.string().nullable(),
  history: z.array(registryEventSchema),
});
export type Registry = z.infer<typeof registrySchema>;
export type RegistryEvent = z.infer<typeof registryEventSchema>;

export const RISK_BANDS = ['Low', 'Medium', 'High'] as const;

/**
 * `train`/`test`/`oot`: the month was one of the model's own training windows (in-sample, or used to select and gate
 * it); `after`: later than its OOT window, truly out-of-sample; `before`: earlier than its train window (only with
 * TRAINING_WINDOW_MONTHS), not seen in training but not news either.
 */
export const MONTH_WINDOWS = ['before', 'train', 'test', 'oot', 'after'] as const;
export type MonthWindow = (typeof MONTH_WINDOWS)[number];

/** One row of gold/monitoring: a model's performance and drift on one application month (SPEC §4). */
export const monitoringRowSchema = z.object({
  model_id: z.string(),
  snapshot_date: z.string(),
  n_scored: z.number().int(),
  n_labelled: z.number().int(),
  observed_default_rate: z.number().nullable(),
  mean_probability: z.number(),
  auc: z.number().nullable(),
  gini: z.number().nullable(),
  ks: z.number().nullable(),
  accuracy: z.number().nullable(),
  precision: z.number().nullable(),
  recall: z.number().nullable(),
  f1: z.number().nullable(),
  brier: z.number().nullable(),
  psi: z.number(),
  max_csi: z.number().nullable(),
  max_csi_feature: z.string().nullable(),
  status: z.enum(['immature', 'stable', 'warning', 'critical']),
  /** Where the month stands relative to the model's windows; governance judges `after` months only. */
  window: z.enum(MONTH_WINDOWS),
  /** The source whose coverage of the month's applications fell most below its training baseline (NULL: none fell). */
  coverage_source: z.string().nullable(),
  coverage: z.number().nullable(),
  coverage_baseline: z.number().nullable(),
  /** Score PSI on the rows every source covers at its baseline level: drift that missing data does not explain. */
  psi_covered: z.number().nullable(),
  n_covered: z.number().int(),
  /** The feature whose NULL share rose most above its training baseline, and by how much (NULL: none rose). */
  max_null_jump: z.number().nullable(),
  max_null_jump_feature: z.string().nullable(),
  // Performance before the labels (issue 30): estimated from the probabilities on every month, mature ones included so
  // the estimate is backtested against the realized auc of the same rows.
  /** AUC of the expected ROC curve (confidence-based performance estimation): NULL when one class is expected. */
  auc_estimated: z.number().nullable(),
  /** The 90% band of the month's AUC from its size: 5th and 95th percentiles over labels drawn from the probabilities. */
  auc_estimated_low: z.number().nullable(),
  auc_estimated_high: z.number().nullable(),
  /** Mean probability: the default rate the model expects, against observed_default_rate once labels mature. */
  expected_default_rate: z.number(),
  /** Hosmer–Lemeshow p-value over the month's probability deciles (mature months with enough labelled loans). */
  calibration_p_value: z.number().nullable(),
  /**
   * Attribution drift (SPEC §4c): ½ Σ |share − training share| of the features' shares of the month's total
   * |contribution| (gold/explanations), and the feature whose share moved most with its signed shift. NULL when the
   * month has no explanations or the model no attribution baseline (registered before explanations existed).
   */
  attribution_shift: z.number().nullable().default(null),
  max_attribution_shift: z.number().nullable().default(null),
  max_attribution_shift_feature: z.string().nullable().default(null),
});
export type MonitoringRow = z.infer<typeof monitoringRowSchema>;

/**
 * One row of gold/monitoring_online: a model's online scores of one application month (the scoring API's
 * gold/predictions_online) against its batch scores of the same month. Only months with online scores by the model.
 */
export const onlineSkewRowSchema = z.object({
  model_id: z.string(),
  snapshot_date: z.string(),
  n_online: z.number().int(),
  /** 0 while the month is not batch-scored (yet): then there is nothing to compare and online_psi is NULL. */
  n_batch: z.number().int(),
  /** PSI of the online scores against the batch scores on the model's baseline score deciles (SPEC §4 rules). */
  online_psi: z.number().nullable(),
});
export type OnlineSkewRow = z.infer<typeof onlineSkewRowSchema>;

/**
 * `calibration`: probabilities that do not match observed default rates (alerted, "recalibrate"); `performance_estimated`:
 * a significant drop of the AUC estimated before labels mature (alerted; a retrain only when so configured).
 */
export const FINDING_KINDS = ['data', 'drift', 'performance', 'skew', 'calibration', 'performance_estimated'] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

export const findingSchema = z.object({
  severity: z.enum(['warning', 'critical']),
  /**
   * `data`: coverage, null rate, volume, freshness (alerted and logged, never a retrain); `drift`; `performance`;
   * `skew`: online scores unlike the batch scores of the same model and month (alerted and logged, never a retrain).
   */
  kind: z.enum(FINDING_KINDS).default('drift'),
  metric: z.string(),
  snapshot_date: z.string(),
  value: z.number(),
  threshold: z.number(),
  message: z.string(),
});
export type Finding = z.output<typeof findingSchema>;

/**
 * `retrain_not_useful`: a critical drift or performance finding, but no labelled month after the model's training
 * window, so a retrain would learn from the same months; `monitor_only`: the model monitored is not the production
 * model; `retrain_forced`: an operator's retrain, cooldown bypassed; `scheduled_retrain` / `nothing_new`: the monthly
 * retrain policy.
 */
export const GOVERNANCE_ACTIONS = [
  'no_action',
  'alert',
  'retrain',
  'retrain_suppressed_cooldown',
  'retrain_not_useful',
  'monitor_only',
  'retrain_forced',
  'scheduled_retrain',
  'nothing_new',
] as const;
/** Decisions that started a training: the cooldown counts from the latest of them. */
export const RETRAIN_ACTIONS: readonly GovernanceDecision['action'][] = ['retrain', 'retrain_forced', 'scheduled_retrain'];

/** One row of the append-only decision log (gold/governance/decisions.parquet). */
export const governanceDecisionSchema = z.object({
  decided_at: z.string(),
  as_of: monthSchema,
  model_id: z.string(),
  action: z.enum(GOVERNANCE_ACTIONS),
  reason: z.string(),
  findings_json: z.string(),
  workflow_id: z.string(),
});
export type GovernanceDecision = z.infer<typeof governanceDecisionSchema>;

/** What a promotion decision did: `keep` leaves production as it is (a tie, too little evidence, no fair comparison). */
export const PROMOTION_ACTIONS = ['promote', 'reject', 'rollback', 'keep'] as const;
export type PromotionAction = (typeof PROMOTION_ACTIONS)[number];

/** The paired evidence a promotion decision rests on (DeLong on the same rows; NULL where no fair comparison existed). */
export const promotionEvidenceSchema = z.object({
  /** `2024-05..2024-06`; NULL when no month was out of sample for both models. */
  months_compared: z.string().nullable(),
  n_rows: z.number().int().nonnegative().nullable(),
  candidate_auc: z.number().nullable(),
  production_auc: z.number().nullable(),
  auc_diff: z.number().nullable(),
  auc_diff_low: z.number().nullable(),
  auc_diff_high: z.number().nullable(),
  p_value: z.number().nullable(),
});

/**
 * One row of gold/governance/promotions.parquet (SPEC §4b): every gate, governance and operator decision about the
 * production model, with the paired evidence it rests on.
 */
export const promotionDecisionSchema = z.object({
  decided_at: z.string(),
  /** `gate`, `governance`, or the operator's name. */
  decided_by: z.string().min(1),
  action: z.enum(PROMOTION_ACTIONS),
  candidate_model_id: z.string().nullable(),
  production_model_id: z.string().nullable(),
  ...promotionEvidenceSchema.shape,
  reason: z.string(),
});
export type PromotionDecision = z.infer<typeof promotionDecisionSchema>;
