import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auc, ks, maxF1Threshold, thresholdMetrics } from '../../core/models/metrics.js';
import { seededRandom } from './synthetic.js';

/** Independent oracle: the Mann–Whitney statistic by counting every pair, ties one half. */
function pairwiseAuc(scores: number[], labels: number[]): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < scores.length; i++) {
    if (labels[i] !== 1) continue;
    for (let j = 0; j < scores.length; j++) {
      if (labels[j] !== 0) continue;
      pairs++;
      wins += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
  }
  return wins / pairs;
}

test('AUC equals the pairwise Mann–Whitney count, ties included', () => {
  const random = seededRandom(3);
  const labels = Array.from({ length: 400 }, () => (random() < 0.3 ? 1 : 0));
  const scores = labels.map((label) => Math.round((random() + 0.4 * label) * 10) / 10); // coarse: many ties
  assert.ok(Math.abs(auc(scores, labels)! - pairwiseAuc(scores, labels)) < 1e-12);
});

test('AUC of a perfect, an inverted and a constant score', () => {
  assert.equal(auc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]), 1);
  assert.equal(auc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]), 0);
  assert.equal(auc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1]), 0.5);
  assert.equal(auc([0.1, 0.2], [1, 1]), null, 'undefined with a single class, as monitoring reports it');
  assert.throws(() => auc([0.1, 0.2], [1]), /differ in length/);
});

test('KS is the largest TPR − FPR gap', () => {
  // threshold 0.6: TPR 2/3, FPR 0 → 0.667; threshold 0.3: TPR 1, FPR 1/3 → 0.667
  assert.ok(Math.abs(ks([0.9, 0.6, 0.3, 0.35, 0.2, 0.1], [1, 1, 1, 0, 0, 0])! - 2 / 3) < 1e-12);
  assert.equal(ks([0.9, 0.8, 0.2, 0.1], [1, 1, 0, 0]), 1);
});

test('max-F1 threshold picks the score that separates best', () => {
  const { threshold, f1 } = maxF1Threshold([0.9, 0.8, 0.7, 0.4, 0.3, 0.2], [1, 1, 1, 0, 0, 0]);
  assert.equal(threshold, 0.7);
  assert.equal(f1, 1);
});

test('threshold metrics count score ≥ threshold as a default', () => {
  // threshold 0.5: predicted 1 for 0.9, 0.6, 0.5 → TP 2 (0.9, 0.6), FP 1 (0.5); FN 1 (0.3); TN 2
  const metrics = thresholdMetrics([0.9, 0.6, 0.5, 0.3, 0.2, 0.1], [1, 1, 0, 1, 0, 0], 0.5);
  assert.deepEqual(metrics, { accuracy: 4 / 6, precision: 2 / 3, recall: 2 / 3, f1: 2 / 3 });
  assert.deepEqual(thresholdMetrics([0.1, 0.2], [0, 0], 0.5), { accuracy: 1, precision: 0, recall: 0, f1: 0 });
});
