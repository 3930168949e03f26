import { upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { addMonths, monthOf } from '../lib/months.js';
import { searchAttributes } from '../lib/temporal.js';
import { monitoringInputSchema, parseInput, type MonitoringInput } from '../lib/workflow-inputs.js';
import { datamart, lifecycle, modelBank, monitoring } from './activity-proxies.js';
import { forEachBounded } from './bounded.js';
import { scoreMonthChild } from './children.js';

export interface MonitoringResult {
  asOf: string;
  modelId: string | null;
  months: number;
  action: string;
  reason: string;
  findings: number;
  dashboard: { png: string; html: string } | null;
  retrainRequested: boolean;
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
  upsertSearchAttributes([
    { key: searchAttributes.pipelinePhase, value: 'monitor' },
    { key: searchAttributes.snapshotMonth, value: asOf },
  ]);
  const modelId = input.modelId ?? (await modelBank.readRegistry()).production;
  if (!modelId) {
    return { asOf, modelId: null, months: 0, action: 'no_action', reason: 'no production model yet', findings: 0, dashboard: null, retrainRequested: false };
  }
  upsertSearchAttributes([{ key: searchAttributes.modelId, value: modelId }]);

  const from = input.from ?? addMonths(asOf, -24);
  const [features, predictions] = await Promise.all([
    datamart.inventoryMonths({ from, to: asOf, requirement: 'features' }),
    datamart.inventoryMonths({ from, to: asOf, requirement: 'predictions', modelId }),
  ]);
  const unscored = features.present.filter((month) => predictions.missing.includes(month));
  await forEachBounded(unscored, 4, async (month) => {
    await scoreMonthChild(month, modelId);
  });

  const metrics = await monitoring.computeMonitoring({ asOf, modelId });
  const dashboard = await monitoring.renderDashboard({ asOf, modelId });
  const decision = await monitoring.decideGovernance({
    asOf,
    modelId,
    workflowId: workflowInfo().workflowId,
    now: new Date().toISOString(),
  });
  // A model that is not in production (`monitor --model <candidate>`) gets its table and dashboard, no alert, no retrain.
  if (decision.findings.length > 0 && decision.action !== 'monitor_only') {
    await monitoring.sendAlerts({ asOf, modelId, findings: decision.findings });
  }
  const retrainRequested = decision.action === 'retrain';
  if (retrainRequested) {
    // not forced: the cooldown was checked by the decision just logged
    await lifecycle.requestRetrain({ reason: `monitoring ${asOf}: ${decision.reason}`, forced: false });
  }
  return {
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
