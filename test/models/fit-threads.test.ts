// How many threads a candidate's fit asks libxgboost for, round by round (candidate-fit.ts), per family.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { threadsForNextRound } from '../../core/models/candidate-fit.js';
import { familyPlan } from '../../core/models/families.js';

test('gblinear fits on one thread whatever its nthread and the cores free; tree families take their share up to nthread', () => {
  const linear = familyPlan('gblinear');
  const [linearParams] = linear.search;
  assert.equal(linearParams.nthread, 2, 'the parameters (model id, metadata) keep nthread 2');
  assert.equal(threadsForNextRound(linearParams, linear, () => 2)?.(), 1);
  assert.equal(threadsForNextRound(linearParams, linear)?.(), 1, 'capped without a share of the cores too');
  assert.equal(threadsForNextRound({ ...linearParams, nthread: 1 }, linear, () => 2)?.(), 1);

  for (const family of ['gbtree', 'rf'] as const) {
    const plan = familyPlan(family);
    const [params] = plan.search;
    assert.equal(threadsForNextRound(params, plan, () => 2)?.(), 2, `${family}: alone on 2 cores`);
    assert.equal(threadsForNextRound(params, plan, () => 1)?.(), 1, `${family}: sharing them`);
    assert.equal(threadsForNextRound(params, plan, () => 8)?.(), 2, `${family}: never beyond nthread`);
    assert.equal(threadsForNextRound(params, plan), undefined, `${family}: nthread throughout when nothing limits it`);
  }
});
