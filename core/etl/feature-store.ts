// Gold feature store (SPEC §2): one row per loan application of the month (the loan's installment_num = 0 row),
// with only what is known at the application date: that snapshot's attributes and financials, the loan amount and
// tenure of the application row, and the customer's latest clickstream row at or before the month within a
// 3-month lookback. Nothing from any later month is read, which is what keeps the label from leaking in.
import { datamart, partitionFile, type Source } from '../../lib/layout.js';
import type { Month } from '../../lib/months.js';
import { readParquet, sqlIdent, withDuckDB, writeParquetAtomic } from '../duckdb.js';
import type { Publish } from './partitions.js';
import { LOAN_TYPES } from './silver-sql.js';
import { CLICKSTREAM_FEATURE_COLUMNS } from './source-columns.js';

export const FEATURE_KEYS = ['loan_id', 'Customer_ID', 'snapshot_date'] as const;

const ATTRIBUTE_NUMERIC = ['Age'];
const FINANCIAL_NUMERIC = [
  'Annual_Income',
  'Monthly_Inhand_Salary',
  'Num_Bank_Accounts',
  'Num_Credit_Card',
  'Interest_Rate',
  'Num_of_Loan',
  ...Object.values(LOAN_TYPES),
  'Delay_from_due_date',
  'Num_of_Delayed_Payment',
  'Changed_Credit_Limit',
  'Num_Credit_Inquiries',
  'Outstanding_Debt',
  'Credit_Utilization_Ratio',
  'Credit_History_Age_months',
  'Total_EMI_per_month',
  'Amount_invested_monthly',
  'Monthly_Balance',
  'debt_to_income',
  'emi_to_salary',
  'invested_to_salary',
  'balance_to_salary',
  'debt_to_monthly_salary',
];
const FINANCIAL_CATEGORICAL = ['Credit_Mix', 'Payment_of_Min_Amount', 'spend_level', 'value_level'];

/** Feature columns of the store, in order, with the type training reads them as. */
export const FEATURE_COLUMNS: ReadonlyArray<{ name: string; type: 'DOUBLE' | 'VARCHAR' }> = [
  { name: 'loan_amt', type: 'DOUBLE' },
  { name: 'tenure', type: 'DOUBLE' },
  ...ATTRIBUTE_NUMERIC.map((name) => ({ name, type: 'DOUBLE' as const })),
  { name: 'Occupation', type: 'VARCHAR' },
  ...FINANCIAL_NUMERIC.map((name) => ({ name, type: 'DOUBLE' as const })),
  ...FINANCIAL_CATEGORICAL.map((name) => ({ name, type: 'VARCHAR' as const })),
  ...CLICKSTREAM_FEATURE_COLUMNS.map((name) => ({ name, type: 'DOUBLE' as const })),
  { name: 'clickstream_months_since', type: 'DOUBLE' },
];

/** The source each feature comes from: what data-quality monitoring groups coverage by. */
export const FEATURE_SOURCES: Readonly<Record<string, Source>> = Object.fromEntries([
  ...['loan_amt', 'tenure'].map((name) => [name, 'loan_daily']),
  ...[...ATTRIBUTE_NUMERIC, 'Occupation'].map((name) => [name, 'attributes']),
  ...[...FINANCIAL_NUMERIC, ...FINANCIAL_CATEGORICAL].map((name) => [name, 'financials']),
  ...[...CLICKSTREAM_FEATURE_COLUMNS, 'clickstream_months_since'].map((name) => [name, 'clickstream']),
]);

export interface FeatureStoreResult {
  month: Month;
  rows: number;
  path: string;
}

export function featureStoreFile(datamartDir: string, month: Month): string {
  return partitionFile(datamart.featureStore(datamartDir), month);
}

export function featureSelect(inputs: { loans: string; attributes: string; financials: string; clickstream: string[] }): string {
  return featureSelectFrom({
    loans: readParquet(inputs.loans),
    attributes: readParquet(inputs.attributes),
    financials: readParquet(inputs.financials),
    clickstream: readParquet(inputs.clickstream),
  });
}

