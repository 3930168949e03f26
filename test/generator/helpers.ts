// Test helpers for the generator: a small CSV reader, SPEC §2 labels through DuckDB, AUC, a logistic regression
// on cleaned features (what "a good model on the cleaned features" can reach), and dirt shares.
import { parseCsv, type CsvTable } from '../helpers/csv.js';
import { FIXTURE_DIR } from '../helpers/fixture.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { queryRows, sqlString, withDuckDB } from '../../core/duckdb.js';

export const REAL_SAMPLE = FIXTURE_DIR;
export const FILES = {
  attributes: 'features_attributes.csv',
  financials: 'features_financials.csv',
  clickstream: 'feature_clickstream.csv',
  loan_daily: 'lms_loan_daily.csv',
} as const;

export type Table = CsvTable;

/** RFC 4180 parse of a whole (small) file. */
export function readCsv(path: string): Table {
  return parseCsv(readFileSync(path, 'utf8'));
}

export function readSources(dir: string): Record<keyof typeof FILES, Table> {
  return {
    attributes: readCsv(join(dir, FILES.attributes)),
    financials: readCsv(join(dir, FILES.financials)),
    clickstream: readCsv(join(dir, FILES.clickstream)),
    loan_daily: readCsv(join(dir, FILES.loan_daily)),
  };
}

export type Label = { Customer_ID: string; application_month: string; dpd: number; label: number };

/** SPEC §2 label store from a ledger CSV: at installment 6, missed = ceil(overdue/due), dpd in days, label = dpd >= 30. */
export async function labelsFromLedger(ledgerCsv: string): Promise<Label[]> {
  return withDuckDB((db) =>
    queryRows<Label>(
      db,
      `WITH ledger AS (
         SELECT * FROM read_csv(${sqlString(ledgerCsv)}, header = true, columns = {
           'loan_id': 'VARCHAR', 'Customer_ID': 'VARCHAR', 'loan_start_date': 'DATE', 'tenure': 'INTEGER',
           'installment_num': 'INTEGER', 'loan_amt': 'DOUBLE', 'due_amt': 'DOUBLE', 'paid_amt': 'DOUBLE',
           'overdue_amt': 'DOUBLE', 'balance': 'DOUBLE', 'snapshot_date': 'DATE'})
       ), at_mob6 AS (
         SELECT Customer_ID, loan_start_date, snapshot_date, overdue_amt,
                CASE WHEN due_amt = 0 THEN 0 ELSE CAST(ceil(overdue_amt / due_amt) AS INTEGER) END AS missed
         FROM ledger WHERE installment_num = 6
       )
       SELECT Customer_ID, strftime(loan_start_date, '%Y-%m') AS application_month,
              CASE WHEN overdue_amt > 0
                   THEN date_diff('day', CAST(snapshot_date - to_months(missed) AS DATE), snapshot_date) ELSE 0 END AS dpd,
              CASE WHEN (CASE WHEN overdue_amt > 0
                   THEN date_diff('day', CAST(snapshot_date - to_months(missed) AS DATE), snapshot_date) ELSE 0 END) >= 30
                   THEN 1 ELSE 0 END AS label
       FROM at_mob6 ORDER BY Customer_ID`,
    ),
  );
}

/** Mann–Whitney AUC, ties counting one half. */
export function auc(scores: readonly number[], labels: readonly number[]): number {
  const order = scores.map((score, i) => ({ score, label: labels[i] })).sort((a, b) => a.score - b.score);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j < order.length && order[j].score === order[i].score) j++;
    const rank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (order[k].label === 1) { positives++; rankSum += rank; }
    i = j;
  }
  const negatives = order.length - positives;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

const number = (text: string | undefined): number | null => {
  if (text === undefined) return null;
  const cleaned = text.replace(/^_+|_+$/g, '');
  if (cleaned === '' || !/^-?\d+(\.\d+)?$/.test(cleaned)) return null;
  return Number(cleaned);
};
const inRange = (value: number | null, low: number, high: number) => (value !== null && value >= low && value <= high ? value : null);

