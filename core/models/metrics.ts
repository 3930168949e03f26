// Training-time metrics: AUC, Gini and KS come from the shared core/ranking-metrics.ts (the gate and monitoring use the
// same); here only what training adds: the max-F1 threshold and the threshold metrics of a split.
import { sweepThresholds } from '../ranking-metrics.js';

export { auc, defined, gini, ks } from '../ranking-metrics.js';

/** The score threshold (predict 1 when score ≥ threshold) that maximises F1; 0.5 with no positive. */
export function maxF1Threshold(scores: ArrayLike<number>, labels: ArrayLike<number>): { threshold: number; f1: number } {
  let positives = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === 1) positives++;
  let best = { threshold: 0.5, f1: -1 };
  if (positives === 0) return { threshold: 0.5, f1: 0 };
  sweepThresholds(scores, labels, (threshold, tp, fp) => {
    const f1 = (2 * tp) / (tp + fp + positives);
    if (f1 > best.f1) best = { threshold, f1 };
  });
  return { threshold: Math.min(1, Math.max(0, best.threshold)), f1: best.f1 };
}

export interface ThresholdMetrics {
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
}

/** Accuracy, precision, recall and F1 of "score ≥ threshold is a default"; a 0/0 ratio is 0, as scikit-learn reports it. */
export function thresholdMetrics(scores: ArrayLike<number>, labels: ArrayLike<number>, threshold: number): ThresholdMetrics {
  if (scores.length !== labels.length) throw new Error(`scores (${scores.length}) and labels (${labels.length}) differ in length`);
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (let i = 0; i < scores.length; i++) {
    const predicted = scores[i] >= threshold;
    const actual = labels[i] === 1;
    if (predicted && actual) tp++;
    else if (predicted) fp++;
    else if (actual) fn++;
    else tn++;
  }
  const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);
  const precision = ratio(tp, tp + fp);
  const recall = ratio(tp, tp + fn);
  return { accuracy: ratio(tp + tn, scores.length), precision, recall, f1: ratio(2 * precision * recall, precision + recall) };
}
