// The numeric columns of the sources and the finite range each must lie in: one table, read by the silver SQL
// (core/etl/silver-sql.ts, batch) and by the scoring API's request schema (core/serving/request.ts), and rendered into
// docs/bad-input.md (scripts/docs/bad-input.ts). A value outside its range, or one too large to be a finite number
// (a 400-digit field is Infinity once cast), is never kept as a number: a `null` column keeps the row with the value
// NULL (counted per column, see core/etl/silver.ts); a `quarantine` column sends the row to quarantine with a reason
// (the ledger feeds the label: a guessed amount would be a guessed label). Pure: the API's zod schema imports it.
import type { Source } from './layout.js';

export interface NumericColumn {
  /** `int`: whole numbers of at most 9 digits; `num`: decimals. */
  kind: 'int' | 'num';
  min: number;
  max: number;
  /** What happens to a row whose value is outside [min, max] or unreadable. */
  outside: 'null' | 'quarantine';
  /** Why these bounds (shown in the docs). */
  why: string;
}

const clickstreamFeature: NumericColumn = {
  kind: 'num',
  min: -100_000,
  max: 100_000,
  outside: 'null',
  why: 'the real data spans about -400..600; a value 100× beyond that is not a measurement',
};

const amount = (why: string): NumericColumn => ({ kind: 'num', min: 0, max: 1_000_000_000, outside: 'quarantine', why });

export const NUMERIC_COLUMNS: { readonly [S in Source]: Readonly<Record<string, NumericColumn>> } = {
  attributes: {
    Age: { kind: 'int', min: 18, max: 100, outside: 'null', why: 'applicants are adults; the real data has ages of 8,000 and -500' },
  },
  financials: {
    Annual_Income: { kind: 'num', min: 1, max: 300_000, outside: 'null', why: 'the real incomes reach ~180,000; larger ones are typing artefacts (an extra digit run)' },
    Monthly_Inhand_Salary: { kind: 'num', min: 1, max: 25_000, outside: 'null', why: 'consistent with the income bound' },
    Num_Bank_Accounts: { kind: 'int', min: 0, max: 20, outside: 'null', why: 'the real data has 1,741 accounts: data-entry artefacts' },
    Num_Credit_Card: { kind: 'int', min: 0, max: 20, outside: 'null', why: 'as for bank accounts' },
    Interest_Rate: { kind: 'num', min: 0, max: 50, outside: 'null', why: 'a percentage; the real data has 5,521 %' },
    Num_of_Loan: { kind: 'int', min: 0, max: 20, outside: 'null', why: 'the real data has -100 loans' },
    Delay_from_due_date: { kind: 'int', min: -30, max: 120, outside: 'null', why: 'days; early payment is negative' },
    Num_of_Delayed_Payment: { kind: 'int', min: 0, max: 50, outside: 'null', why: 'a count over the credit history' },
    Changed_Credit_Limit: { kind: 'num', min: -100, max: 100, outside: 'null', why: 'a percentage change' },
    Num_Credit_Inquiries: { kind: 'int', min: 0, max: 50, outside: 'null', why: 'a count' },
    Outstanding_Debt: { kind: 'num', min: 0, max: 1_000_000, outside: 'null', why: 'consistent with the income bound' },
    Credit_Utilization_Ratio: { kind: 'num', min: 0, max: 100, outside: 'null', why: 'a percentage' },
    Total_EMI_per_month: { kind: 'num', min: 0, max: 1_000_000, outside: 'null', why: 'also NULL when above the monthly take-home pay' },
    Amount_invested_monthly: { kind: 'num', min: 0, max: 1_000_000, outside: 'null', why: 'consistent with the income bound' },
    Monthly_Balance: { kind: 'num', min: -1_000_000, max: 1_000_000, outside: 'null', why: 'may be negative' },
  },
  clickstream: Object.fromEntries(Array.from({ length: 20 }, (_, index) => [`fe_${index + 1}`, clickstreamFeature])),
  loan_daily: {
    tenure: { kind: 'int', min: 1, max: 600, outside: 'quarantine', why: 'months; 50 years at most' },
    installment_num: { kind: 'int', min: 0, max: 1000, outside: 'quarantine', why: 'part of the row key' },
    loan_amt: amount('money; the label divides overdue by due amounts'),
    due_amt: amount('money'),
    paid_amt: amount('money'),
    overdue_amt: amount('money; the label counts missed instalments from it'),
    balance: amount('money'),
  },
};

/** The range of one column, or undefined when the column is not numeric. */
export function numericColumn(source: Source, column: string): NumericColumn | undefined {
  return NUMERIC_COLUMNS[source][column];
}

/**
 * The number a raw field holds under the batch cleaning's rules (core/etl/cleaning-sql.ts: optional sign, digits,
 * optional decimals, trailing '_' and surrounding blanks ignored), or null when it is not number-shaped (a
 * placeholder or text; cleaning makes those NULL). A number-shaped field may still be Infinity (400 digits).
 */
export function numberShaped(raw: string, kind: NumericColumn['kind']): number | null {
  const match = (kind === 'int' ? /^\s*(-?[0-9]+)_*\s*$/ : /^\s*(-?[0-9]+(\.[0-9]+)?)_*\s*$/).exec(raw);
  return match ? Number(match[1]) : null;
}

/** Whether a number-shaped value lies in its column's range (Infinity and NaN never do). */
export function inRange(value: number, column: NumericColumn): boolean {
  return Number.isFinite(value) && value >= column.min && value <= column.max;
}
