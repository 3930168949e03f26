// Shapes that cross module boundaries and are read back from disk: model metadata, the registry, monitoring rows,
// governance decisions. zod schemas, so that a file read back is validated before use.
import { monthSchema } from './months.js';
import { z } from 'zod';
import { baselineSchema } from '../core/monitoring/drift.js';

export const MODEL_FAMILIES = ['gbtree', 'gblinear', 'rf'] as const;
export const modelFamilySchema = z.enum(MODEL_FAMILIES);
export type ModelFamily = z.infer<typeof modelFamilySchema>;

/** A model id names a directory of the model bank and a Hive partition: no path separators, no spaces. */
export const modelIdSchema = z.string().min(1).regex(/^[\w.-]+$/, 'a model id is letters, digits, dot, dash or underscore');


const monthWindowSchema = z.object({ from: monthSchema, to: monthSchema });

export const modelMetricsSchema = z.object({
  train_auc: z.number(),
  test_auc: z.number(),
  oot_auc: z.number(),
  oot_gini: z.number(),
  oot_ks: z.number(),
});

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
  training_data_sha256: z.string().length(64),
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
});
export type MonitoringRow = z.infer<typeof monitoringRowSchema>;

export const findingSchema = z.object({
  severity: z.enum(['warning', 'critical']),
  metric: z.string(),
  snapshot_date: z.string(),
  value: z.number(),
  threshold: z.number(),
  message: z.string(),
});
export type Finding = z.infer<typeof findingSchema>;

/** One row of the append-only decision log (gold/governance/decisions.parquet). */
export const governanceDecisionSchema = z.object({
  decided_at: z.string(),
  as_of: monthSchema,
  model_id: z.string(),
  action: z.enum(['no_action', 'alert', 'retrain', 'retrain_suppressed_cooldown']),
  reason: z.string(),
  findings_json: z.string(),
  workflow_id: z.string(),
});
export type GovernanceDecision = z.infer<typeof governanceDecisionSchema>;
