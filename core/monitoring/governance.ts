// Governance (SPEC §4): from the findings of the monitoring table to an action, at most one retrain per cooldown,
// every decision appended to gold/governance/decisions.parquet with its reason and the numbers behind it.
import type { DuckDBConnection } from '@duckdb/node-api';
import { stat } from 'node:fs/promises';
import {
  RETRAIN_ACTIONS,
  governanceDecisionSchema,
  type Finding,
  type GovernanceDecision,
  type ModelMetadata,
  type MonitoringRow,
} from '../../lib/contracts.js';
import { datamart } from '../../lib/layout.js';
import { compareMonths, snapshotDate, type Month } from '../../lib/months.js';
import { changedTrainingData } from '../models/staleness.js';
import { matureApplicationMonths } from '../models/dataset.js';
import { readMetadata } from '../models/metadata.js';
import { readRegistry } from '../models/registry.js';
import { dataFindingsOf, freshnessFinding, sourceFindings } from './data-quality.js';
import { calibrationFindingsOf, estimatedPerformanceFindingsOf } from './estimated-findings.js';
import { appendedLogSelect, queryRows, sqlString, withDuckDB, writeParquetAtomic } from '../duckdb.js';
import { findingsOf } from './status.js';
import { readMonitoringTable, type MonitoringSettings } from './table.js';
import { readOnlineSkewTable, skewFindingsOf } from './online-skew.js';

export type GovernanceAction = GovernanceDecision['action'];

const DAY_MS = 24 * 60 * 60 * 1000;
const DECISION_COLUMNS = ['decided_at', 'as_of', 'model_id', 'action', 'reason', 'findings_json', 'workflow_id'] as const;

async function fileExists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** The decision log in the order it was written, validated; empty when there is none yet. */
export async function readDecisionLog(db: DuckDBConnection, path: string): Promise<GovernanceDecision[]> {
  if (!(await fileExists(path))) return [];
  const rows = await queryRows(
    db,
    `SELECT * EXCLUDE (file_row_number) FROM read_parquet(${sqlString(path)}, file_row_number = true) ORDER BY file_row_number`,
  );
  return rows.map((row, index) => {
    const parsed = governanceDecisionSchema.safeParse(row);
    if (!parsed.success) {
      throw new Error(`${path}: row ${index + 1} is not a governance decision: ${parsed.error.issues[0]?.message ?? ''}`);
    }
    return parsed.data;
  });
}

/** Appends one decision: old rows (in their order) + the new one → temporary file → rename. Returns the new row count. */
export async function appendDecision(db: DuckDBConnection, path: string, decision: GovernanceDecision): Promise<number> {
  const valid = governanceDecisionSchema.parse(decision);
  const newRow = `SELECT ${DECISION_COLUMNS.map((column) => `${sqlString(valid[column])}::VARCHAR AS ${column}`).join(', ')}`;
  return writeParquetAtomic(db, appendedLogSelect((await fileExists(path)) ? path : null, DECISION_COLUMNS, newRow), path);
}

/** Decision-log writers in this process, one at a time: read-old-then-rename must not interleave. */
let logQueue: Promise<unknown> = Promise.resolve();
function serialized<T>(work: () => Promise<T>): Promise<T> {
  const result = logQueue.then(work, work);
  logQueue = result.catch(() => undefined);
  return result;
}

/**
 * The latest decision that started a training (monitoring's, an operator's forced one, the monthly policy's; any model:
 * a retrain replaces the production model) within the cooldown before `now`.
 */
export function retrainInCooldown(log: readonly GovernanceDecision[], now: Date, cooldownDays: number): GovernanceDecision | null {
  let latest: GovernanceDecision | null = null;
  for (const decision of log) {
    if (!RETRAIN_ACTIONS.includes(decision.action)) continue;
    const age = now.getTime() - Date.parse(decision.decided_at);
    if (Number.isNaN(age) || age < 0 || age >= cooldownDays * DAY_MS) continue;
    if (!latest || Date.parse(decision.decided_at) > Date.parse(latest.decided_at)) latest = decision;
  }
  return latest;
}

function describe(findings: readonly Finding[]): string {
  return findings.map((finding) => finding.message).join('; ');
}

/** The out-of-sample numbers a "no finding" decision rests on. */
function summary(rows: readonly MonitoringRow[]): string {
  const after = rows.filter((row) => row.window === 'after');
  const latest = after.at(-1);
  const mature = after.filter((row) => row.auc !== null).at(-1);
  const parts = [latest ? `latest out-of-sample month ${latest.snapshot_date} PSI ${latest.psi.toFixed(4)}` : 'no out-of-sample month scored yet'];
  parts.push(mature && mature.auc !== null ? `latest mature AUC ${mature.auc.toFixed(4)} (${mature.snapshot_date})` : 'no mature out-of-sample month');
  return parts.join(', ');
}

