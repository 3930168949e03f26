// Monitoring activities: thin adapters over core/monitoring. Inputs are validated; long work heartbeats; alerts go
// to the activity logger; results are paths and small summaries.
import { monthSchema } from '../lib/months.js';
import { z } from 'zod';
import type { Config } from '../lib/config.js';
import { findingSchema, governanceDecisionSchema, type Finding, type MonitoringRow } from '../lib/contracts.js';
import type { Month } from '../lib/months.js';
import { sendAlerts } from '../core/monitoring/alerts.js';
import { decideGovernance, recordDecision, type GovernanceOutcome } from '../core/monitoring/governance.js';
import { planScheduledRetrain, recordForcedRetrain, type RetrainPlan } from '../core/monitoring/retrain-policy.js';
import { renderDashboardFiles, type DashboardFiles } from '../core/monitoring/report.js';
import { computeMonitoringTable, monitoringSettings } from '../core/monitoring/table.js';
import { decideModels, type ModelDecisionOutcome } from '../core/monitoring/model-decisions.js';
import { sendPipelineAlert } from '../core/monitoring/pipeline-alerts.js';
import { adaptActivity } from './failures.js';
import { activityLogger as alertLogger, heartbeat } from './heartbeat.js';

const month = monthSchema;
const modelInput = z.object({ asOf: month, modelId: z.string().min(1) });
const governanceInput = modelInput.extend({
  workflowId: z.string().min(1),
  now: z.string().refine((value) => !Number.isNaN(Date.parse(value)), 'expected an ISO time'),
});
const alertsInput = modelInput.extend({ findings: z.array(findingSchema) });
const forcedInput = z.object({
  asOf: month.nullable(),
  reason: z.string().min(1),
  workflowId: z.string().min(1),
  now: governanceInput.shape.now,
});
const planInput = z.object({ asOf: month });

export function createMonitoringActivities(config: Config) {
  const settings = monitoringSettings(config);
  const governance = { ...settings, cooldownDays: config.RETRAIN_COOLDOWN_DAYS };
  return {
    /**
     * Rewrites gold/monitoring/model_id=<id>/data.parquet (one row per application month with predictions ≤ asOf) and
     * gold/monitoring_online/model_id=<id>/data.parquet (one row per month with online scores by the model ≤ asOf).
     */
    computeMonitoring: adaptActivity(
      async (input: z.input<typeof modelInput>): Promise<{ asOf: Month; modelId: string; rows: MonitoringRow[]; path: string }> => {
        const { asOf, modelId } = modelInput.parse(input);
        const { rows, path } = await computeMonitoringTable(settings, asOf, modelId, heartbeat);
        return { asOf, modelId, rows, path };
      },
    ),
    renderDashboard: adaptActivity(async (input: z.input<typeof modelInput>): Promise<DashboardFiles> => {
      const { asOf, modelId } = modelInput.parse(input);
      heartbeat({ stage: 'rendering the dashboard' });
      return renderDashboardFiles({ ...settings, maxChallengers: config.MAX_CHALLENGERS }, asOf, modelId);
    }),
    decideGovernance: adaptActivity(async (input: z.input<typeof governanceInput>): Promise<GovernanceOutcome> => {
      const request = governanceInput.parse(input);
      return decideGovernance(governance, request);
    }),
    /**
     * Which model should be in production, on paired evidence (automatic rollback on degradation, challengers on
     * shadow months): decided, applied where the switches allow, logged to promotions.parquet and alerted.
     */
    decideModels: adaptActivity(async (input: z.input<typeof governanceInput>): Promise<ModelDecisionOutcome> => {
      const request = governanceInput.parse(input);
      const outcome = await decideModels(
        {
          datamartDir: config.DATAMART_DIR,
          modelBankDir: config.MODEL_BANK_DIR,
          minAuc: config.PROMOTION_MIN_AUC,
          margin: config.PROMOTION_NON_INFERIORITY_MARGIN,
          maxChallengers: config.MAX_CHALLENGERS,
          minChallengerMonths: config.CHALLENGER_MIN_MONTHS,
          autoPromoteChallenger: config.AUTO_PROMOTE_CHALLENGER,
          autoRollback: config.AUTO_ROLLBACK,
        },
        request,
      );
      for (const summary of outcome.alerts) {
        await sendPipelineAlert(
          { kind: 'model', workflowId: request.workflowId, summary, action: 'read gold/governance/promotions.parquet (npm run status); the reason holds the paired evidence' },
          alertLogger(),
          { url: config.ALERT_WEBHOOK_URL, format: config.ALERT_FORMAT },
        );
      }
      return outcome;
    }),
    /** An operator's retrain: logged as `retrain_forced`, naming the cooldown it bypasses when there is one. */
    recordForcedRetrain: adaptActivity(async (input: z.input<typeof forcedInput>): Promise<{ reason: string }> => {
      const request = forcedInput.parse(input);
      const reason = await recordForcedRetrain(governance, request);
      return { reason };
    }),
    /** The monthly retrain policy's question: how many labelled months follow the production model's window. */
    planScheduledRetrain: adaptActivity(async (input: z.input<typeof planInput>): Promise<RetrainPlan> => {
      const { asOf } = planInput.parse(input);
      return planScheduledRetrain(governance, asOf, config.RETRAIN_MIN_NEW_LABELLED_MONTHS);
    }),
    /** Appends one decision (the retrain policy's) to the decision log. */
    recordDecision: adaptActivity(async (input: z.input<typeof governanceDecisionSchema>): Promise<void> => {
      await recordDecision(config.DATAMART_DIR, governanceDecisionSchema.parse(input));
    }),
    sendAlerts: adaptActivity(async (input: z.input<typeof alertsInput>): Promise<{ logged: number; posted: boolean }> => {
      const request = alertsInput.parse(input);
      const findings: Finding[] = request.findings;
      const { logged, posted } = await sendAlerts({ ...request, findings }, alertLogger(), { url: config.ALERT_WEBHOOK_URL });
      return { logged, posted };
    }),
  };
}
