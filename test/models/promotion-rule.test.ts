// The promotion rule on its own (docs/model-governance.md §6): each branch from hand-made paired evidence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decidePromotion, type PromotionFacts } from '../../core/scoring/promotion-rule.js';

const comparison = (diff: number, low: number, high: number) => ({
  n: 1000,
  positives: 300,
  negatives: 700,
  aucA: 0.8 + diff,
  aucB: 0.8,
  diff,
  se: (high - low) / 3.92,
  low,
  high,
  pValue: 0.3,
  months: '2024-05..2024-06',
});
const facts = (overrides: Partial<PromotionFacts>): PromotionFacts => ({
  candidateId: 'cand',
  candidateOotAuc: 0.8,
  candidateOotWhere: 'OOT months 2024-05..2024-06 (1000 rows)',
  minAuc: 0.7,
  margin: 0.01,
  productionId: 'prod',
  comparison: null,
  candidateIsNewer: true,
  ...overrides,
});

test('below the minimum: reject, whatever the comparison', () => {
  assert.equal(decidePromotion(facts({ candidateOotAuc: 0.69, comparison: comparison(0.05, 0.03, 0.07) })).action, 'reject');
  assert.equal(decidePromotion(facts({ candidateOotAuc: null })).action, 'reject');
});

test('no production model: promote on the minimum', () => {
  assert.equal(decidePromotion(facts({ productionId: null })).action, 'promote');
});

test('non-inferior and better: promote; non-inferior but an exact tie or worse on the point: keep (equal is not better)', () => {
  assert.equal(decidePromotion(facts({ comparison: comparison(0.004, -0.006, 0.014) })).action, 'promote');
  const tie = decidePromotion(facts({ comparison: comparison(0, -0.005, 0.005) }));
  assert.equal(tie.action, 'keep');
  assert.match(tie.reason, /equal is not better/);
  assert.equal(decidePromotion(facts({ comparison: comparison(-0.002, -0.008, 0.004) })).action, 'keep');
});

test('the margin is the rule: the same evidence promotes under a wider margin', () => {
  const evidence = comparison(0.004, -0.015, 0.023);
  assert.equal(decidePromotion(facts({ comparison: evidence })).action, 'keep');
  assert.match(decidePromotion(facts({ comparison: evidence })).reason, /evidence too thin to decide/);
  assert.equal(decidePromotion(facts({ comparison: evidence, margin: 0.02 })).action, 'promote');
});

test('significantly worse (interval below 0): reject', () => {
  const verdict = decidePromotion(facts({ comparison: comparison(-0.04, -0.06, -0.02) }));
  assert.equal(verdict.action, 'reject');
  assert.match(verdict.reason, /significantly worse/);
});

test('no_fair_comparison: a newer candidate is promoted on the minimum, an older one keeps production', () => {
  const newer = decidePromotion(facts({ candidateIsNewer: true }));
  assert.equal(newer.action, 'promote');
  assert.match(newer.reason, /no_fair_comparison/);
  const older = decidePromotion(facts({ candidateIsNewer: false }));
  assert.equal(older.action, 'keep');
  assert.match(older.reason, /no_fair_comparison: .*shadow scoring on later months decides/);
});