/** What a retrain could learn from: labelled application months after the model's training window. */
export interface RetrainPotential {
  /** The model's OOT window end: the last month it learnt from or was judged on. */
  windowEnd: Month;
  /** Labelled application months after windowEnd, as of the decision. */
  newLabelledMonths: Month[];
}

/**
 * The action for these findings, given the log so far: pure, so the rule is tested on its own. Data and skew findings
 * are alerted and never retrain (an upstream gap, or a serving path scoring otherwise than the batch path, is not
 * something the model can learn away), and so are calibration findings (the remedy is a recalibration); a critical
 * drift, performance or estimated-performance finding (the last only when ESTIMATED_PERFORMANCE_ACTION=retrain) retrains
 * only when new labelled months exist (otherwise the retrain would learn from the same months) and no retrain started
 * within the cooldown.
 */
export function chooseAction(
  findings: readonly Finding[],
  log: readonly GovernanceDecision[],
  now: Date,
  cooldownDays: number,
  context: string,
  potential: RetrainPotential,
): { action: GovernanceAction; reason: string } {
  const data = findings.filter((finding) => finding.kind === 'data');
  const skew = findings.filter((finding) => finding.kind === 'skew');
  const calibration = findings.filter((finding) => finding.kind === 'calibration');
  // An estimated drop is judged with the model's findings: a warning alerts; critical (ESTIMATED_PERFORMANCE_ACTION=retrain) retrains.
  const model = findings.filter((finding) => finding.kind === 'drift' || finding.kind === 'performance' || finding.kind === 'performance_estimated');
  const critical = model.filter((finding) => finding.severity === 'critical');
  const dataNote = data.length > 0 ? `; data: ${describe(data)} (data findings are alerted, never retrained on)` : '';
  const calibrationNote = calibration.length > 0 ? `; calibration: ${describe(calibration)} (alerted: recalibrate, never retrained on)` : '';
  const skewNote = (skew.length > 0 ? `; skew: ${describe(skew)} (alerted, never retrained on)` : '') + calibrationNote;
  if (critical.length > 0) {
    if (potential.newLabelledMonths.length === 0) {
      return {
        action: 'retrain_not_useful',
        reason: `critical: ${describe(critical)}; no retrain: no labelled application month after the model's window (ends ${potential.windowEnd}), a retrain would learn from the same months${dataNote}${skewNote}`,
      };
    }
    const recent = retrainInCooldown(log, now, cooldownDays);
    if (recent) {
      const days = ((now.getTime() - Date.parse(recent.decided_at)) / DAY_MS).toFixed(2);
      return {
        action: 'retrain_suppressed_cooldown',
        reason: `critical: ${describe(critical)}; retrain suppressed: a retrain was decided at ${recent.decided_at} (${days} days ago, by ${recent.workflow_id}), within the ${cooldownDays}-day cooldown${dataNote}${skewNote}`,
      };
    }
    return { action: 'retrain', reason: `critical: ${describe(critical)}${dataNote}${skewNote}` };
  }
  if (model.length > 0) return { action: 'alert', reason: `warning: ${describe(model)}${dataNote}${skewNote}` };
  if (data.length > 0) {
    return { action: 'alert', reason: `data: ${describe(data)}; no retrain: data findings are upstream problems a retrain cannot fix${skewNote}` };
  }
  if (skew.length > 0) {
    return {
      action: 'alert',
      reason: `skew: ${describe(skew)}; no retrain: training-serving skew is not concept drift, the online path must score as the batch path does${calibrationNote}`,
    };
  }
  if (calibration.length > 0) {
    return {
      action: 'alert',
      reason: `calibration: ${describe(calibration)}; no retrain: the ranking may hold, the probabilities need a recalibration on recent labelled months`,
    };
  }
  return { action: 'no_action', reason: `no finding: ${context}` };
}

/** Monitoring's settings, and how long after a retrain governance waits before it retrains again. */
export interface GovernanceSettings extends MonitoringSettings {
  cooldownDays: number;
}

export interface GovernanceInput {
  asOf: Month;
  modelId: string;
  workflowId: string;
  /** ISO time from the workflow, so a replayed or retried decision sees the same clock. */
  now: string;
}

export interface GovernanceOutcome {
  action: GovernanceAction;
  reason: string;
  findings: Finding[];
}

