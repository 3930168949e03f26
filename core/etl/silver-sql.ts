// The silver SELECT of each source, over a view `bronze` of one month. Each returns source_line, the typed silver
// columns and `row_problem` (NULL when the row is acceptable); keys and duplicates are checked by silver.ts.
import type { Source } from '../../lib/layout.js';
import { sqlIdent, sqlString } from '../duckdb.js';
import { STRPTIME_FORMAT, type DateSpelling } from './date-spelling.js';
import { CLICKSTREAM_FEATURE_COLUMNS } from './source-columns.js';
import { NUMERIC_COLUMNS } from '../../lib/column-ranges.js';

/** A numeric column typed and held to its range (lib/column-ranges.ts): NULL outside it, Infinity included. */
export function rangedNumber(source: Source, column: string, raw = sqlIdent(column)): string {
  const range = NUMERIC_COLUMNS[source][column];
  if (!range) throw new Error(`${source}.${column} has no range in lib/column-ranges.ts`);
  return `etl_range(${range.kind === 'int' ? 'etl_int' : 'etl_num'}(${raw}), ${range.min}, ${range.max})`;
}

export interface SilverDefinition {
  /** Columns identifying a row within a month: a missing one or a repeat quarantines the row. */
  keys: string[];
  select: (context: { snapshotDate: string; dateSpelling: DateSpelling }) => string;
}

export const LOAN_TYPES: Record<string, string> = {
  'Auto Loan': 'loans_auto',
  'Credit-Builder Loan': 'loans_credit_builder',
  'Debt Consolidation Loan': 'loans_debt_consolidation',
  'Home Equity Loan': 'loans_home_equity',
  'Mortgage Loan': 'loans_mortgage',
  'Payday Loan': 'loans_payday',
  'Personal Loan': 'loans_personal',
  'Student Loan': 'loans_student',
  'Not Specified': 'loans_not_specified',
};

const attributes: SilverDefinition = {
  keys: ['Customer_ID'],
  select: ({ snapshotDate }) => `
    SELECT source_line,
      etl_customer(Customer_ID) AS Customer_ID,
      etl_text(Name) AS Name,
      ${rangedNumber('attributes', 'Age')} AS Age,
      CASE WHEN regexp_full_match(trim(SSN), '[0-9]{3}-[0-9]{2}-[0-9]{4}') THEN trim(SSN) END AS SSN,
      CASE WHEN regexp_full_match(etl_text(Occupation), '[A-Za-z][A-Za-z_ -]*') THEN etl_text(Occupation) END AS Occupation,
      DATE ${sqlString(snapshotDate)} AS snapshot_date,
      CAST(NULL AS VARCHAR) AS row_problem
    FROM bronze`,
};

// Bounds outside which a value is a data-entry artefact (lib/column-ranges.ts: the real data has 1,741 bank accounts,
// 5,521 % interest, -100 loans): such a value becomes NULL, the row is kept (silver.ts counts them per column).
const financials: SilverDefinition = {
  keys: ['Customer_ID'],
  select: ({ snapshotDate }) => {
    // Loan types are counted from a list split once per row (in `listed`), not re-split per type.
    const loanCounts = Object.entries(LOAN_TYPES).map(
      ([type, column]) => `CASE WHEN loan_items IS NOT NULL
              THEN CAST(list_count(list_filter(loan_items, lambda t: t = ${sqlString(type)})) AS INTEGER)
            WHEN Num_of_Loan = 0 THEN 0 END AS ${column}`,
    );
    return `
    WITH parsed AS (
      SELECT *, list_transform(string_split(replace(etl_text(Type_of_Loan), ', and ', ', '), ', '), lambda t: trim(t)) AS loan_items
      FROM bronze
    ), typed AS (
      SELECT source_line,
        etl_customer(Customer_ID) AS Customer_ID,
        ${rangedNumber('financials', 'Annual_Income')} AS Annual_Income,
        ${rangedNumber('financials', 'Monthly_Inhand_Salary')} AS Monthly_Inhand_Salary,
        ${rangedNumber('financials', 'Num_Bank_Accounts')} AS Num_Bank_Accounts,
        ${rangedNumber('financials', 'Num_Credit_Card')} AS Num_Credit_Card,
        ${rangedNumber('financials', 'Interest_Rate')} AS Interest_Rate,
        ${rangedNumber('financials', 'Num_of_Loan')} AS Num_of_Loan,
        etl_text(Type_of_Loan) AS Type_of_Loan,
        ${rangedNumber('financials', 'Delay_from_due_date')} AS Delay_from_due_date,
        ${rangedNumber('financials', 'Num_of_Delayed_Payment')} AS Num_of_Delayed_Payment,
        ${rangedNumber('financials', 'Changed_Credit_Limit')} AS Changed_Credit_Limit,
        ${rangedNumber('financials', 'Num_Credit_Inquiries')} AS Num_Credit_Inquiries,
        CASE WHEN trim(Credit_Mix) IN ('Good', 'Standard', 'Bad') THEN trim(Credit_Mix) END AS Credit_Mix,
        ${rangedNumber('financials', 'Outstanding_Debt')} AS Outstanding_Debt,
        ${rangedNumber('financials', 'Credit_Utilization_Ratio')} AS Credit_Utilization_Ratio,
        CASE WHEN regexp_full_match(trim(Credit_History_Age), '[0-9]+ Years and [0-9]+ Months')
          THEN CAST(regexp_extract(trim(Credit_History_Age), '^([0-9]+) Years', 1) AS INTEGER) * 12
             + CAST(regexp_extract(trim(Credit_History_Age), 'and ([0-9]+) Months$', 1) AS INTEGER) END AS Credit_History_Age_months,
        CASE WHEN trim(Payment_of_Min_Amount) IN ('Yes', 'No', 'NM') THEN trim(Payment_of_Min_Amount) END AS Payment_of_Min_Amount,
        ${rangedNumber('financials', 'Total_EMI_per_month')} AS Total_EMI_raw,
        ${rangedNumber('financials', 'Amount_invested_monthly')} AS Amount_invested_monthly,
        nullif(regexp_extract(trim(Payment_Behaviour), '^(Low|High)_spent_(Small|Medium|Large)_value_payments$', 1), '') AS spend_level,
        nullif(regexp_extract(trim(Payment_Behaviour), '^(Low|High)_spent_(Small|Medium|Large)_value_payments$', 2), '') AS value_level,
        ${rangedNumber('financials', 'Monthly_Balance')} AS Monthly_Balance,
        loan_items
      FROM parsed
    ), plausible AS (
      -- An EMI above the monthly take-home pay is not credible (the real data has 81,760 against ~5,000).
      SELECT * EXCLUDE (Total_EMI_raw, loan_items),
        ${loanCounts.join(',\n        ')},
        CASE WHEN Monthly_Inhand_Salary IS NULL OR Total_EMI_raw <= Monthly_Inhand_Salary THEN Total_EMI_raw END AS Total_EMI_per_month
      FROM typed
    )
    SELECT *,
      etl_ratio(Outstanding_Debt, Annual_Income) AS debt_to_income,
      etl_ratio(Total_EMI_per_month, Monthly_Inhand_Salary) AS emi_to_salary,
      etl_ratio(Amount_invested_monthly, Monthly_Inhand_Salary) AS invested_to_salary,
      etl_ratio(Monthly_Balance, Monthly_Inhand_Salary) AS balance_to_salary,
      etl_ratio(Outstanding_Debt, Monthly_Inhand_Salary) AS debt_to_monthly_salary,
      DATE ${sqlString(snapshotDate)} AS snapshot_date,
      CAST(NULL AS VARCHAR) AS row_problem
    FROM plausible`;
  },
};

