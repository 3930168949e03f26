// The pipeline's own metrics, recorded through the Temporal SDK's metric meter of the running activity: they leave the
// worker on the same Prometheus endpoint as the SDK's (WORKER_METRICS_PORT, workers/telemetry.ts), tagged with the
// namespace, task queue and activity type (`namespace`, `taskQueue`, `activityType`). Outside an activity (core
// functions called by scripts and tests) nothing is recorded.
import type { MetricMeter } from '@temporalio/common';
import type { Source } from '../lib/layout.js';
import { activityContext } from './heartbeat.js';

function meter(): MetricMeter | undefined {
  return activityContext()?.metricMeter;
}

export type RowStage = 'bronze' | 'silver' | 'quarantine' | 'feature_store' | 'label_store' | 'predictions';

/** Rows a stage wrote (per source for bronze, silver and quarantine). */
export function recordRows(stage: RowStage, rows: number, source?: Source): void {
  if (rows <= 0) return;
  meter()
    ?.createCounter('credit_pipeline_rows', 'rows', 'rows written, by stage and source')
    .add(rows, { stage, ...(source ? { source } : {}) });
}

/** A month whose ETL ran to gold (feature and label store written). */
export function recordMonthBuilt(seconds: number): void {
  const current = meter();
  if (!current) return;
  current.createCounter('credit_pipeline_months_built', 'months', 'months whose ETL ran to gold').add(1);
  current.createHistogram('credit_pipeline_month_etl_duration', 'float', 's', "a month's ETL, bronze to gold").record(seconds);
}

/** Months the planner found current (every partition built from the same inputs): reused, not rebuilt. */
export function recordPartitionsReused(months: number): void {
  if (months <= 0) return;
  meter()?.createCounter('credit_pipeline_partitions_reused', 'months', 'months whose gold partitions were current and reused').add(months);
}

/** A change of the production model: promote, rollback. */
export function recordModelChange(action: 'promote' | 'rollback'): void {
  meter()?.createCounter('credit_pipeline_model_promotions', 'changes', 'production model changes, by action').add(1, { action });
}

/** Rows a month's scoring wrote, and how long it took. */
export function recordScored(rows: number, seconds: number): void {
  recordRows('predictions', rows);
  meter()?.createHistogram('credit_pipeline_score_month_duration', 'float', 's', "a month's batch scoring").record(seconds);
}
