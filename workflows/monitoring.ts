import { defineQuery, isCancellation, patched, setCurrentDetails, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { addMonths, monthOf } from '../lib/months.js';
import { searchAttributes, type Progress } from '../lib/temporal.js';
import { DEFAULT_MONTHS_IN_FLIGHT, monitoringInputSchema, parseInput, type MonitoringInput } from '../lib/workflow-inputs.js';
import { lifecycle, monitoring, quickReads } from './activity-proxies.js';
import { forEachBounded } from './bounded.js';
import { scoreMonthChild } from './children.js';

export const monitoringProgressQuery = defineQuery<Progress>('progress');

const MONITORING_STEPS = 4;

export interface MonitoringResult {
  asOf: string;
  modelId: string | null;
  months: number;
  action: string;
  reason: string;
  findings: number;
  dashboard: { png: string; html: string } | null;
  retrainRequested: boolean;
  /** Governance's model decisions this run (automatic rollback, challenger proposals or promotions), in words. */
  modelDecisions?: string[];
}

/**
 * Weekly monitoring: make sure every month with features is scored by the production model, compute performance
 * (once labels mature), data quality and drift, draw the dashboard, decide, alert, and ask model-lifecycle to retrain
 * on a critical drift or performance finding outside the cooldown when new labelled months exist. Data findings are
 * alerted only. Another model (`modelId`) is monitored without governance.
 */
export async function monitoringWorkflow(rawInput: MonitoringInput = {}): Promise<MonitoringResult> {
  const input = parseInput(monitoringInputSchema, rawInput, 'monitoringWorkflow');
  const asOf = input.asOf ?? monthOf(new Date().toISOString());
  // Progress counts the steps: scoring what is unscored, metrics and drift, dashboard and decision, alerts.
  let done = 0;
  let step = 'reading the registry';
  const nextStep = (text: string) => {
    if (step !== 'reading the registry') done++;
    step = text;
    setCurrentDetails(text);
  };
  setHandler(monitoringProgressQuery, () => ({ total: MONITORING_STEPS, done, failed: 0, running: done < MONITORING_STEPS ? 1 : 0, step }));
  upsertSearchAttributes([
    { key: searchAttributes.pipelinePhase, value: 'monitor' },
    { key: searchAttributes.snapshotMonth, value: asOf },
  ]);
  const modelId = input.modelId ?? (await quickReads.readRegistry()).production;
  if (!modelId) {
    return { asOf, modelId: null, months: 0, action: 'no_action', reason: 'no production model yet', findings: 0, dashboard: null, retrainRequested: false };
  }
  upsertSearchAttributes([{ key: searchAttributes.modelId, value: modelId }]);

  const from = input.from ?? addMonths(asOf, -24);
  const [features, predictions] = await Promise.all([
    quickReads.inventoryMonths({ from, to: asOf, requirement: 'features' }),
    quickReads.inventoryMonths({ from, to: asOf, requirement: 'predictions', modelId }),
  ]);
  const unscored = features.present.filter((month) => predictions.missing.includes(month));
  nextStep(`scoring ${unscored.length} unscored months with ${modelId}`);
  await forEachBounded(unscored, DEFAULT_MONTHS_IN_FLIGHT, async (month) => {
    await scoreMonthChild(month, modelId);
  });

  nextStep(`performance and drift of ${modelId} as of ${asOf}`);
  const metrics = await monitoring.computeMonitoring({ asOf, modelId });
  // The challengers' metrics on the same months (scored first where shadow scoring missed a month), so that the
  // dashboard shows champion vs challengers; only when monitoring the production model. patched: runs begun before
  // replay as they ran.
  const withChallengers = !input.modelId && patched('model-decisions');
  if (withChallengers) {
    const { challengers } = await quickReads.readModelRoles();
    for (const challenger of challengers) {
      try {
        const scored = await quickReads.inventoryMonths({ from, to: asOf, requirement: 'predictions', modelId: challenger });
        await forEachBounded(features.present.filter((month) => scored.missing.includes(month)), DEFAULT_MONTHS_IN_FLIGHT, async (month) => {
          await scoreMonthChild(month, challenger);
        });
        await monitoring.computeMonitoring({ asOf, modelId: challenger });
      } catch (error) {
        if (isCancellation(error)) throw error;
        // A challenger that cannot be scored or monitored is left out of this run, never fails it.
      }
    }
  }
  // The dashboard and the decision both read the monitoring table just written, not each other: drawn and decided at once.
  nextStep('drawing the dashboard and deciding');
  const [dashboard, decision] = await Promise.all([
    monitoring.renderDashboard({ asOf, modelId }),
    monitoring.decideGovernance({ asOf, modelId, workflowId: workflowInfo().workflowId, now: new Date().toISOString() }),
  ]);
  // A model that is not in production (`monitor --model <candidate>`) gets its table and dashboard, no alert, no retrain.
  if (decision.findings.length > 0 && decision.action !== 'monitor_only') {
    await monitoring.sendAlerts({ asOf, modelId, findings: decision.findings });
  }
  nextStep(`decision ${decision.action}: ${decision.findings.length} findings`);
  const retrainRequested = decision.action === 'retrain';
  if (retrainRequested) {
    // not forced: the cooldown was checked by the decision just logged
    await lifecycle.requestRetrain({ reason: `monitoring ${asOf}: ${decision.reason}`, forced: false });
  }
  // Which model should be in production, on paired evidence (automatic rollback, challengers on shadow months).
  let modelDecisions: string[] | undefined;
  if (withChallengers) {
    const outcome = await monitoring.decideModels({ asOf, modelId, workflowId: workflowInfo().workflowId, now: new Date().toISOString() });
    modelDecisions = outcome.decisions.map((decision) => `${decision.action}: ${decision.reason}`);
    if (outcome.registryChanged) await lifecycle.notifyRegistryChanged();
  }
  done = MONITORING_STEPS;
  return {
    modelDecisions,
    asOf,
    modelId,
    months: metrics.rows.length,
    action: decision.action,
    reason: decision.reason,
    findings: decision.findings.length,
    dashboard: { png: dashboard.png, html: dashboard.html },
    retrainRequested,
  };
}