/** Appends a decision, serialized with every other writer of the log in this process. */
export async function recordDecision(datamartDir: string, decision: GovernanceDecision): Promise<void> {
  await withDuckDB((db) => serialized(() => appendDecision(db, datamart.decisionLog(datamartDir), decision)));
}

/**
 * Decides and logs. Only the production model is governed: another model's monitoring is written and its findings
 * returned, but the decision is `monitor_only` and never a retrain. A retried activity (same workflow id, time, model
 * and month already in the log) gets the decision already written back instead of a second row, so a retry never
 * doubles the log nor suppresses itself.
 */
export async function decideGovernance(settings: GovernanceSettings, input: GovernanceInput): Promise<GovernanceOutcome> {
  const now = new Date(input.now);
  if (Number.isNaN(now.getTime())) throw new Error(`now is not an ISO time: '${input.now}'`);
  const logPath = datamart.decisionLog(settings.datamartDir);
  const metadata = await readMetadata(settings.modelBankDir, input.modelId);
  const { production } = await readRegistry(settings.modelBankDir);
  const labelled = await matureApplicationMonths(settings.datamartDir, input.asOf);
  const potential: RetrainPotential = {
    windowEnd: metadata.windows.oot.to,
    newLabelledMonths: labelled.filter((month) => compareMonths(month, metadata.windows.oot.to) > 0),
  };
  const stale = await staleTrainingDataFinding(settings.datamartDir, metadata, production, input.asOf);
  return withDuckDB((db) =>
    serialized(async () => {
      const rows = await readMonitoringTable(db, datamart.monitoring(settings.datamartDir, input.modelId));
      const online = await readOnlineSkewTable(db, datamart.monitoringOnline(settings.datamartDir, input.modelId));
      const findings = [
        ...dataFindingsOf(rows, settings.dataQuality),
        ...(await sourceFindings(db, settings.datamartDir, input.asOf, settings.dataQuality)),
        ...findingsOf(rows, settings.thresholds),
        ...skewFindingsOf(online, settings.skew),
        ...(await freshnessFinding(db, settings.datamartDir, input.asOf, settings.dataQuality)),
        ...estimatedPerformanceFindingsOf(rows, metadata, settings.estimation),
        ...calibrationFindingsOf(rows, settings.estimation),
        ...stale,
      ];
      const log = await readDecisionLog(db, logPath);
      const decidedAt = now.toISOString();
      const already = log.find(
        (decision) =>
          decision.workflow_id === input.workflowId &&
          decision.decided_at === decidedAt &&
          decision.model_id === input.modelId &&
          decision.as_of === input.asOf,
      );
      if (already) return { action: already.action, reason: already.reason, findings };
      const { action, reason } =
        production === input.modelId
          ? chooseAction(findings, log, now, settings.cooldownDays, summary(rows), potential)
          : {
              action: 'monitor_only' as const,
              reason: `${input.modelId} is not the production model (${production ?? 'none'}): monitoring written, governance acts on the production model only${findings.length > 0 ? `; findings: ${describe(findings)}` : ''}`,
            };
      await appendDecision(db, logPath, {
        decided_at: decidedAt,
        as_of: input.asOf,
        model_id: input.modelId,
        action,
        reason,
        findings_json: JSON.stringify(findings),
        workflow_id: input.workflowId,
      });
      return { action, reason, findings };
    }),
  );
}

/**
 * A `data` finding when the model's training data is no longer what the datamart holds (a gold partition it was trained
 * on was rebuilt from other source data): `production_stale` for the production model. Alerted and logged like every
 * data finding; what brings production back to the data is the next training on it (the backfill's), which goes
 * through the gate even when its model exists already.
 */
async function staleTrainingDataFinding(datamartDir: string, metadata: ModelMetadata, production: string | null, asOf: Month): Promise<Finding[]> {
  if (!metadata.training_lineage) return [];
  const changed = await changedTrainingData(datamartDir, metadata.training_lineage);
  if (changed.length === 0) return [];
  const shown = changed.slice(0, 4).join(', ') + (changed.length > 4 ? ` and ${changed.length - 4} more` : '');
  const isProduction = production === metadata.model_id;
  return [
    {
      severity: 'warning',
      kind: 'data',
      metric: isProduction ? 'production_stale' : 'training_data_stale',
      snapshot_date: snapshotDate(asOf),
      value: changed.length,
      threshold: 0,
      message:
        `${isProduction ? 'production model ' : ''}${metadata.model_id} was trained on data no longer current: ${shown} changed since; ` +
        'the next training on the current data (npm run backfill) goes through the promotion gate',
    },
  ];
}
