// Retraining outside monitoring's findings: the monthly policy (retrain once enough labelled months follow the
// production model's window, so a model that trips no threshold still learns from new months) and an operator's
// forced retrain (the cooldown does not apply; the log says so). Both write to the same decision log as monitoring.
import { datamart } from '../../lib/layout.js';
import { addMonths, compareMonths, type Month } from '../../lib/months.js';
import { withDuckDB } from '../duckdb.js';
import { latestLabelledMonth } from '../datamart/inventory.js';
import { matureApplicationMonths } from '../models/dataset.js';
import { readMetadata } from '../models/metadata.js';
import { readRegistry } from '../models/registry.js';
import { readDecisionLog, recordDecision, retrainInCooldown } from './governance.js';

export interface RetrainPolicySettings {
  datamartDir: string;
  modelBankDir: string;
  cooldownDays: number;
}

export interface RetrainPlan {
  retrain: boolean;
  reason: string;
  productionModelId: string | null;
  /** The label month to train as of (the latest with labels), when retraining. */
  trainAt: Month | null;
  newLabelledMonths: Month[];
}

/** How far back the latest label month is looked for. */
const LABEL_LOOKBACK_MONTHS = 120;

/** Whether the monthly policy retrains as of `asOf`: at least `minNew` labelled application months after the window. */
export async function planScheduledRetrain(settings: RetrainPolicySettings, asOf: Month, minNew: number): Promise<RetrainPlan> {
  const { production } = await readRegistry(settings.modelBankDir);
  if (!production) {
    return { retrain: false, reason: 'nothing new: no production model yet (the backfill trains the first one)', productionModelId: null, trainAt: null, newLabelledMonths: [] };
  }
  const metadata = await readMetadata(settings.modelBankDir, production);
  const windowEnd = metadata.windows.oot.to;
  const newLabelledMonths = (await matureApplicationMonths(settings.datamartDir, asOf)).filter((month) => compareMonths(month, windowEnd) > 0);
  const listed = newLabelledMonths.length > 0 ? ` (${newLabelledMonths.join(', ')})` : '';
  const facts = `${newLabelledMonths.length} labelled application month(s)${listed} after production ${production}'s window (ends ${windowEnd}) as of ${asOf}; the policy retrains from ${minNew}`;
  if (newLabelledMonths.length < minNew) {
    return { retrain: false, reason: `nothing new: ${facts}`, productionModelId: production, trainAt: null, newLabelledMonths };
  }
  const trainAt = await latestLabelledMonth(settings.datamartDir, addMonths(asOf, -LABEL_LOOKBACK_MONTHS), asOf);
  return { retrain: trainAt !== null, reason: `scheduled retrain: ${facts}`, productionModelId: production, trainAt, newLabelledMonths };
}

/** Logs an operator's forced retrain as `retrain_forced`, naming the cooldown it bypasses; returns the reason logged. */
export async function recordForcedRetrain(
  settings: RetrainPolicySettings,
  request: { asOf: Month | null; reason: string; workflowId: string; now: string },
): Promise<string> {
  const now = new Date(request.now);
  const log = await withDuckDB((db) => readDecisionLog(db, datamart.decisionLog(settings.datamartDir)));
  const recent = retrainInCooldown(log, now, settings.cooldownDays);
  const cooldown = recent
    ? `cooldown bypassed: a retrain was decided at ${recent.decided_at} (by ${recent.workflow_id}), within the ${settings.cooldownDays}-day cooldown`
    : `no retrain within the ${settings.cooldownDays}-day cooldown`;
  const { production } = await readRegistry(settings.modelBankDir);
  const reason = `forced retrain: ${request.reason}; ${cooldown}`;
  const already = log.find((decision) => decision.workflow_id === request.workflowId && decision.decided_at === now.toISOString());
  if (already) return already.reason; // a retried activity
  await recordDecision(settings.datamartDir, {
    decided_at: now.toISOString(),
    as_of: request.asOf ?? now.toISOString().slice(0, 7),
    model_id: production ?? '',
    action: 'retrain_forced',
    reason,
    findings_json: '[]',
    workflow_id: request.workflowId,
  });
  return reason;
}
