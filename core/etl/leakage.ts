// A label-leakage screen for the feature store: a feature known at application time predicts a 6-month default
// only weakly, so one that separates defaulters almost perfectly on its own (univariate AUC far from 0.5) is a
// sign that information from the loan's later months got in. Used by tests and usable as a pre-training gate.
import type { DuckDBConnection } from '@duckdb/node-api';
import { queryRows, readParquet, sqlIdent } from '../duckdb.js';

export interface FeatureSeparation {
  feature: string;
  /** max(AUC, 1 - AUC) of the feature alone against the label (Mann–Whitney, ties count one half). */
  auc: number;
  n: number;
}

export const LEAKAGE_AUC_THRESHOLD = 0.9;

export async function featureSeparation(
  db: DuckDBConnection,
  featureFiles: string[],
  labelFiles: string[],
): Promise<FeatureSeparation[]> {
  await db.run(`CREATE OR REPLACE TEMP VIEW labelled AS
    SELECT f.*, l.label FROM ${readParquet(featureFiles)} AS f JOIN ${readParquet(labelFiles)} AS l USING (loan_id)`);
  const columns = await queryRows<{ name: string; type: string }>(
    db,
    `SELECT column_name AS name, column_type AS type FROM (DESCRIBE labelled)`,
  );
  const results: FeatureSeparation[] = [];
  for (const { name } of columns.filter((column) => column.type === 'DOUBLE')) {
    const x = sqlIdent(name);
    const [row] = await queryRows<{ auc: number | null; n: number }>(
      db,
      `WITH ranked AS (
         SELECT label, rank() OVER (ORDER BY ${x}) + (count(*) OVER (PARTITION BY ${x}) - 1) / 2.0 AS r
         FROM labelled WHERE ${x} IS NOT NULL
       ), totals AS (
         SELECT sum(r) FILTER (WHERE label = 1) AS rank_sum, count(*) FILTER (WHERE label = 1) AS n1,
                count(*) FILTER (WHERE label = 0) AS n0 FROM ranked
       )
       SELECT CASE WHEN n1 > 0 AND n0 > 0 THEN (rank_sum - n1 * (n1 + 1) / 2.0) / (n1 * n0) END AS auc, n1 + n0 AS n
       FROM totals`,
    );
    if (row?.auc !== null && row?.auc !== undefined) {
      results.push({ feature: name, auc: Math.max(row.auc, 1 - row.auc), n: row.n });
    }
  }
  return results.sort((a, b) => b.auc - a.auc);
}

/** Features whose univariate separation is too good to be known at application time. */
export async function suspectedLeaks(
  db: DuckDBConnection,
  featureFiles: string[],
  labelFiles: string[],
  threshold = LEAKAGE_AUC_THRESHOLD,
): Promise<FeatureSeparation[]> {
  return (await featureSeparation(db, featureFiles, labelFiles)).filter((entry) => entry.auc >= threshold);
}
