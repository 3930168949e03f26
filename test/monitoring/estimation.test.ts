// Issue 30: performance estimated before labels (CBPE) and the calibration test, on simulated months where the truth is
// known: labels drawn from a calibrated model's own probabilities, and a miscalibrated model's probabilities against
// labels drawn from the true ones. The expected AUC and the Hosmer–Lemeshow p-value are checked against scikit-learn
// (a weighted ROC AUC: each loan once as a default weighted p, once as a non-default weighted 1 − p) and scipy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { estimatePerformance, expectedAuc, seedOf } from '../../core/monitoring/estimation.js';
import { chiSquareSurvival, hosmerLemeshow, riskGroups } from '../../core/statistics/calibration.js';
import { auc } from '../../core/ranking-metrics.js';
import { runOracle, seeded } from './fixtures.js';

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** A month of `n` loans: true default probabilities from a logistic score (≈ 25% default rate), labels drawn from them. */
function simulatedMonth(n: number, random: () => number): { probabilities: number[]; labels: (0 | 1)[] } {
  const probabilities: number[] = [];
  const labels: (0 | 1)[] = [];
  for (let i = 0; i < n; i++) {
    const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    const p = sigmoid(-1.4 + 1.3 * normal);
    probabilities.push(p);
    labels.push(random() < p ? 1 : 0);
  }
  return { probabilities, labels };
}

test('a calibrated model: the realized AUC lies inside the estimated 90% band in at least 85 of 100 seeded months', (t) => {
  let inside = 0;
  let absoluteError = 0;
  for (let month = 0; month < 100; month++) {
    const random = seeded(1000 + month);
    const { probabilities, labels } = simulatedMonth(800, random);
    const estimate = estimatePerformance(probabilities, seedOf(`sim|${month}`));
    const realized = auc(probabilities, labels)!;
    assert.ok(estimate.auc_estimated_low! < estimate.auc_estimated! && estimate.auc_estimated! < estimate.auc_estimated_high!, `month ${month}: the band holds the estimate`);
    if (realized >= estimate.auc_estimated_low! && realized <= estimate.auc_estimated_high!) inside++;
    absoluteError += Math.abs(realized - estimate.auc_estimated!);
  }
  t.diagnostic(`realized AUC inside the band in ${inside}/100 months; mean |realized − estimated| ${(absoluteError / 100).toFixed(4)}`);
  assert.ok(inside >= 85, `inside the band in ${inside} of 100 months`);
  assert.ok(inside <= 98, `a 90% band that holds ${inside} of 100 is too wide to mean anything`);
  assert.ok(absoluteError / 100 < 0.03);
});

test('the band is reproducible (seeded) and narrows with the month size', () => {
  const { probabilities } = simulatedMonth(2000, seeded(7));
  const once = estimatePerformance(probabilities, 42);
  assert.deepEqual(estimatePerformance(probabilities, 42), once);
  const small = estimatePerformance(probabilities.slice(0, 200), 42);
  const width = (e: typeof once) => e.auc_estimated_high! - e.auc_estimated_low!;
  assert.ok(width(small) > 2 * width(once), `200 loans: ${width(small)}, 2000 loans: ${width(once)}`);
  assert.ok(Math.abs(once.expected_default_rate - probabilities.reduce((a, b) => a + b, 0) / 2000) < 1e-12);
});

test('no estimate where one class is expected; no band from too few two-class draws', () => {
  assert.equal(expectedAuc([0, 0, 0]), null);
  assert.equal(expectedAuc([1, 1]), null);
  const rare = estimatePerformance([0.001, 0.002, 0.001, 0.3], 1);
  assert.ok(rare.auc_estimated !== null);
  assert.equal(rare.auc_estimated_low, null, 'most draws of four loans this safe have no default');
});

const ORACLE = String.raw`
import json, sys
import numpy as np
from sklearn.metrics import roc_auc_score
from scipy.stats import chi2
d = json.load(sys.stdin)
out = []
for m in d['months']:
    p = np.array(m['p']); y = np.array(m['y']); n = len(p)
    # the expected ROC: every loan a default with weight p and a non-default with weight 1 - p
    expected_auc = float(roc_auc_score(np.r_[np.ones(n), np.zeros(n)], np.r_[p, p], sample_weight=np.r_[p, 1 - p]))
    order = np.argsort(p, kind='stable')
    stat = 0.0; dof = 0
    for k in range(10):
        idx = order[(k * n) // 10:((k + 1) * n) // 10]
        e = p[idx].sum(); o = y[idx].sum(); var = e * (1 - e / len(idx))
        if var > 0:
            stat += (o - e) ** 2 / var; dof += 1
    out.append({'expected_auc': expected_auc, 'hl': stat, 'dof': dof, 'p_value': float(chi2.sf(stat, dof))})
print(json.dumps({'months': out, 'sf': [float(chi2.sf(x, k)) for x, k in d['sf']]}))
`;