const clickstream: SilverDefinition = {
  keys: ['Customer_ID'],
  select: ({ snapshotDate }) => `
    SELECT source_line,
      etl_customer(Customer_ID) AS Customer_ID,
      ${CLICKSTREAM_FEATURE_COLUMNS.map((column) => `${rangedNumber('clickstream', column)} AS ${sqlIdent(column)}`).join(', ')},
      DATE ${sqlString(snapshotDate)} AS snapshot_date,
      CAST(NULL AS VARCHAR) AS row_problem
    FROM bronze`,
};

// The ledger feeds the label: an unreadable or negative amount cannot become NULL quietly, the row is quarantined.
const LEDGER_AMOUNTS = ['loan_amt', 'due_amt', 'paid_amt', 'overdue_amt', 'balance'];

const loanDaily: SilverDefinition = {
  keys: ['loan_id', 'installment_num'],
  select: ({ snapshotDate, dateSpelling }) => {
    const outOfRange = (column: string) => {
      const { min, max } = NUMERIC_COLUMNS.loan_daily[column];
      // NOT BETWEEN is true for Infinity (an overflowing field) as for any finite value outside the bounds.
      return `WHEN NOT (${sqlIdent(column)} BETWEEN ${min} AND ${max}) THEN ${sqlString(`${column} out of range [${min}, ${max}]`)}`;
    };
    const problems = [
      `WHEN tenure IS NULL OR tenure <= 0 THEN 'tenure missing, unreadable or not positive'`,
      outOfRange('tenure'),
      ...LEDGER_AMOUNTS.flatMap((column) => [
        `WHEN ${column} IS NULL THEN ${sqlString(`${column} missing or unreadable`)}`,
        `WHEN ${column} < 0 THEN ${sqlString(`negative ${column}`)}`,
        outOfRange(column),
      ]),
      `WHEN loan_start_date IS NULL THEN 'loan_start_date missing or not in the file''s date spelling'`,
      `WHEN date_add(loan_start_date, INTERVAL (installment_num) MONTH) <> snapshot_date
         THEN 'snapshot_date is not loan_start_date + installment_num months'`,
    ];
    return `
    WITH typed AS (
      SELECT source_line,
        etl_text(loan_id) AS loan_id,
        etl_customer(Customer_ID) AS Customer_ID,
        CAST(try_strptime(trim(loan_start_date), ${sqlString(STRPTIME_FORMAT[dateSpelling])}) AS DATE) AS loan_start_date,
        etl_int(tenure) AS tenure,
        ${rangedNumber('loan_daily', 'installment_num')} AS installment_num,
        ${LEDGER_AMOUNTS.map((column) => `etl_num(${sqlIdent(column)}) AS ${sqlIdent(column)}`).join(', ')},
        DATE ${sqlString(snapshotDate)} AS snapshot_date
      FROM bronze
    )
    SELECT *, CASE WHEN Customer_ID IS NULL THEN 'Customer_ID missing or invalid' ${problems.join('\n      ')} END AS row_problem
    FROM typed`;
  },
};

export const SILVER_DEFINITIONS: Record<Source, SilverDefinition> = {
  attributes,
  financials,
  clickstream,
  loan_daily: loanDaily,
};
