import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { Booster, parseEvalAuc, train, withSharedMatrices, xgboostVersion, XGBoostError } from '../../core/xgboost/index.js';
import { auc, FAMILY_PARAMS, realSample, splitRows, syntheticProblem } from './fixtures.js';

const assertSamePredictions = (actual: Float32Array, expected: Float32Array) => {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) assert.equal(actual[i], expected[i], `row ${i}`);
};

describe('libxgboost binding', () => {
  it('reports the library version', () => {
    assert.match(xgboostVersion(), /^1\.7\.\d+$/);
  });

  it('trains gbtree with early stopping on validation AUC and slices to the best round', () => {
    const [trainSet, validation] = splitRows(syntheticProblem({ rows: 3000, cols: 12, seed: 11 }), 2000);
    const seen: Array<[number, number | undefined]> = [];
    const result = train({
      train: trainSet,
      validation,
      params: { ...FAMILY_PARAMS.gbtree, eta: 0.5, max_depth: 6 },
      rounds: 300,
      earlyStoppingRounds: 8,
      onIteration: (iteration, validationAuc) => seen.push([iteration, validationAuc]),
    });
    try {
      assert.ok(result.roundsTrained < 300, `stopped early (trained ${result.roundsTrained})`);
      assert.equal(result.roundsTrained - 1 - result.bestIteration, 8, 'stops 8 rounds after the best');
      assert.equal(result.booster.boostedRounds(), result.bestIteration + 1);
      assert.deepEqual(
        seen.map(([iteration]) => iteration),
        Array.from({ length: result.roundsTrained }, (_, i) => i),
      );
      const aucs = seen.map(([, value]) => value!);
      assert.equal(Math.max(...aucs), aucs[result.bestIteration]);
      assert.equal(result.bestValidationAuc, aucs[result.bestIteration]);
      // The sliced booster's own validation AUC is the best one XGBoost reported.
      const predictions = result.booster.predict(validation);
      assert.ok(Math.abs(auc(predictions, validation.labels) - result.bestValidationAuc!) < 1e-5);
      assert.ok(result.bestValidationAuc! > 0.75, `validation AUC ${result.bestValidationAuc}`);
      for (const p of predictions) assert.ok(p > 0 && p < 1);
    } finally {
      result.booster.dispose();
    }
  });

  it('keeps every round when there is no early stopping', () => {
    const problem = syntheticProblem({ rows: 500, cols: 6 });
    const iterations: number[] = [];
    const result = train({ train: problem, params: FAMILY_PARAMS.gbtree, rounds: 7, onIteration: (i, a) => (assert.equal(a, undefined), iterations.push(i)) });
    try {
      assert.deepEqual(iterations, [0, 1, 2, 3, 4, 5, 6]);
      assert.equal(result.bestIteration, 6);
      assert.equal(result.booster.boostedRounds(), 7);
      assert.equal(JSON.parse(result.booster.toJson()).learner.gradient_booster.model.trees.length, 7);
    } finally {
      result.booster.dispose();
    }
  });

  it('predictions of a booster reloaded from its JSON are identical, for every family', () => {
    const problem = syntheticProblem({ rows: 2000, cols: 10, missingShare: 0.15 });
    for (const [family, params] of Object.entries(FAMILY_PARAMS)) {
      const { booster } = train({ train: problem, params, rounds: family === 'rf' ? 1 : 20 });
      const json = booster.toJson();
      const reloaded = Booster.fromJson(json);
      try {
        const model = JSON.parse(json).learner.gradient_booster;
        assert.equal(model.name, family === 'gblinear' ? 'gblinear' : 'gbtree', family);
        if (family === 'rf') assert.equal(model.model.trees.length, 50, 'rf: one round of 50 parallel trees');
        const predictions = booster.predict(problem);
        assertSamePredictions(reloaded.predict(problem), predictions);
        assert.ok(auc(predictions, problem.labels) > 0.75, `${family} learns the synthetic signal`);
        assert.equal(reloaded.toJson(), json);
      } finally {
        booster.dispose();
        reloaded.dispose();
      }
    }
  });

  it('gives the same booster whatever threads it runs on (fits sharing the cores choose them round by round)', () => {
    const problem = syntheticProblem({ rows: 4000, cols: 12, missingShare: 0.15, seed: 11 });
    // The product's three families' kinds (its gblinear is coord_descent; the default shotgun updater depends on threads).
    const product = {
      gbtree: FAMILY_PARAMS.gbtree,
      rf: FAMILY_PARAMS.rf,
      sampled: { ...FAMILY_PARAMS.gbtree, subsample: 0.8, colsample_bytree: 0.8 },
      coordDescent: { booster: 'gblinear', objective: 'binary:logistic', updater: 'coord_descent', feature_selector: 'cyclic', eta: 0.5, lambda: 1, alpha: 0, seed: 7, nthread: 2 },
    };
    for (const [family, params] of Object.entries(product)) {
      const rounds = family === 'rf' ? 1 : 15;
      const fit = (threadsForNextRound?: () => number) => {
        const { booster } = train({ train: problem, params, rounds, threadsForNextRound });
        try {
          return booster.toJson();
        } finally {
          booster.dispose();
        }
      };
      const asked: number[] = [];
      const alternating = fit(() => (asked.push(asked.length), asked.length % 2 === 1 ? 1 : 3));
      const linear = params.booster === 'gblinear';
      // gblinear is asked once, before its first round: a change mid-training rebuilds its updater.
      assert.equal(asked.length, linear ? 1 : rounds, `${family}: asked before ${linear ? 'its first round' : 'every round'}`);
      const plain = fit();
      assert.equal(alternating, plain, `${family}: 1 and 3 threads in turn vs nthread ${params.nthread} throughout`);
      assert.equal(fit(() => 1), plain, `${family}: one thread vs nthread ${params.nthread}`);
    }
  });

  it('fits sharing one pair of native matrices (a parameter search) give the boosters of separate fits', () => {
    const [trainSet, validation] = splitRows(syntheticProblem({ rows: 3000, cols: 10, missingShare: 0.1, seed: 3 }), 2000);
    const search = [
      { ...FAMILY_PARAMS.gbtree, max_depth: 3, subsample: 0.8, colsample_bytree: 0.8 },
      { ...FAMILY_PARAMS.gbtree, max_depth: 5, eta: 0.3, subsample: 0.8, colsample_bytree: 0.8 },
      FAMILY_PARAMS.rf,
    ];
    const json = (result: { booster: Booster }) => {
      try {
        return result.booster.toJson();
      } finally {
        result.booster.dispose();
      }
    };
    const options = (params: (typeof search)[number]) => ({ params, rounds: params === FAMILY_PARAMS.rf ? 1 : 40, earlyStoppingRounds: params === FAMILY_PARAMS.rf ? undefined : 5 });
    const separate = search.map((params) => json(train({ train: trainSet, validation, ...options(params) })));
    const shared = withSharedMatrices(trainSet, validation, (fit) => search.map((params) => json(fit(options(params)))));
    assert.deepEqual(shared, separate);
    assert.throws(() => withSharedMatrices(trainSet, undefined, (fit) => fit({ params: FAMILY_PARAMS.gbtree, rounds: 5, earlyStoppingRounds: 2 })), /needs a validation matrix/);
  });

  it('early-stops gblinear (which cannot be sliced) by keeping the best snapshot', () => {
    const [trainSet, validation] = splitRows(syntheticProblem({ rows: 3000, cols: 20, seed: 5 }), 2000);
    const aucs: number[] = [];
    const result = train({
      train: trainSet,
      validation,
      params: { ...FAMILY_PARAMS.gblinear, eta: 1.5, lambda: 0, alpha: 0 },
      rounds: 200,
      earlyStoppingRounds: 3,
      onIteration: (_, value) => aucs.push(value!),
    });
    try {
      assert.equal(result.booster.boostedRounds(), result.bestIteration + 1);
      assert.equal(result.bestValidationAuc, Math.max(...aucs));
      assert.ok(Math.abs(auc(result.booster.predict(validation), validation.labels) - result.bestValidationAuc!) < 1e-5);
    } finally {
      result.booster.dispose();
    }
  });

  it('trains on the real cs611 sample, missing values included', () => {
    const { matrix, featureNames, missingCells } = realSample();
    assert.ok(matrix.rows > 1000 && missingCells > 100, `${matrix.rows} rows, ${missingCells} missing cells`);
    const [trainSet, validation] = splitRows(matrix, 1000);
    const result = train({ train: trainSet, validation, params: FAMILY_PARAMS.gbtree, rounds: 200, earlyStoppingRounds: 20 });
    const reloaded = Booster.fromJson(result.booster.toJson());
    try {
      assert.ok(result.bestValidationAuc! > 0.6, `real-data validation AUC ${result.bestValidationAuc}`);
      assertSamePredictions(reloaded.predict(matrix), result.booster.predict(matrix));
      const gain = result.booster.featureScores('gain', featureNames);
      assert.deepEqual([...gain.keys()].sort(), [...featureNames].sort());
      assert.ok([...gain.values()].some((value) => value > 0));
      for (const value of gain.values()) assert.ok(value >= 0);
    } finally {
      result.booster.dispose();
      reloaded.dispose();
    }
  });

  it('feature scores name the informative features first, and count splits for weight', () => {
    const problem = syntheticProblem({ rows: 4000, cols: 8, missingShare: 0 });
    const names = ['x0', 'x1', 'x2', 'x3', 'x4', 'noise5', 'noise6', 'noise7'];
    const { booster } = train({ train: problem, params: { ...FAMILY_PARAMS.gbtree, max_depth: 2 }, rounds: 30 });
    try {
      const gain = booster.featureScores('total_gain', names);
      const ranked = [...gain.entries()].sort((a, b) => b[1] - a[1]).map(([name]) => name);
      assert.ok(['x0', 'x1'].includes(ranked[0]), `top feature ${ranked[0]}`);
      assert.ok(gain.get('x0')! > 10 * gain.get('noise7')!);
      const weight = booster.featureScores('weight', names);
      const splits = JSON.parse(booster.toJson())
        .learner.gradient_booster.model.trees.flatMap((tree: { left_children: number[]; split_indices: number[] }) =>
          tree.split_indices.filter((_, node) => tree.left_children[node] !== -1),
        );
      const x0Splits = splits.filter((index: number) => index === 0).length;
      assert.equal(weight.get('x0'), x0Splits);
      assert.equal([...weight.values()].reduce((a, b) => a + b, 0), splits.length);
    } finally {
      booster.dispose();
    }
  });

  it('turns XGBoost failures into XGBoostError with XGBoost’s own message', () => {
    const problem = syntheticProblem({ rows: 100, cols: 3 });
    assert.throws(
      () => train({ train: problem, params: { objective: 'binary:not-an-objective' }, rounds: 2 }),
      (error: unknown) =>
        error instanceof XGBoostError &&
        error.call === 'XGBoosterUpdateOneIter' &&
        /Unknown objective function: `binary:not-an-objective`/.test(error.message),
    );
    assert.throws(
      () => train({ train: problem, params: { objective: 'binary:logistic', max_depth: 'deep' }, rounds: 1 }),
      (error: unknown) => error instanceof XGBoostError && /max_depth/.test(error.message) && /deep/.test(error.message),
    );
    assert.throws(() => Booster.fromJson('{"learner": 3'), XGBoostError);
    const { booster } = train({ train: problem, params: { booster: 'gblinear', objective: 'binary:logistic' }, rounds: 2 });
    try {
      // gblinear defines only 'weight' importance; XGBoost says so.
      assert.throws(() => booster.featureScores('gain', ['a', 'b', 'c']), (error: unknown) => error instanceof XGBoostError && /weight/.test(error.message));
      assert.equal(booster.featureScores('weight', ['a', 'b', 'c']).size, 3);
    } finally {
      booster.dispose();
    }
  });

  it('refuses malformed matrices before they reach native code', () => {
    const problem = syntheticProblem({ rows: 10, cols: 3 });
    assert.throws(() => train({ train: { ...problem, rows: 11 }, params: {}, rounds: 1 }), /30 values, expected rows × cols = 33/);
    assert.throws(() => train({ train: { ...problem, labels: new Float32Array(9) }, params: {}, rounds: 1 }), /labels must be/);
    assert.throws(() => train({ train: problem, params: {}, rounds: 0 }), /rounds/);
    assert.throws(() => train({ train: problem, params: {}, rounds: 3, earlyStoppingRounds: 2 }), /validation/);
  });

  it('dispose frees the booster once and is idempotent', () => {
    const problem = syntheticProblem({ rows: 200, cols: 4 });
    const { booster } = train({ train: problem, params: FAMILY_PARAMS.gbtree, rounds: 3 });
    assert.equal(booster.disposed, false);
    booster.dispose();
    booster.dispose();
    assert.equal(booster.disposed, true);
    assert.throws(() => booster.predict(problem), /disposed/);
    assert.throws(() => booster.toJson(), XGBoostError);
  });

  it('names the Debian packages and XGBOOST_LIBRARY when the library cannot be loaded', () => {
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', '-e', "import('./core/xgboost/index.ts').then((m) => m.xgboostVersion())"],
      { env: { ...process.env, XGBOOST_LIBRARY: '/nonexistent/libxgboost.so' }, encoding: 'utf8', cwd: process.cwd() },
    );
    assert.notEqual(child.status, 0);
    assert.match(child.stderr, /XGBoostError/);
    assert.match(child.stderr, /libxgboost0/);
    assert.match(child.stderr, /libxgboost-dev/);
    assert.match(child.stderr, /XGBOOST_LIBRARY/);
    assert.match(child.stderr, /\/nonexistent\/libxgboost\.so/);
  });

  it('parses the AUC out of XGBoost evaluation lines', () => {
    assert.equal(parseEvalAuc('[12]\tvalidation-auc:0.8125'), 0.8125);
    assert.throws(() => parseEvalAuc('[0]\tvalidation-logloss:0.3'), XGBoostError);
  });
});