/** Cleaned numeric features of one application (what a reasonable silver/gold layer would make). */
export function cleanFeatures(
  attributes: Record<string, string>,
  financials: Record<string, string>,
  clicks: Record<string, string> | undefined,
): Record<string, number | null> {
  const income = inRange(number(financials.Annual_Income), 1, 300_000);
  const debt = number(financials.Outstanding_Debt);
  const history = /^(\d+) Years and (\d+) Months$/.exec(financials.Credit_History_Age);
  const out: Record<string, number | null> = {
    age: inRange(number(attributes.Age), 14, 100),
    log_income: income === null ? null : Math.log(income),
    bank_accounts: inRange(number(financials.Num_Bank_Accounts), 0, 11),
    credit_cards: inRange(number(financials.Num_Credit_Card), 0, 11),
    interest_rate: inRange(number(financials.Interest_Rate), 0, 34),
    loans: inRange(number(financials.Num_of_Loan), 0, 9),
    delay: number(financials.Delay_from_due_date),
    delayed_payments: inRange(number(financials.Num_of_Delayed_Payment), 0, 28),
    changed_limit: number(financials.Changed_Credit_Limit),
    inquiries: inRange(number(financials.Num_Credit_Inquiries), 0, 17),
    mix_bad: financials.Credit_Mix === '_' ? null : financials.Credit_Mix === 'Bad' ? 1 : 0,
    mix_good: financials.Credit_Mix === '_' ? null : financials.Credit_Mix === 'Good' ? 1 : 0,
    log_debt: debt === null ? null : Math.log(debt + 1),
    utilization: number(financials.Credit_Utilization_Ratio),
    history_months: history ? Number(history[1]) * 12 + Number(history[2]) : null,
    min_payment_yes: financials.Payment_of_Min_Amount === 'Yes' ? 1 : 0,
    min_payment_nm: financials.Payment_of_Min_Amount === 'NM' ? 1 : 0,
  };
  for (let k = 1; k <= 20; k++) out[`fe_${k}`] = clicks ? number(clicks[`fe_${k}`]) : null;
  return out;
}

/** Logistic regression by Newton–Raphson on standardised, mean-imputed features with missing indicators. */
export function fitLogistic(rows: Record<string, number | null>[], labels: number[]): (row: Record<string, number | null>) => number {
  const names = Object.keys(rows[0]);
  const stats = names.map((name) => {
    const present = rows.map((row) => row[name]).filter((v): v is number => v !== null);
    const mean = present.reduce((a, b) => a + b, 0) / Math.max(1, present.length);
    const sd = Math.sqrt(present.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, present.length)) || 1;
    return { name, mean, sd, hasMissing: present.length < rows.length };
  });
  const design = (row: Record<string, number | null>) => {
    const x = [1];
    for (const s of stats) {
      const v = row[s.name];
      x.push(v === null ? 0 : (v - s.mean) / s.sd);
      if (s.hasMissing) x.push(v === null ? 1 : 0);
    }
    return x;
  };
  const X = rows.map(design);
  const p = X[0].length;
  let w = new Array(p).fill(0);
  for (let iteration = 0; iteration < 25; iteration++) {
    const gradient = new Array(p).fill(0);
    const hessian = Array.from({ length: p }, () => new Array(p).fill(0));
    X.forEach((x, i) => {
      const mu = 1 / (1 + Math.exp(-x.reduce((a, v, j) => a + v * w[j], 0)));
      const weight = mu * (1 - mu);
      for (let a = 0; a < p; a++) {
        gradient[a] += (labels[i] - mu) * x[a];
        for (let b = 0; b <= a; b++) hessian[a][b] += weight * x[a] * x[b];
      }
    });
    for (let a = 0; a < p; a++) {
      gradient[a] -= 1e-2 * w[a];
      hessian[a][a] += 1e-2;
      for (let b = 0; b < a; b++) hessian[b][a] = hessian[a][b];
    }
    const step = solve(hessian, gradient);
    w = w.map((value, j) => value + step[j]);
    if (Math.max(...step.map(Math.abs)) < 1e-6) break;
  }
  return (row) => design(row).reduce((a, v, j) => a + v * w[j], 0);
}

function solve(matrix: number[][], vector: number[]): number[] {
  const n = vector.length;
  const a = matrix.map((row, i) => [...row, vector[i]]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) pivot = r;
    [a[col], a[pivot]] = [a[pivot], a[col]];
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const factor = a[r][col] / a[col][col];
      for (let c = col; c <= n; c++) a[r][c] -= factor * a[col][c];
    }
  }
  return a.map((row, i) => row[n] / row[i]);
}

export interface Application { id: string; month: string; features: Record<string, number | null> }

/** One cleaned feature row per application, joined with the clickstream row of the application month. */
export function applications(dir: string): Application[] {
  const sources = readSources(dir);
  const financials = new Map(sources.financials.rows.map((row) => [row.Customer_ID, row]));
  const clicks = new Map(sources.clickstream.rows.map((row) => [`${row.Customer_ID}|${row.snapshot_date}`, row]));
  return sources.attributes.rows.map((row) => ({
    id: row.Customer_ID,
    month: row.snapshot_date.slice(0, 7),
    features: cleanFeatures(row, financials.get(row.Customer_ID)!, clicks.get(`${row.Customer_ID}|${row.snapshot_date}`)),
  }));
}

/** Share of rows of `table` whose `column` satisfies `test`. */
export function share(table: Table, column: string, test: (value: string) => boolean): number {
  return table.rows.filter((row) => test(row[column])).length / table.rows.length;
}
