// Activity stubs grouped by kind of work, each with the timeouts and retry policy that kind deserves.
// The permanent failures of lib/errors.ts (data, artifact, input and libxgboost defects) are never retried.
import { ActivityCancellationType, proxyActivities, proxyLocalActivities, type ActivityOptions, type LocalActivityOptions } from '@temporalio/workflow';
import type { createCoordinationActivities } from '../activities/coordination.js';
import type { createDatamartActivities } from '../activities/datamart.js';
import type { createEtlActivities } from '../activities/etl.js';
import type { createLifecycleActivities } from '../activities/lifecycle.js';
import type { createModelBankActivities } from '../activities/model-bank.js';
import type { createMonitoringActivities } from '../activities/monitoring.js';
import type { createScoringActivities } from '../activities/scoring.js';
import type { createTrainingActivities } from '../activities/training.js';
import { NON_RETRYABLE_TYPES } from '../lib/errors.js';

const retryWithBackoff = (maximumAttempts: number) => ({
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '30s',
  maximumAttempts,
  nonRetryableErrorTypes: NON_RETRYABLE_TYPES,
});

/**
 * ETL over files: minutes at most; transient I/O failures retried with backoff. The activities heartbeat every second,
 * so a worker that died (kill -9, lost host) is noticed within the heartbeat timeout rather than after 15 minutes.
 * A cancelled month waits for its activities to stop (they see the cancellation at their next heartbeat and publish
 * nothing after it), so a cancelled backfill ends with its work stopped, not still running.
 */
const etlOptions: ActivityOptions = {
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '10 seconds',
  retry: retryWithBackoff(5),
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
};
/**
 * Training: heartbeats every boosting round, so a lost worker is noticed within seconds and the retry starts within
 * ~15 s instead of after a timeout sized for the whole run.
 */
const trainingOptions: ActivityOptions = {
  startToCloseTimeout: '60 minutes',
  heartbeatTimeout: '10 seconds',
  retry: retryWithBackoff(3),
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
};
/** Scoring a month: like ETL (it heartbeats after loading the model, reading and scoring). */
const scoringOptions: ActivityOptions = { startToCloseTimeout: '15 minutes', heartbeatTimeout: '30 seconds', retry: retryWithBackoff(5) };
/** Small reads and writes of the registry, inventory and decision log. */
const bookkeepingOptions: ActivityOptions = { startToCloseTimeout: '2 minutes', retry: retryWithBackoff(5) };
/**
 * Monitoring metrics, the dashboard and governance. computeMonitoring heartbeats after every month and renderDashboard
 * before it draws, so a lost worker is noticed within the heartbeat timeout rather than after 15 minutes.
 */
const monitoringOptions: ActivityOptions = { startToCloseTimeout: '15 minutes', heartbeatTimeout: '2 minutes', retry: retryWithBackoff(3) };

export const etl = proxyActivities<ReturnType<typeof createEtlActivities>>(etlOptions);
export const training = proxyActivities<ReturnType<typeof createTrainingActivities>>(trainingOptions);
export const scoring = proxyActivities<ReturnType<typeof createScoringActivities>>(scoringOptions);
export const modelBank = proxyActivities<ReturnType<typeof createModelBankActivities>>(bookkeepingOptions);
export const datamart = proxyActivities<ReturnType<typeof createDatamartActivities>>(bookkeepingOptions);
/**
 * Reads of the registry and the datamart's inventory that decide the next step (which model, which months): a few
 * small files, idempotent, run as local activities inside the workflow task. As ordinary activities each one was two
 * round trips through the server (scheduling its task, then the workflow task its result brings) while the pipeline
 * stood still: ~0.1 s each at S = 1, where they sit between stages.
 */
const quickReadOptions: LocalActivityOptions = { startToCloseTimeout: '2 minutes', retry: retryWithBackoff(5) };
export const quickReads = {
  ...pick(proxyLocalActivities<ReturnType<typeof createModelBankActivities>>(quickReadOptions), 'readRegistry', 'findModelsByTrainingData', 'readModelRoles', 'productionStaleness'),
  ...pick(proxyLocalActivities<ReturnType<typeof createDatamartActivities>>(quickReadOptions), 'inventoryMonths', 'latestLabelledMonth', 'incompleteGoldInputs'),
};
/**
 * Planning a month stages the four source files first (hashing them when they changed): ETL-sized work over the files,
 * so it gets the ETL options (heartbeat every second, cancellation observed) rather than the bookkeeping ones.
 */
export const { planMonths } = proxyActivities<ReturnType<typeof createDatamartActivities>>(etlOptions);
/**
 * The check right before a month starts, once planMonths has staged the sources: a few file reads, run as a local
 * activity in the workflow task itself rather than a round trip through the server per month. Should a source change
 * meanwhile it stages it (without heartbeats), hence the ETL-sized timeout.
 */
const monthCheckOptions: LocalActivityOptions = { startToCloseTimeout: '15 minutes', retry: retryWithBackoff(5) };
export const { recheckMonths } = proxyLocalActivities<ReturnType<typeof createDatamartActivities>>(monthCheckOptions);
export const lifecycle = proxyActivities<ReturnType<typeof createLifecycleActivities>>(bookkeepingOptions);
export const monitoring = proxyActivities<ReturnType<typeof createMonitoringActivities>>(monitoringOptions);

/** Joining the backfill coordinator, and asking the server which joined backfills still run: quick calls through the client. */
export const { joinBackfills, backfillsStillRunning } = proxyActivities<ReturnType<typeof createCoordinationActivities>>(bookkeepingOptions);
/** Failure alerts: a few quick attempts (the activity itself retries the webhook and never fails on it). */
export const { sendPipelineAlert } = proxyActivities<ReturnType<typeof createCoordinationActivities>>(bookkeepingOptions);

/** The named stubs only, so that a proxy's other activities cannot be reached through it by mistake. */
function pick<T extends object, K extends keyof T>(proxy: T, ...names: K[]): Pick<T, K> {
  return Object.fromEntries(names.map((name) => [name, proxy[name]])) as Pick<T, K>;
}
