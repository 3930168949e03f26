// Test data for the native model layer: a seeded synthetic credit-like problem, and a numeric matrix built
// straight from the real cs611 sample (dirty values become NaN), with a simple default label.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseCsv as parseCsvTable } from '../helpers/csv.js';
import { FIXTURE_DIR } from '../helpers/fixture.js';
import type { LabelledMatrix } from '../../core/xgboost/index.js';

export const SAMPLE_DIR = FIXTURE_DIR;

export { seededRandom } from '../helpers/random.js';
import { seededRandom } from '../helpers/random.js';

function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

export interface SyntheticOptions {
  rows: number;
  cols: number;
  seed?: number;
  /** Share of cells set to NaN (missing). */
  missingShare?: number;
}

/**
 * Label drawn from a logistic model on the first columns (linear terms, one threshold effect, one interaction),
 * so every family can learn it; later columns are noise. Missing cells hide values the label was drawn from.
 */
export function syntheticProblem({ rows, cols, seed = 7, missingShare = 0.1 }: SyntheticOptions): LabelledMatrix {
  const random = seededRandom(seed);
  const data = new Float32Array(rows * cols);
  const labels = new Float32Array(rows);
  for (let row = 0; row < rows; row++) {
    const offset = row * cols;
    for (let col = 0; col < cols; col++) data[offset + col] = gaussian(random) * (1 + (col % 5));
    const x = (col: number) => (col < cols ? data[offset + col] / (1 + (col % 5)) : 0);
    const margin = -1 + 1.5 * x(0) - 1.0 * x(1) + (x(2) > 0.5 ? 1.2 : 0) + 0.8 * x(3) * x(4) + 0.5 * gaussian(random);
    labels[row] = random() < 1 / (1 + Math.exp(-margin)) ? 1 : 0;
    for (let col = 0; col < cols; col++) if (random() < missingShare) data[offset + col] = Number.NaN;
  }
  return { data, rows, cols, labels };
}

/** Splits rows [0, at) and [at, rows). */
export function splitRows(matrix: LabelledMatrix, at: number): [LabelledMatrix, LabelledMatrix] {
  const { cols } = matrix;
  const part = (from: number, to: number): LabelledMatrix => ({
    data: matrix.data.slice(from * cols, to * cols),
    rows: to - from,
    cols,
    labels: matrix.labels.slice(from, to),
  });
  return [part(0, at), part(at, matrix.rows)];
}

/** Rows of a CSV as records by column name. */
export function parseCsv(text: string): Record<string, string>[] {
  return parseCsvTable(text).rows;
}

export const REAL_FEATURES = [
  'Annual_Income',
  'Monthly_Inhand_Salary',
  'Num_Bank_Accounts',
  'Num_Credit_Card',
  'Interest_Rate',
  'Num_of_Loan',
  'Delay_from_due_date',
  'Num_of_Delayed_Payment',
  'Changed_Credit_Limit',
  'Num_Credit_Inquiries',
  'Outstanding_Debt',
  'Credit_Utilization_Ratio',
  'Credit_History_Months',
  'Total_EMI_per_month',
  'Amount_invested_monthly',
  'Monthly_Balance',
] as const;

/** Strict number: text such as `52312.68_`, `_` or an empty cell is unparseable and becomes missing (NaN). */
function strictNumber(text: string): number {
  if (text.trim() === '') return Number.NaN;
  const value = Number(text);
  return Number.isFinite(value) ? value : Number.NaN;
}

function historyMonths(text: string): number {
  const match = /^(\d+) Years and (\d+) Months$/.exec(text.trim());
  return match ? Number(match[1]) * 12 + Number(match[2]) : Number.NaN;
}

/**
 * The real sample as a matrix: numeric columns of features_financials.csv, one row per customer whose loan
 * reached installment 6, label = overdue_amt > 0 at installment 6 (a simple stand-in for 30dpd_6mob).
 */
export function realSample(): { matrix: LabelledMatrix; featureNames: string[]; missingCells: number } {
  const financials = parseCsv(readFileSync(path.join(SAMPLE_DIR, 'features_financials.csv'), 'utf8'));
  const loans = parseCsv(readFileSync(path.join(SAMPLE_DIR, 'lms_loan_daily.csv'), 'utf8'));
  const labelByCustomer = new Map<string, number>();
  for (const loan of loans) {
    if (loan.installment_num === '6') labelByCustomer.set(loan.Customer_ID, Number(loan.overdue_amt) > 0 ? 1 : 0);
  }
  const kept = financials.filter((row) => labelByCustomer.has(row.Customer_ID));
  const cols = REAL_FEATURES.length;
  const data = new Float32Array(kept.length * cols);
  const labels = new Float32Array(kept.length);
  let missingCells = 0;
  kept.forEach((row, index) => {
    REAL_FEATURES.forEach((name, col) => {
      const value = name === 'Credit_History_Months' ? historyMonths(row.Credit_History_Age) : strictNumber(row[name]);
      if (Number.isNaN(value)) missingCells++;
      data[index * cols + col] = value;
    });
    labels[index] = labelByCustomer.get(row.Customer_ID)!;
  });
  return { matrix: { data, rows: kept.length, cols, labels }, featureNames: [...REAL_FEATURES], missingCells };
}

/** Mann–Whitney AUC, ties counting one half. */
export function auc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let positives = 0;
  let rankSum = 0;
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && scores[order[end + 1]] === scores[order[start]]) end++;
    const averageRank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) {
      if (labels[order[k]] === 1) {
        positives++;
        rankSum += averageRank;
      }
    }
    start = end + 1;
  }
  const negatives = order.length - positives;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** The three families the product trains, with small test-sized settings. */
export const FAMILY_PARAMS = {
  gbtree: { booster: 'gbtree', objective: 'binary:logistic', tree_method: 'hist', max_depth: 4, eta: 0.1, seed: 7, nthread: 2 },
  gblinear: { booster: 'gblinear', objective: 'binary:logistic', lambda: 1, alpha: 0.01, eta: 0.5, seed: 7, nthread: 1 },
  rf: {
    booster: 'gbtree',
    objective: 'binary:logistic',
    tree_method: 'hist',
    num_parallel_tree: 50,
    subsample: 0.8,
    colsample_bynode: 0.8,
    learning_rate: 1,
    max_depth: 6,
    seed: 7,
    nthread: 2,
  },
} as const;

export const FAMILY_ROUNDS = { gbtree: 60, gblinear: 40, rf: 1 } as const;
export type Family = keyof typeof FAMILY_PARAMS;
