// Classification metrics of SPEC §4 on one month of scored, labelled loans. Pure functions over arrays, so the tests
// can compare them with scikit-learn on the same numbers. AUC, Gini and KS are the shared ones of core/ranking-metrics.ts.
import { auc as rankingAuc, gini, ks } from '../ranking-metrics.js';

/** One labelled prediction: the model's probability, its 0/1 decision at the model's threshold, the observed label. */
export interface ScoredOutcome {
  probability: number;
  predicted: 0 | 1;
  label: 0 | 1;
}

export interface CurvePoint {
  threshold: number;
  fpr: number;
  tpr: number;
  precision: number;
  recall: number;
}

function classCounts(labels: readonly (0 | 1)[]): { positives: number; negatives: number } {
  let positives = 0;
  for (const label of labels) positives += label;
  return { positives, negatives: labels.length - positives };
}

/**
 * The ROC and precision–recall curves: one point per distinct score, taken as a threshold "score ≥ t is a default",
 * from the highest score down, preceded by the origin (nothing predicted positive). Empty with one class.
 */
export function thresholdCurve(scores: readonly number[], labels: readonly (0 | 1)[]): CurvePoint[] {
  const { positives, negatives } = classCounts(labels);
  if (positives === 0 || negatives === 0) return [];
  const order = scores.map((_, index) => index).sort((a, b) => scores[b] - scores[a]);
  const points: CurvePoint[] = [{ threshold: Infinity, fpr: 0, tpr: 0, precision: 1, recall: 0 }];
  let truePositives = 0;
  let falsePositives = 0;
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && scores[order[end + 1]] === scores[order[start]]) end++;
    for (let i = start; i <= end; i++) {
      if (labels[order[i]] === 1) truePositives++;
      else falsePositives++;
    }
    points.push({
      threshold: scores[order[start]],
      fpr: falsePositives / negatives,
      tpr: truePositives / positives,
      precision: truePositives / (truePositives + falsePositives),
      recall: truePositives / positives,
    });
    start = end + 1;
  }
  return points;
}

export interface Confusion {
  truePositives: number;
  falsePositives: number;
  trueNegatives: number;
  falseNegatives: number;
}

export function confusion(outcomes: readonly ScoredOutcome[]): Confusion {
  const counts: Confusion = { truePositives: 0, falsePositives: 0, trueNegatives: 0, falseNegatives: 0 };
  for (const { predicted, label } of outcomes) {
    if (predicted === 1 && label === 1) counts.truePositives++;
    else if (predicted === 1) counts.falsePositives++;
    else if (label === 1) counts.falseNegatives++;
    else counts.trueNegatives++;
  }
  return counts;
}

export interface PerformanceMetrics {
  n_labelled: number;
  observed_default_rate: number | null;
  auc: number | null;
  gini: number | null;
  ks: number | null;
  accuracy: number | null;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  brier: number | null;
}

export const NO_PERFORMANCE: PerformanceMetrics = {
  n_labelled: 0,
  observed_default_rate: null,
  auc: null,
  gini: null,
  ks: null,
  accuracy: null,
  precision: null,
  recall: null,
  f1: null,
  brier: null,
};

/** A ratio that is 0 when its denominator is 0, as scikit-learn's zero_division default reports it. */
function ratio(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator;
}

/**
 * Every performance metric of one month. Threshold metrics use the model's own decision (`predicted`); AUC, Gini and
 * KS are NULL when the month has a single class, because they are undefined there, not zero.
 */
export function performanceMetrics(outcomes: readonly ScoredOutcome[]): PerformanceMetrics {
  if (outcomes.length === 0) return NO_PERFORMANCE;
  const scores = outcomes.map((outcome) => outcome.probability);
  const labels = outcomes.map((outcome) => outcome.label);
  const auc = rankingAuc(scores, labels);
  const counts = confusion(outcomes);
  const precision = ratio(counts.truePositives, counts.truePositives + counts.falsePositives);
  const recall = ratio(counts.truePositives, counts.truePositives + counts.falseNegatives);
  let squaredError = 0;
  for (const { probability, label } of outcomes) squaredError += (probability - label) ** 2;
  return {
    n_labelled: outcomes.length,
    observed_default_rate: classCounts(labels).positives / outcomes.length,
    auc,
    gini: gini(auc),
    ks: ks(scores, labels),
    accuracy: (counts.truePositives + counts.trueNegatives) / outcomes.length,
    precision,
    recall,
    f1: ratio(2 * precision * recall, precision + recall),
    brier: squaredError / outcomes.length,
  };
}

/** At most `limit` points of a curve, evenly spaced along it and keeping both ends: enough to draw, small to embed. */
export function thinCurve<T>(points: readonly T[], limit = 300): T[] {
  if (points.length <= limit) return [...points];
  const kept: T[] = [];
  for (let i = 0; i < limit; i++) kept.push(points[Math.round((i * (points.length - 1)) / (limit - 1))]);
  return kept;
}
