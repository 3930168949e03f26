import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBest } from '../../lib/model-selection.js';
import type { CandidateSummary } from '../../lib/model-summaries.js';

function candidate(family: CandidateSummary['family'], testAuc: number, ootAuc = 0.75): CandidateSummary {
  return {
    family,
    params: {},
    candidateDir: `/tmp/${family}`,
    trainingDataSha256: 'a'.repeat(64),
    metrics: { train_auc: 0.9, test_auc: testAuc, oot_auc: ootAuc, oot_gini: 2 * ootAuc - 1, oot_ks: 0.4 },
    threshold: 0.3,
    trainingSeconds: 1,
    rounds: 10,
  };
}

test('the highest test AUC wins when the gap is at least 1e-3', () => {
  const best = selectBest([candidate('gblinear', 0.75), candidate('rf', 0.78), candidate('gbtree', 0.7812)]);
  assert.equal(best.family, 'gbtree');
});

test('the OOT months take no part in the choice: a better OOT AUC does not win', () => {
  const best = selectBest([candidate('gblinear', 0.76, 0.9), candidate('gbtree', 0.8, 0.7)]);
  assert.equal(best.family, 'gbtree');
});

test('ties within 1e-3 go to the simpler family: gblinear < rf < gbtree', () => {
  assert.equal(selectBest([candidate('gbtree', 0.8005), candidate('rf', 0.8), candidate('gblinear', 0.7999)]).family, 'gblinear');
  assert.equal(selectBest([candidate('gbtree', 0.8005), candidate('rf', 0.8), candidate('gblinear', 0.79)]).family, 'rf');
});

test('selectBest refuses an empty list', () => {
  assert.throws(() => selectBest([]), /at least one candidate/);
});
