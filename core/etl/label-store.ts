// Gold label store (SPEC §2): one row per loan reaching MOB 6 in the month, labelled 30dpd_6mob.
import { datamart, partitionFile } from '../../lib/layout.js';
import { type Month } from '../../lib/months.js';
import type { DuckDBConnection } from '@duckdb/node-api';
import { queryRows, queryValue, readParquet, withDuckDB, writeParquetAtomic } from '../duckdb.js';
import { isDeterministicSqlError, sourceDataError } from './source-errors.js';
import type { Publish } from './partitions.js';

export const LABEL_DEF = '30dpd_6mob';
export const LABEL_MOB = 6;
export const LABEL_DPD = 30;

export interface LabelStoreResult {
  month: Month;
  rows: number;
  defaults: number;
  path: string;
}

export function labelStoreFile(datamartDir: string, month: Month): string {
  return partitionFile(datamart.labelStore(datamartDir), month);
}

/** The label SQL over a relation of silver ledger rows (typed as silver writes them). */
export function labelSelect(ledger: string): string {
  return `
    WITH mob AS (
      SELECT loan_id, Customer_ID, loan_start_date, snapshot_date, overdue_amt,
        CASE WHEN due_amt = 0 THEN 0 ELSE CAST(ceil(overdue_amt / due_amt) AS INTEGER) END AS missed
      FROM ${ledger}
      WHERE installment_num = ${LABEL_MOB}
    )
    SELECT loan_id, Customer_ID,
      CAST(loan_start_date AS DATE) AS application_date,
      CAST(snapshot_date AS DATE) AS snapshot_date,
      CAST(CASE WHEN overdue_amt > 0
        THEN date_diff('day', CAST(snapshot_date - to_months(missed) AS DATE), snapshot_date) ELSE 0 END AS INTEGER) AS dpd,
      CAST(CASE WHEN overdue_amt > 0
        AND date_diff('day', CAST(snapshot_date - to_months(missed) AS DATE), snapshot_date) >= ${LABEL_DPD}
        THEN 1 ELSE 0 END AS INTEGER) AS label,
      '${LABEL_DEF}' AS label_def
    FROM mob
    ORDER BY loan_id`;
}

/**
 * Writes the label-store partition `path` of `month` (through `publish`) from the silver ledger of the same month: the
 * loans reaching MOB 6 then. `sourceFile` is the ledger CSV, named when a value makes the label SQL fail.
 */
export async function buildLabelStore(options: { month: Month; ledger: string; sourceFile: string; path: string; signal?: AbortSignal; publish: Publish }): Promise<LabelStoreResult> {
  const { month, ledger, sourceFile, path, signal, publish } = options;
  return withDuckDB(async (db) => {
    const rows = await publish(() => writeParquetAtomic(db, labelSelect(readParquet(ledger)), path, signal)).catch(async (error: unknown) => {
      if (!isDeterministicSqlError(error)) throw error;
      throw await sourceDataError({ error, file: sourceFile, month, column: 'overdue_amt / due_amt', firstLine: () => firstFailingLine(db, readParquet(ledger)) });
    });
    const defaults = await queryValue<number>(db, `SELECT coalesce(sum(label), 0) FROM ${readParquet(path)}`);
    return { month, rows, defaults, path };
  });
}

/** The first ledger line (instalment 6, file order) on which the label SQL alone fails; undefined when none does. */
async function firstFailingLine(db: DuckDBConnection, ledger: string): Promise<number | undefined> {
  const lines = await queryRows<{ line: number }>(db, `SELECT source_line AS line FROM ${ledger} WHERE installment_num = ${LABEL_MOB} ORDER BY 1`);
  for (const { line } of lines) {
    try {
      // Every column read back: a count alone would let the optimizer skip the failing expression.
      await queryRows(db, labelSelect(`(SELECT * FROM ${ledger} WHERE source_line = ${Number(line)})`));
    } catch (error) {
      if (isDeterministicSqlError(error)) return Number(line);
      throw error;
    }
  }
  return undefined;
}
