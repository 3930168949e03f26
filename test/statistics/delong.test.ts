// DeLong's paired test against outside oracles computed in this run: (1) an independent implementation in numpy of
// DeLong, DeLong & Clarke-Pearson (1988) by its definition (the m × n kernel of every positive against every negative,
// numpy's covariance, scipy's normal distribution), not the midrank algorithm of core/statistics/delong.ts; (2) a
// bootstrap of the same rows (scikit-learn's roc_auc_score, fixed seed), whose standard error of the difference DeLong's
// must approximate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { delongTest, twoSidedNormalPValue } from '../../core/statistics/delong.js';
import { auc } from '../../core/ranking-metrics.js';
import { runOracle } from '../monitoring/fixtures.js';
import { seededRandom } from '../helpers/random.js';

interface OracleResult {
  auc_a: number;
  auc_b: number;
  diff: number;
  se: number;
  low: number;
  high: number;
  p: number;
  bootstrap_se: number;
}

const ORACLE = `
import json, sys
import numpy as np
from scipy.stats import norm
from sklearn.metrics import roc_auc_score
d = json.load(sys.stdin)
y = np.array(d["labels"]); a = np.array(d["a"], dtype=float); b = np.array(d["b"], dtype=float)
def kernel(s):
    pos = s[y == 1][:, None]; neg = s[y == 0][None, :]
    return (pos > neg) + 0.5 * (pos == neg)
ka, kb = kernel(a), kernel(b)
m, n = ka.shape
v10 = np.vstack([ka.mean(axis=1), kb.mean(axis=1)])
v01 = np.vstack([ka.mean(axis=0), kb.mean(axis=0)])
s = np.cov(v10) / m + np.cov(v01) / n
c = np.array([1.0, -1.0])
se = float(np.sqrt(c @ s @ c))
auc_a, auc_b = roc_auc_score(y, a), roc_auc_score(y, b)
diff = auc_a - auc_b
z = norm.ppf(0.975)
rng = np.random.default_rng(20240611)
diffs = []
while len(diffs) < 1000:
    i = rng.integers(0, len(y), len(y))
    if y[i].min() == y[i].max():
        continue
    diffs.append(roc_auc_score(y[i], a[i]) - roc_auc_score(y[i], b[i]))
print(json.dumps({"auc_a": auc_a, "auc_b": auc_b, "diff": diff, "se": se, "low": diff - z * se, "high": diff + z * se,
                  "p": float(2 * norm.sf(abs(diff) / se)), "bootstrap_se": float(np.std(diffs, ddof=1))}))
`;

/** Two correlated scores of the same rows: a shared signal plus noise of each model's own; rounded so that many tie. */
function correlatedScores(rows: number, seed: number, noiseB: number, decimals: number) {
  const random = seededRandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const labels: number[] = [];
  const a: number[] = [];
  const b: number[] = [];
  const round = (x: number) => Number(x.toFixed(decimals));
  for (let i = 0; i < rows; i++) {
    const risk = normal();
    const label = random() < 1 / (1 + Math.exp(-(1.4 * risk - 1.5))) ? 1 : 0;
    const shared = risk + 0.6 * normal();
    labels.push(label);
    a.push(round(shared + 0.5 * normal()));
    b.push(round(shared + noiseB * normal()));
  }
  return { labels, a, b };
}

const CASES = [
  { name: '1,000 rows, close models, ties at 2 decimals', data: correlatedScores(1000, 611, 0.65, 2) },
  { name: '300 rows, coarse scores (many ties, as an ordinal scale)', data: correlatedScores(300, 7, 0.9, 0) },
  { name: '2,000 rows, a clearly weaker model B', data: correlatedScores(2000, 42, 1.6, 3) },
];

for (const { name, data } of CASES) {
  test(`DeLong equals an independent numpy/scipy DeLong (interval 1e-6, p-value 1e-3) and a bootstrap's SE: ${name}`, () => {
    const ours = delongTest(data.a, data.b, data.labels);
    assert.ok(ours);
    const oracle = runOracle<OracleResult>(ORACLE, data);
    assert.ok(Math.abs(ours.aucA - oracle.auc_a) < 1e-12, `AUC A ${ours.aucA} vs ${oracle.auc_a}`);
    assert.ok(Math.abs(ours.aucB - oracle.auc_b) < 1e-12, `AUC B ${ours.aucB} vs ${oracle.auc_b}`);
    assert.ok(Math.abs(ours.aucA - auc(data.a, data.labels)!) < 1e-12, "the same AUC as monitoring and the gate");
    for (const key of ['diff', 'se', 'low', 'high'] as const) {
      assert.ok(Math.abs(ours[key] - oracle[key]) < 1e-6, `${key}: ours ${ours[key]} vs oracle ${oracle[key]}`);
    }
    assert.ok(Math.abs(ours.pValue - oracle.p) < 1e-3, `p: ours ${ours.pValue} vs oracle ${oracle.p}`);
    // The bootstrap estimates the same standard error by resampling: within 15% (its own Monte Carlo error with 1,000 resamples is ~2%).
    assert.ok(Math.abs(ours.se / oracle.bootstrap_se - 1) < 0.15, `DeLong SE ${ours.se} vs bootstrap SE ${oracle.bootstrap_se}`);
  });
}

test('the p-values cover the range the rule reads: not all tiny, not all 1', () => {
  const ps = CASES.map(({ data }) => delongTest(data.a, data.b, data.labels)!.pValue);
  assert.ok(ps.some((p) => p > 0.05) && ps.some((p) => p < 0.05), `p-values ${ps.join(', ')}`);
});

test('identical scores: difference 0, interval [0, 0], p = 1; one class: no test', () => {
  const { a, labels } = CASES[0].data;
  const same = delongTest(a, a, labels)!;
  assert.equal(same.diff, 0);
  assert.equal(same.se, 0);
  assert.equal(same.pValue, 1);
  assert.equal(delongTest([0.1, 0.2], [0.3, 0.4], [1, 1]), null);
});

test('the normal tail: known quantiles', () => {
  assert.ok(Math.abs(twoSidedNormalPValue(1.959963984540054) - 0.05) < 1e-6);
  assert.ok(Math.abs(twoSidedNormalPValue(2.5758293035489) - 0.01) < 1e-6);
  assert.ok(Math.abs(twoSidedNormalPValue(0) - 1) < 1e-6);
});
