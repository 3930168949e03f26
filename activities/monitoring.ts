// Monitoring activities: thin adapters over core/monitoring. Inputs are validated; long work heartbeats; alerts go
// to the activity logger; results are paths and small summaries.
import { monthSchema } from '../lib/months.js';
import { z } from 'zod';
import type { Config } from '../lib/config.js';
import { findingSchema, type Finding, type MonitoringRow } from '../lib/contracts.js';
import type { Month } from '../lib/months.js';
import { sendAlerts } from '../core/monitoring/alerts.js';
import { decideGovernance, type GovernanceOutcome } from '../core/monitoring/governance.js';
import { renderDashboardFiles, type DashboardFiles } from '../core/monitoring/report.js';
import { thresholdsFrom } from '../core/monitoring/status.js';
import { computeMonitoringTable } from '../core/monitoring/table.js';
import { adaptActivity } from './failures.js';
import { activityLogger as alertLogger, heartbeat } from './heartbeat.js';

const month = monthSchema;
const modelInput = z.object({ asOf: month, modelId: z.string().min(1) });
const governanceInput = modelInput.extend({
  workflowId: z.string().min(1),
  now: z.string().refine((value) => !Number.isNaN(Date.parse(value)), 'expected an ISO time'),
});
const alertsInput = modelInput.extend({ findings: z.array(findingSchema) });

export function createMonitoringActivities(config: Config) {
  const thresholds = thresholdsFrom(config);
  const settings = {
    datamartDir: config.DATAMART_DIR,
    modelBankDir: config.MODEL_BANK_DIR,
    reportsDir: config.REPORTS_DIR,
    thresholds,
  };
  return {
    /** Rewrites gold/monitoring/model_id=<id>/data.parquet: one row per application month with predictions ≤ asOf. */
    computeMonitoring: adaptActivity(
      async (input: z.input<typeof modelInput>): Promise<{ asOf: Month; modelId: string; rows: MonitoringRow[]; path: string }> => {
        const { asOf, modelId } = modelInput.parse(input);
        const { rows, path } = await computeMonitoringTable(settings, asOf, modelId, (done) => heartbeat({ month: done }));
        return { asOf, modelId, rows, path };
      },
    ),
    renderDashboard: adaptActivity(async (input: z.input<typeof modelInput>): Promise<DashboardFiles> => {
      const { asOf, modelId } = modelInput.parse(input);
      return renderDashboardFiles(settings, asOf, modelId);
    }),
    decideGovernance: adaptActivity(async (input: z.input<typeof governanceInput>): Promise<GovernanceOutcome> => {
      const request = governanceInput.parse(input);
      return decideGovernance(
        { datamartDir: config.DATAMART_DIR, thresholds, cooldownDays: config.RETRAIN_COOLDOWN_DAYS },
        request,
      );
    }),
    sendAlerts: adaptActivity(async (input: z.input<typeof alertsInput>): Promise<{ logged: number; posted: boolean }> => {
      const request = alertsInput.parse(input);
      const findings: Finding[] = request.findings;
      const { logged, posted } = await sendAlerts({ ...request, findings }, alertLogger(), { url: config.ALERT_WEBHOOK_URL });
      return { logged, posted };
    }),
  };
}
