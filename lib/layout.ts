// The datamart and model bank layout of SPEC §2–3, as plain string paths (no Node APIs: workflows import it too).
import { snapshotDate, type Month } from './months.js';

export const SOURCES = ['attributes', 'financials', 'clickstream', 'loan_daily'] as const;
export type Source = (typeof SOURCES)[number];

export const SOURCE_FILES: Record<Source, string> = {
  attributes: 'features_attributes.csv',
  financials: 'features_financials.csv',
  clickstream: 'feature_clickstream.csv',
  loan_daily: 'lms_loan_daily.csv',
};

export type Layer = 'bronze' | 'silver' | 'quarantine';

/**
 * Months before M whose clickstream the feature store of M reads (its partition mapping M-3..M in
 * core/datamart/graph.ts; online scoring takes the same window). Here, in lib/, because the backfill workflow asks
 * which later months read a reprocessed month.
 */
export const CLICKSTREAM_LOOKBACK = 3;

function join(...parts: string[]): string {
  return parts.map((part, i) => (i === 0 ? part.replace(/\/+$/, '') : part.replace(/^\/+|\/+$/g, ''))).join('/');
}

export function partitionDir(tableDir: string, month: Month): string {
  return join(tableDir, `snapshot_date=${snapshotDate(month)}`);
}

const PARTITION_NAME = /^snapshot_date=(\d{4}-(?:0[1-9]|1[0-2]))-01$/;

/** The month of a partition directory name built by partitionDir ('snapshot_date=YYYY-MM-01'); null for any other name. */
export function partitionMonthOf(directoryName: string): Month | null {
  return PARTITION_NAME.exec(directoryName)?.[1] ?? null;
}

export function partitionFile(tableDir: string, month: Month): string {
  return join(partitionDir(tableDir, month), 'data.parquet');
}

export const datamart = {
  /** A table of the datamart's graph by its name, `bronze/clickstream` or `gold/feature_store` (core/datamart/graph.ts). */
  table: (root: string, name: string) => join(root, name),
  sourceTable: (root: string, layer: Layer, source: Source) => join(root, layer, source),
  featureStore: (root: string) => join(root, 'gold', 'feature_store'),
  labelStore: (root: string) => join(root, 'gold', 'label_store'),
  predictions: (root: string, modelId: string) => join(root, 'gold', 'predictions', `model_id=${modelId}`),
  /** Reason codes of each scored application (SPEC §4c), beside the predictions of the same model and month. */
  explanations: (root: string, modelId: string) => join(root, 'gold', 'explanations', `model_id=${modelId}`),
  /** Online scores (POST /v1/score), one Parquet file per flush under each application month's partition. */
  predictionsOnline: (root: string) => join(root, 'gold', 'predictions_online'),
  monitoring: (root: string, modelId: string) => join(root, 'gold', 'monitoring', `model_id=${modelId}`, 'data.parquet'),
  /** Online vs batch scores of the model per application month with online scores (training-serving skew). */
  monitoringOnline: (root: string, modelId: string) => join(root, 'gold', 'monitoring_online', `model_id=${modelId}`, 'data.parquet'),
  decisionLog: (root: string) => join(root, 'gold', 'governance', 'decisions.parquet'),
  /** Every promotion, rejection, rollback and kept production, with its paired evidence (SPEC §4b). */
  promotionLog: (root: string) => join(root, 'gold', 'governance', 'promotions.parquet'),
};

export const modelBank = {
  dir: (root: string, modelId: string) => join(root, modelId),
  file: (root: string, modelId: string, name: ModelArtifact) => join(root, modelId, name),
  registry: (root: string) => join(root, 'registry.json'),
};

export const MODEL_ARTIFACTS = [
  'model.onnx',
  'booster.json',
  'preprocessor.json',
  'metadata.json',
  'feature_importance.csv',
] as const;
export type ModelArtifact = (typeof MODEL_ARTIFACTS)[number];
