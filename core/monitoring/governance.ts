// Governance (SPEC §4): from the findings of the monitoring table to an action, at most one retrain per cooldown,
// every decision appended to gold/governance/decisions.parquet with its reason and the numbers behind it.
import type { DuckDBConnection } from '@duckdb/node-api';
import { stat } from 'node:fs/promises';
import {
  governanceDecisionSchema,
  type Finding,
  type GovernanceDecision,
  type MonitoringRow,
} from '../../lib/contracts.js';
import { datamart } from '../../lib/layout.js';
import type { Month } from '../../lib/months.js';
import { queryRows, sqlString, withDuckDB, writeParquetAtomic } from '../duckdb.js';
import { findingsOf, type Thresholds } from './status.js';
import { readMonitoringTable } from './table.js';

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
  const select = (await fileExists(path))
    ? `SELECT ${DECISION_COLUMNS.join(', ')} FROM (
         SELECT *, 0 AS part FROM read_parquet(${sqlString(path)}, file_row_number = true)
         UNION ALL BY NAME SELECT *, 1 AS part, 0::BIGINT AS file_row_number FROM (${newRow})
       ) ORDER BY part, file_row_number`
    : newRow;
  return writeParquetAtomic(db, select, path);
}

/** Decision-log writers in this process, one at a time: read-old-then-rename must not interleave. */
let logQueue: Promise<unknown> = Promise.resolve();
function serialized<T>(work: () => Promise<T>): Promise<T> {
  const result = logQueue.then(work, work);
  logQueue = result.catch(() => undefined);
  return result;
}

/** The latest retrain decision (any model: a retrain replaces the production model) within the cooldown before `now`. */
export function retrainInCooldown(log: readonly GovernanceDecision[], now: Date, cooldownDays: number): GovernanceDecision | null {
  let latest: GovernanceDecision | null = null;
  for (const decision of log) {
    if (decision.action !== 'retrain') continue;
    const age = now.getTime() - Date.parse(decision.decided_at);
    if (Number.isNaN(age) || age < 0 || age >= cooldownDays * DAY_MS) continue;
    if (!latest || Date.parse(decision.decided_at) > Date.parse(latest.decided_at)) latest = decision;
  }
  return latest;
}

function describe(findings: readonly Finding[]): string {
  return findings.map((finding) => finding.message).join('; ');
}

function summary(rows: readonly MonitoringRow[]): string {
  const latest = rows.at(-1);
  const mature = rows.filter((row) => row.auc !== null).at(-1);
  const parts = [latest ? `latest month ${latest.snapshot_date} PSI ${latest.psi.toFixed(4)}` : 'no scored month'];
  parts.push(mature && mature.auc !== null ? `latest mature AUC ${mature.auc.toFixed(4)} (${mature.snapshot_date})` : 'no mature month with labels');
  return parts.join(', ');
}

/** The action for these findings, given the log so far: pure, so the rule is tested on its own. */
export function chooseAction(
  findings: readonly Finding[],
  log: readonly GovernanceDecision[],
  now: Date,
  cooldownDays: number,
  context: string,
): { action: GovernanceAction; reason: string } {
  const critical = findings.filter((finding) => finding.severity === 'critical');
  if (critical.length > 0) {
    const recent = retrainInCooldown(log, now, cooldownDays);
    if (recent) {
      const days = ((now.getTime() - Date.parse(recent.decided_at)) / DAY_MS).toFixed(2);
      return {
        action: 'retrain_suppressed_cooldown',
        reason: `critical: ${describe(critical)}; retrain suppressed: a retrain was decided at ${recent.decided_at} (${days} days ago, by ${recent.workflow_id}), within the ${cooldownDays}-day cooldown`,
      };
    }
    return { action: 'retrain', reason: `critical: ${describe(critical)}` };
  }
  if (findings.length > 0) return { action: 'alert', reason: `warning: ${describe(findings)}` };
  return { action: 'no_action', reason: `no finding: ${context}` };
}

export interface GovernanceSettings {
  datamartDir: string;
  thresholds: Thresholds;
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

/**
 * Decides and logs. A retried activity (same workflow id, time, model and month already in the log) gets the decision
 * already written back instead of a second row, so a retry never doubles the log nor suppresses itself.
 */
export async function decideGovernance(settings: GovernanceSettings, input: GovernanceInput): Promise<GovernanceOutcome> {
  const now = new Date(input.now);
  if (Number.isNaN(now.getTime())) throw new Error(`now is not an ISO time: '${input.now}'`);
  const logPath = datamart.decisionLog(settings.datamartDir);
  return withDuckDB((db) =>
    serialized(async () => {
      const rows = await readMonitoringTable(db, datamart.monitoring(settings.datamartDir, input.modelId));
      const findings = findingsOf(rows, settings.thresholds);
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
      const { action, reason } = chooseAction(findings, log, now, settings.cooldownDays, summary(rows));
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