test('expected AUC equals scikit-learn weighted ROC AUC; Hosmer–Lemeshow equals scipy, calibrated or not', () => {
  const months = [0, 1, 2, 3].map((seed) => {
    const { probabilities, labels } = simulatedMonth(600 + 50 * seed, seeded(50 + seed));
    // months 2 and 3: the model's probabilities are the truth pulled toward the middle and up (miscalibrated), rounded so scores tie
    const model = probabilities.map((p) => (seed >= 2 ? Math.round(sigmoid(0.5 * Math.log(p / (1 - p)) + 0.4) * 100) / 100 : p));
    return { p: model, y: labels };
  });
  const sf: [number, number][] = [[0.5, 1], [12.3, 10], [40, 8], [80, 10], [3, 2]];
  const oracle = runOracle<{ months: { expected_auc: number; hl: number; dof: number; p_value: number }[]; sf: number[] }>(ORACLE, { months, sf });
  months.forEach((month, i) => {
    const ours = hosmerLemeshow(month.p, month.y)!;
    const expected = oracle.months[i];
    assert.ok(Math.abs(expectedAuc(month.p)! - expected.expected_auc) < 1e-9, `month ${i}: expected AUC ${expectedAuc(month.p)} vs ${expected.expected_auc}`);
    assert.ok(Math.abs(ours.statistic - expected.hl) < 1e-8, `month ${i}: HL ${ours.statistic} vs ${expected.hl}`);
    assert.equal(ours.degrees_of_freedom, expected.dof);
    assert.ok(Math.abs(ours.p_value - expected.p_value) < 1e-10, `month ${i}: p ${ours.p_value} vs ${expected.p_value}`);
  });
  sf.forEach(([x, k], i) => assert.ok(Math.abs(chiSquareSurvival(x, k) - oracle.sf[i]) < 1e-10, `chi2.sf(${x}, ${k})`));
  assert.ok(oracle.months[3].p_value < 1e-6, 'the miscalibrated month is far from calibrated');
});

test('the calibration test passes a calibrated model and flags a miscalibrated one', (t) => {
  let calibratedFlagged = 0;
  let miscalibratedFlagged = 0;
  for (let month = 0; month < 100; month++) {
    const { probabilities, labels } = simulatedMonth(800, seeded(5000 + month));
    if (hosmerLemeshow(probabilities, labels)!.p_value < 0.01) calibratedFlagged++;
    // an overconfident model: the right ranking, logits stretched by 1.6 (a 20% applicant is scored ≈ 10%)
    const overconfident = probabilities.map((p) => sigmoid(1.6 * Math.log(p / (1 - p))));
    if (hosmerLemeshow(overconfident, labels)!.p_value < 0.01) miscalibratedFlagged++;
  }
  t.diagnostic(`p < 0.01: calibrated ${calibratedFlagged}/100 months, overconfident ${miscalibratedFlagged}/100`);
  assert.ok(calibratedFlagged <= 5, `a calibrated model flagged in ${calibratedFlagged} of 100 months at alpha 0.01`);
  assert.ok(miscalibratedFlagged >= 95, `the overconfident model flagged in ${miscalibratedFlagged} of 100 months`);
  const groups = riskGroups([0.1, 0.2, 0.3, 0.4], [0, 0, 1, 1], 2);
  assert.deepEqual(groups.map((g) => [g.loans, Number(g.mean_probability.toFixed(6)), g.observed_rate]), [[2, 0.15, 0], [2, 0.35, 1]]);
  assert.equal(hosmerLemeshow([0.1, 0.2], [0, 1]), null, 'too few loans for a chi-square');
  const small = simulatedMonth(73, seeded(9));
  assert.equal(hosmerLemeshow(small.probabilities, small.labels)!.groups.length, 7, 'a 73-loan month: 7 groups of at least 10');
  assert.equal(hosmerLemeshow(small.probabilities.slice(0, 29), small.labels.slice(0, 29)), null, 'under 3 groups of 10: no test');
});
