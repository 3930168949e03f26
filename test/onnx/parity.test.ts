import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import onnxProto from 'onnx-proto';
import { exportToOnnx, OnnxScorer } from '../../core/onnx/index.js';
import { train, type BoosterParams, type DenseMatrix, type LabelledMatrix } from '../../core/xgboost/index.js';
import { InvalidModelArtifact } from '../../lib/errors.js';
import { FAMILY_PARAMS, FAMILY_ROUNDS, realSample, splitRows, syntheticProblem, type Family } from '../xgboost/fixtures.js';

const TOLERANCE = 1e-5;
const FAMILIES = Object.keys(FAMILY_PARAMS) as Family[];

function rowsWithMissing(matrix: DenseMatrix): number {
  let count = 0;
  for (let row = 0; row < matrix.rows; row++) {
    if (matrix.data.subarray(row * matrix.cols, (row + 1) * matrix.cols).some(Number.isNaN)) count++;
  }
  return count;
}

/** Trains, exports, scores with onnxruntime, and compares every row with libxgboost's prediction. */
async function assertParity(family: Family, trainSet: LabelledMatrix, scored: DenseMatrix, featureNames: string[], extra: BoosterParams = {}) {
  const { booster } = train({ train: trainSet, params: { ...FAMILY_PARAMS[family], ...extra }, rounds: FAMILY_ROUNDS[family] });
  try {
    const expected = booster.predict(scored);
    const model = exportToOnnx(booster.toJson(), featureNames);
    const scorer = await OnnxScorer.load(model);
    try {
      const actual = await scorer.score(scored);
      assert.equal(actual.length, scored.rows);
      let worst = 0;
      for (let row = 0; row < scored.rows; row++) {
        const difference = Math.abs(actual[row] - expected[row]);
        worst = Math.max(worst, difference);
        assert.ok(difference <= TOLERANCE, `${family} row ${row}: onnx ${actual[row]} vs xgboost ${expected[row]}`);
      }
      // The predictions must vary, or equality would prove nothing.
      assert.ok(Math.max(...expected) - Math.min(...expected) > 0.2, `${family} predictions spread`);
      return { worst, model };
    } finally {
      await scorer.release();
    }
  } finally {
    booster.dispose();
  }
}

describe('ONNX export parity with libxgboost', () => {
  const synthetic = syntheticProblem({ rows: 6000, cols: 15, missingShare: 0.12, seed: 21 });
  const [syntheticTrain, syntheticScored] = splitRows(synthetic, 4000);
  // Scored rows include an all-missing row and rows exactly on split thresholds (taken from training values).
  const scored: DenseMatrix = {
    data: Float32Array.from([...syntheticScored.data, ...new Array(15).fill(Number.NaN), ...syntheticTrain.data.subarray(0, 15 * 50)]),
    rows: syntheticScored.rows + 1 + 50,
    cols: 15,
  };
  const names = Array.from({ length: 15 }, (_, i) => `feature_${i}`);

  for (const family of FAMILIES) {
    it(`${family}: every synthetic row, missing values included, within ${TOLERANCE}`, async () => {
      assert.ok(rowsWithMissing(scored) > 1000);
      await assertParity(family, syntheticTrain, scored, names);
    });
  }

  for (const family of FAMILIES) {
    it(`${family}: every row of the real cs611 sample within ${TOLERANCE}`, async () => {
      const { matrix, featureNames } = realSample();
      assert.ok(rowsWithMissing(matrix) > 100, 'the real sample has rows with unparseable (missing) values');
      await assertParity(family, matrix, matrix, featureNames);
    });
  }

  it('honours a base_score other than 0.5 (margin-space base values and intercept)', async () => {
    await assertParity('gbtree', syntheticTrain, scored, names, { base_score: 0.2 });
    await assertParity('gblinear', syntheticTrain, scored, names, { base_score: 0.8 });
  });

  it('holds for trees grown by the exact and approx methods as well as hist', async () => {
    await assertParity('gbtree', syntheticTrain, scored, names, { tree_method: 'exact', max_depth: 6 });
    await assertParity('rf', syntheticTrain, scored, names, { tree_method: 'approx' });
  });

  it('exports ai.onnx.ml operators with the documented structure', async () => {
    const { model: trees } = await assertParity('gbtree', syntheticTrain, syntheticScored, names);
    const treeModel = onnxProto.onnx.ModelProto.decode(trees);
    assert.deepEqual(
      treeModel.opsetImport.map((opset) => opset.domain),
      ['', 'ai.onnx.ml'],
    );
    assert.deepEqual(treeModel.graph!.node!.map((node) => node.opType), ['TreeEnsembleClassifier']);
    const attribute = (name: string) => treeModel.graph!.node![0].attribute!.find((a) => a.name === name)!;
    assert.equal(Buffer.from(attribute('post_transform').s!).toString(), 'LOGISTIC');
    const modes = new Set(attribute('nodes_modes').strings!.map((s) => Buffer.from(s).toString()));
    assert.deepEqual([...modes].sort(), ['BRANCH_LT', 'LEAF']);
    // Missing values go both ways somewhere in the ensemble: the default directions were learnt, not fixed.
    const tracks = new Set(attribute('nodes_missing_value_tracks_true').ints!.map(Number));
    assert.ok(tracks.has(1));
    assert.deepEqual(treeModel.graph!.input!.map((input) => input.name), ['features']);
    assert.equal(JSON.parse(treeModel.metadataProps.find((p) => p.key === 'feature_names')!.value!).length, 15);

    const { model: linear } = await assertParity('gblinear', syntheticTrain, syntheticScored, names);
    const linearModel = onnxProto.onnx.ModelProto.decode(linear);
    assert.deepEqual(linearModel.graph!.node!.map((node) => node.opType), ['Imputer', 'LinearClassifier']);
  });

  it('refuses booster JSON it cannot convert, naming the problem', () => {
    assert.throws(() => exportToOnnx('not json', ['a']), (e: unknown) => e instanceof InvalidModelArtifact && /not JSON/.test(e.message));
    const { booster } = train({ train: syntheticTrain, params: FAMILY_PARAMS.gbtree, rounds: 2 });
    const json = booster.toJson();
    booster.dispose();
    assert.throws(() => exportToOnnx(json, names.slice(0, 3)), /15 features, 3 feature names/);
    const regression = JSON.parse(json);
    regression.learner.objective.name = 'reg:squarederror';
    assert.throws(() => exportToOnnx(JSON.stringify(regression), names), /objective 'reg:squarederror' is not supported/);
    const broken = JSON.parse(json);
    broken.learner.gradient_booster.model.trees[1].split_conditions.pop();
    assert.throws(() => exportToOnnx(JSON.stringify(broken), names), /tree 1: split_conditions has/);
  });

  it('scores nothing for no rows and refuses use after release', async () => {
    const { booster } = train({ train: syntheticTrain, params: FAMILY_PARAMS.gbtree, rounds: 2 });
    const scorer = await OnnxScorer.load(exportToOnnx(booster.toJson(), names));
    booster.dispose();
    assert.equal((await scorer.score({ data: new Float32Array(0), rows: 0, cols: 15 })).length, 0);
    await assert.rejects(scorer.score({ data: new Float32Array(14), rows: 1, cols: 15 }), /rows × cols/);
    await scorer.release();
    await scorer.release();
    await assert.rejects(scorer.score(syntheticScored), /released/);
  });
});
