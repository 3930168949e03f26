// gold/governance/promotions.parquet (SPEC §4b): every promotion decision (gate, governance, operator) with the paired
// evidence it rests on. Append-only in content, rewritten atomically (old rows in order + the new one → temp → rename),
// one writer at a time in this process. A retried activity that appends the same decision (same time, decider, action
// and candidate) finds it already there and adds nothing.
import type { DuckDBConnection } from '@duckdb/node-api';
import { stat } from 'node:fs/promises';
import { datamart } from '../../lib/layout.js';
import { promotionDecisionSchema, type PromotionDecision } from '../../lib/contracts.js';
import { appendedLogSelect, queryRows, sqlString, withDuckDB, writeParquetAtomic } from '../duckdb.js';

const COLUMN_TYPES: Record<keyof PromotionDecision, 'VARCHAR' | 'DOUBLE' | 'BIGINT'> = {
  decided_at: 'VARCHAR',
  decided_by: 'VARCHAR',
  action: 'VARCHAR',
  candidate_model_id: 'VARCHAR',
  production_model_id: 'VARCHAR',
  months_compared: 'VARCHAR',
  n_rows: 'BIGINT',
  candidate_auc: 'DOUBLE',
  production_auc: 'DOUBLE',
  auc_diff: 'DOUBLE',
  auc_diff_low: 'DOUBLE',
  auc_diff_high: 'DOUBLE',
  p_value: 'DOUBLE',
  reason: 'VARCHAR',
};
export const PROMOTION_COLUMNS = Object.keys(COLUMN_TYPES) as Array<keyof PromotionDecision>;

async function fileExists(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}

function literal(value: string | number | null, type: string): string {
  if (value === null) return `NULL::${type}`;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`a promotion decision holds a non-finite number (${value})`);
    return `${value}::${type}`;
  }
  return `${sqlString(value)}::${type}`;
}

async function readRows(db: DuckDBConnection, path: string): Promise<PromotionDecision[]> {
  if (!(await fileExists(path))) return [];
  const rows = await queryRows(
    db,
    `SELECT ${PROMOTION_COLUMNS.join(', ')} FROM read_parquet(${sqlString(path)}, file_row_number = true) ORDER BY file_row_number`,
  );
  return rows.map((row, index) => {
    const parsed = promotionDecisionSchema.safeParse(row);
    if (!parsed.success) throw new Error(`${path}: row ${index + 1} is not a promotion decision: ${parsed.error.issues[0]?.message ?? ''}`);
    return parsed.data;
  });
}

/** Every promotion decision in the order it was written; empty when there is none yet. */
export function readPromotionLog(datamartDir: string): Promise<PromotionDecision[]> {
  return withDuckDB((db) => readRows(db, datamart.promotionLog(datamartDir)));
}

let queue: Promise<unknown> = Promise.resolve();
function serialized<T>(work: () => Promise<T>): Promise<T> {
  const result = queue.then(work, work);
  queue = result.catch(() => undefined);
  return result;
}

const sameDecision = (a: PromotionDecision, b: PromotionDecision) =>
  a.decided_at === b.decided_at && a.decided_by === b.decided_by && a.action === b.action && a.candidate_model_id === b.candidate_model_id;

/** Appends one decision (unless the same one is already there); returns the log's row count. */
export function appendPromotionDecision(datamartDir: string, decision: PromotionDecision): Promise<number> {
  const valid = promotionDecisionSchema.parse(decision);
  const path = datamart.promotionLog(datamartDir);
  return withDuckDB((db) =>
    serialized(async () => {
      const existing = await readRows(db, path);
      if (existing.some((row) => sameDecision(row, valid))) return existing.length;
      const newRow = `SELECT ${PROMOTION_COLUMNS.map((column) => `${literal(valid[column], COLUMN_TYPES[column])} AS ${column}`).join(', ')}`;
      return writeParquetAtomic(db, appendedLogSelect(existing.length > 0 ? path : null, PROMOTION_COLUMNS, newRow), path);
    }),
  );
}