/**
 * The feature-store SELECT over silver relations (SQL table expressions): silver loan_daily, attributes and financials
 * of the month, silver clickstream of the lookback months. The batch ETL reads them from Parquet, online scoring
 * (core/serving) from its micro-batch's records: one definition of the features for both.
 *
 * Two options leave out work that changes no feature value (online scoring, a handful of rows per execution, where
 * every operator's per-execution setup costs more than its rows): `orderByLoan: false` returns the rows unordered
 * (the caller matches them by loan_id), `rankApplicantsOnly: false` ranks every customer's clickstream rows instead
 * of only the applicants' (a semi join that pays off on a month of clickstream; the ranking is per customer and only
 * applicants' rows are joined, so the features are the same).
 */
export function featureSelectFrom(
  relations: { loans: string; attributes: string; financials: string; clickstream: string },
  options: { orderByLoan?: boolean; rankApplicantsOnly?: boolean } = {},
): string {
  const { orderByLoan = true, rankApplicantsOnly = true } = options;
  const double = (table: string, column: string) => `CAST(${table}.${sqlIdent(column)} AS DOUBLE) AS ${sqlIdent(column)}`;
  const text = (table: string, column: string) => `CAST(${table}.${sqlIdent(column)} AS VARCHAR) AS ${sqlIdent(column)}`;
  return `
    WITH applications AS (
      SELECT loan_id, Customer_ID, CAST(snapshot_date AS DATE) AS snapshot_date, loan_amt, tenure
      FROM ${relations.loans} WHERE installment_num = 0
    ), latest_click AS (
      -- Only the applicants' rows are ranked: a customer's rows are kept or dropped together, so each applicant's
      -- latest row is the one ranking them all would pick, without sorting every customer's lookback months.
      SELECT * FROM ${relations.clickstream}${rankApplicantsOnly ? `
      WHERE Customer_ID IN (SELECT Customer_ID FROM applications)` : ''}
      QUALIFY row_number() OVER (PARTITION BY Customer_ID ORDER BY snapshot_date DESC, source_line) = 1
    )
    SELECT app.loan_id, app.Customer_ID, app.snapshot_date,
      CAST(app.loan_amt AS DOUBLE) AS loan_amt, CAST(app.tenure AS DOUBLE) AS tenure,
      ${ATTRIBUTE_NUMERIC.map((c) => double('attr', c)).join(', ')},
      ${text('attr', 'Occupation')},
      ${FINANCIAL_NUMERIC.map((c) => double('fin', c)).join(',\n      ')},
      ${FINANCIAL_CATEGORICAL.map((c) => text('fin', c)).join(', ')},
      ${CLICKSTREAM_FEATURE_COLUMNS.map((c) => double('click', c)).join(', ')},
      CAST(date_diff('month', click.snapshot_date, app.snapshot_date) AS DOUBLE) AS clickstream_months_since
    FROM applications AS app
    LEFT JOIN ${relations.attributes} AS attr ON attr.Customer_ID = app.Customer_ID
    LEFT JOIN ${relations.financials} AS fin ON fin.Customer_ID = app.Customer_ID
    LEFT JOIN latest_click AS click ON click.Customer_ID = app.Customer_ID${orderByLoan ? `
    ORDER BY app.loan_id` : ''}`;
}

/**
 * Writes the feature-store partition `path` of `month` (through `publish`) from the silver partitions the table graph
 * (core/datamart/graph.ts) hands it: the month's ledger, attributes and financials, the clickstream lookback months.
 */
export async function buildFeatureStore(options: {
  month: Month;
  loans: string;
  attributes: string;
  financials: string;
  clickstream: string[];
  path: string;
  signal?: AbortSignal;
  publish: Publish;
}): Promise<FeatureStoreResult> {
  const { month, loans, attributes, financials, clickstream, path, signal, publish } = options;
  // LZ4: every scoring of the month decodes all of it (so do monitoring and training), and LZ4 decodes a 5,000-row month
  // ~2 ms of CPU cheaper than zstd (of a scoreMonth's ~40) for ~15% more bytes; the content is the same.
  const rows = await publish(() => withDuckDB((db) => writeParquetAtomic(db, featureSelect({ loans, attributes, financials, clickstream }), path, signal, 'lz4_raw')));
  return { month, rows, path };
}
