// The Temporal surface of SPEC §5: workflow ids, search attributes, schedule ids. Pure: workflows import it.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { Month } from './months.js';
import type { StaleCause } from './stale-causes.js';

export const DEFAULT_TASK_QUEUE = 'credit-pipeline';
export const LIFECYCLE_WORKFLOW_ID = 'model-lifecycle';

/** 8 hex digits of FNV-1a: a short, stable tag for a source folder in a workflow id (pure, so workflows may use it). */
export function shortHash(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

export const workflowIds = {
  /**
   * `backfill-<from>-<to>` for the default source folder; with another folder a tag of its path is appended, so a
   * backfill of other sources is its own run instead of silently attaching to the one already running.
   */
  backfill: (from: Month, to: Month, sourceDir?: string) => `backfill-${from}-${to}${sourceDir ? `-src${shortHash(sourceDir)}` : ''}`,
  month: (month: Month) => `month-${month}`,
  /**
   * The backfill coordinator of a task queue (so of one datamart: its workers share DATAMART_DIR). Backfills join it
   * (update-with-start) and hold their months and trainings as claims it hands out (workflows/backfill-coordinator.ts).
   */
  backfillCoordinator: (taskQueue: string) => `backfill-coordinator-${taskQueue}`,
  training: (asOf: Month, sequence: number) => `training-${asOf}-${sequence}`,
  history: (from: Month, to: Month) => `history-${from}-${to}`,
  scoreMonth: (month: Month, modelId: string) => `score-${month}-${modelId}`,
  monitoring: (asOf: Month) => `monitoring-${asOf}`,
  retrainPolicy: (asOf: Month) => `retrain-policy-${asOf}`,
};

/** The workflow type behind workflowIds.backfillCoordinator (started by an activity, which cannot import workflows). */
export const BACKFILL_COORDINATOR_TYPE = 'backfillCoordinatorWorkflow';

/** What a backfill claims from the coordinator: the run of one month's pipeline, or the training as of a month. */
export const claimOf = {
  month: (month: Month) => `month:${month}`,
  training: (asOf: Month) => `training:${asOf}`,
};

/** A backfill asks to join: admitted (with the claims handed to it at once) or refused for another source folder. */
export const JOIN_BACKFILLS_UPDATE = 'joinBackfills';
export interface JoinRequest {
  backfillId: string;
  sourceDir: string;
  /** The months it still has to settle; each becomes a claim. */
  months: Month[];
}
export type JoinAnswer = { admitted: true; handed: HandedClaim[] } | { admitted: false; holder: { backfillId: string; sourceDir: string } };

/** The training a backfill ran or was handed, passed on with its claim so that a backfill waiting for it reports it too. */
export interface TrainingOutcome {
  modelId: string;
  promoted: boolean;
  reused?: boolean;
  reason: string;
  workflowId: string;
}

/**
 * A claim handed to a backfill (JoinAnswer, or the `claimHanded` signal). `previous`: another backfill held it before
 * and settled it (with its failure or training, if any) or left without settling it (cancelled, or gone).
 */
export interface HandedClaim {
  claim: string;
  previous?: { backfillId: string; failed?: string; training?: TrainingOutcome };
}

/** The coordinator's answer to the `backfills` query: the backfills joined now, with their source folders. */
export const JOINED_BACKFILLS_QUERY = 'backfills';
export interface JoinedBackfill {
  backfillId: string;
  sourceDir: string;
}

export const scheduleIds = {
  monthlyPipeline: 'credit-monthly-pipeline',
  weeklyMonitoring: 'credit-weekly-monitoring',
  monthlyRetrain: 'credit-monthly-retrain',
};

export const PIPELINE_PHASES = ['backfill', 'etl', 'train', 'score', 'monitor'] as const;
export type PipelinePhase = (typeof PIPELINE_PHASES)[number];

export const searchAttributes = {
  pipelinePhase: defineSearchAttributeKey('PipelinePhase', SearchAttributeType.KEYWORD),
  snapshotMonth: defineSearchAttributeKey('SnapshotMonth', SearchAttributeType.KEYWORD),
  modelId: defineSearchAttributeKey('ModelId', SearchAttributeType.KEYWORD),
};
export const ALL_SEARCH_ATTRIBUTES = Object.values(searchAttributes);

/**
 * Progress answered by the `progress` query of the backfill, history, training and monitoring workflows: counts of
 * the units of work (months, candidates, steps), what is happening now in words, and the child workflow doing it
 * (whose own `progress` says more).
 */
export interface Progress {
  total: number;
  done: number;
  failed: number;
  running: number;
  step?: string;
  child?: string;
  /** Backfill: the months its plan found not current and that are not done yet, each with why (lib/stale-causes.ts). */
  stale?: Array<{ month: Month; causes: StaleCause[] }>;
}
