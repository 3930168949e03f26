// DeLong's test for two correlated AUCs measured on the same rows (DeLong, DeLong & Clarke-Pearson 1988), computed
// with the midrank algorithm of Sun & Xu (2014): O(n log n) instead of comparing every positive with every negative.
// The AUCs are Mann–Whitney's with ties counting one half, so they equal ranking-metrics' auc() on the same rows.
import { midRanks } from '../ranking-metrics.js';

export interface PairedAucTest {
  /** Rows compared, and how many of them are positives (label 1) and negatives. */
  n: number;
  positives: number;
  negatives: number;
  aucA: number;
  aucB: number;
  /** aucA − aucB. */
  diff: number;
  /** Standard error of the difference under DeLong's covariance. */
  se: number;
  /** 95% interval of the difference (normal approximation). */
  low: number;
  high: number;
  /** Two-sided p-value of "no difference"; 1 when both models rank the rows alike (se = 0 and diff = 0). */
  pValue: number;
}

/** The 97.5% quantile of the standard normal distribution. */
export const Z_975 = 1.959963984540054;

/** AUC of one score and its structural components: V10 per positive, V01 per negative. */
function structuralComponents(scores: ArrayLike<number>, positiveRows: number[], negativeRows: number[]) {
  const m = positiveRows.length;
  const n = negativeRows.length;
  const positiveScores = positiveRows.map((row) => scores[row]);
  const negativeScores = negativeRows.map((row) => scores[row]);
  const withinPositives = midRanks(positiveScores);
  const withinNegatives = midRanks(negativeScores);
  const overall = midRanks([...positiveScores, ...negativeScores]);
  // A positive's component: the share of negatives it outranks (ties ½); a negative's: the share of positives above it.
  const v10 = Array.from({ length: m }, (_, i) => (overall[i] - withinPositives[i]) / n);
  const v01 = Array.from({ length: n }, (_, j) => 1 - (overall[m + j] - withinNegatives[j]) / m);
  let rankSum = 0;
  for (let i = 0; i < m; i++) rankSum += overall[i];
  return { auc: rankSum / (m * n) - (m + 1) / (2 * n), v10, v01 };
}

/** Sample covariance (n − 1 in the denominator). */
function covariance(a: readonly number[], b: readonly number[]): number {
  if (a.length < 2) return 0;
  const meanA = a.reduce((sum, x) => sum + x, 0) / a.length;
  const meanB = b.reduce((sum, x) => sum + x, 0) / b.length;
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] - meanA) * (b[i] - meanB);
  return sum / (a.length - 1);
}

/**
 * The complementary error function, from the Chebyshev fit of Numerical Recipes (erfcc: fractional error below
 * 1.2e-7 everywhere), enough for p-values.
 */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** P(|Z| ≥ |z|) for a standard normal Z. */
export function twoSidedNormalPValue(z: number): number {
  return Math.min(1, erfc(Math.abs(z) / Math.SQRT2));
}

/**
 * DeLong's paired test of model A against model B on the same labelled rows. Null when the rows hold one class (no
 * AUC exists).
 */
export function delongTest(scoresA: ArrayLike<number>, scoresB: ArrayLike<number>, labels: ArrayLike<number>): PairedAucTest | null {
  if (scoresA.length !== labels.length || scoresB.length !== labels.length) {
    throw new Error(`scores (${scoresA.length}, ${scoresB.length}) and labels (${labels.length}) differ in length`);
  }
  const positiveRows: number[] = [];
  const negativeRows: number[] = [];
  for (let i = 0; i < labels.length; i++) (labels[i] === 1 ? positiveRows : negativeRows).push(i);
  const m = positiveRows.length;
  const n = negativeRows.length;
  if (m === 0 || n === 0) return null;
  const a = structuralComponents(scoresA, positiveRows, negativeRows);
  const b = structuralComponents(scoresB, positiveRows, negativeRows);
  const variance =
    (covariance(a.v10, a.v10) + covariance(b.v10, b.v10) - 2 * covariance(a.v10, b.v10)) / m +
    (covariance(a.v01, a.v01) + covariance(b.v01, b.v01) - 2 * covariance(a.v01, b.v01)) / n;
  const se = Math.sqrt(Math.max(0, variance));
  const diff = a.auc - b.auc;
  const pValue = se > 0 ? twoSidedNormalPValue(diff / se) : diff === 0 ? 1 : 0;
  return { n: labels.length, positives: m, negatives: n, aucA: a.auc, aucB: b.auc, diff, se, low: diff - Z_975 * se, high: diff + Z_975 * se, pValue };
}
