// libxgboost's contributions through our koffi binding against independent computations on small fixed models:
// Python's xgboost 1.7.6 (PyPI's own build of libxgboost, in the test oracle venv) loading the same booster.json, and a
// hand-worked depth-1 tree. Both libraries compute TreeSHAP in float32, so the oracle's float32 values are compared to
// ours within 1e-9 (in practice they are equal bit for bit); the hand-worked tree is float64 and compared within 1e-6.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { train } from '../../core/xgboost/index.js';
import { FAMILY_PARAMS, syntheticProblem, type Family } from '../xgboost/fixtures.js';

const ORACLE_PYTHON = join(process.cwd(), '.tools', 'oracle', 'bin', 'python');

const ORACLE = String.raw`
import json, sys
import numpy as np
import xgboost as xgb
request = json.load(sys.stdin)
booster = xgb.Booster(model_file=request["model"])
data = np.array([np.nan if v is None else v for v in request["data"]], dtype=np.float32).reshape(request["rows"], request["cols"])
contributions = booster.predict(xgb.DMatrix(data, missing=np.nan), pred_contribs=True)
margins = booster.predict(xgb.DMatrix(data, missing=np.nan), output_margin=True)
print(json.dumps({"version": xgb.__version__, "contributions": [float(v) for v in contributions.ravel()], "margins": [float(v) for v in margins.ravel()]}))
`;

function runXGBoostOracle(model: string, matrix: { data: Float32Array; rows: number; cols: number }): { version: string; contributions: number[]; margins: number[] } {
  if (!existsSync(ORACLE_PYTHON)) throw new Error(`the test oracle ${ORACLE_PYTHON} is missing: run \`scripts/setup --tests\` (it installs xgboost there)`);
  const input = JSON.stringify({ model, rows: matrix.rows, cols: matrix.cols, data: Array.from(matrix.data, (v) => (Number.isNaN(v) ? null : v)) });
  const result = spawnSync(ORACLE_PYTHON, ['-c', ORACLE], { input, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (result.status !== 0) throw new Error(`xgboost oracle failed (${result.status}): ${result.stderr}\nrun \`scripts/setup --tests\` to install it`);
  return JSON.parse(result.stdout);
}

const SMALL_ROUNDS: Record<Family, number> = { gbtree: 8, gblinear: 10, rf: 1 };
const SMALL_PARAMS: Record<Family, Record<string, string | number>> = {
  gbtree: { ...FAMILY_PARAMS.gbtree, max_depth: 3 },
  gblinear: { ...FAMILY_PARAMS.gblinear },
  rf: { ...FAMILY_PARAMS.rf, num_parallel_tree: 5, max_depth: 3 },
};

for (const family of ['gbtree', 'rf', 'gblinear'] as const) {
  test(`${family}: contributions equal Python xgboost's pred_contribs on the same booster.json within 1e-9, and sum to its margin`, async (t) => {
    const problem = syntheticProblem({ rows: 400, cols: 6, seed: 11, missingShare: family === 'gblinear' ? 0 : 0.15 });
    const { booster } = train({ train: problem, params: SMALL_PARAMS[family], rounds: SMALL_ROUNDS[family] });
    const dir = await mkdtemp(join(tmpdir(), 'treeshap-oracle-'));
    try {
      const model = join(dir, 'booster.json');
      await writeFile(model, booster.toJson());
      const explained = { data: problem.data.subarray(0, 60 * problem.cols), rows: 60, cols: problem.cols };
      const ours = booster.predictContributions(explained);
      const oracle = runXGBoostOracle(model, explained);
      assert.match(oracle.version, /^1\.7\./);
      assert.equal(ours.cols, problem.cols + 1);
      assert.equal(oracle.contributions.length, ours.values.length);
      let worst = 0;
      ours.values.forEach((value, index) => (worst = Math.max(worst, Math.abs(value - oracle.contributions[index]))));
      assert.ok(worst <= 1e-9, `largest difference from the oracle ${worst}`);
      t.diagnostic(`largest difference from Python xgboost ${oracle.version}: ${worst}`);
      // Each row (its features and the bias, last) sums to the oracle's margin, within float32 rounding of the sum.
      for (let row = 0; row < explained.rows; row++) {
        const sum = ours.values.subarray(row * ours.cols, (row + 1) * ours.cols).reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(sum - oracle.margins[row]) < 1e-5, `row ${row}: Σ ${sum} vs margin ${oracle.margins[row]}`);
      }
      // Not a trivial model: some contributions are non-zero and differ between rows.
      assert.ok(new Set(Array.from(ours.values).filter((_, i) => i % ours.cols === 0)).size > 5);
    } finally {
      booster.dispose();
      await rm(dir, { recursive: true, force: true });
    }
  });
}

test('a hand-worked stump: φ = leaf(x) − E[leaf] by cover, bias = base margin + E[leaf] (float64 within 1e-6)', () => {
  const problem = syntheticProblem({ rows: 300, cols: 3, seed: 5, missingShare: 0.2 });
  const { booster } = train({ train: problem, params: { ...FAMILY_PARAMS.gbtree, max_depth: 1, eta: 0.3, base_score: 0.3 }, rounds: 1 });
  try {
    const json = JSON.parse(booster.toJson());
    const tree = json.learner.gradient_booster.model.trees[0];
    const baseMargin = Math.log(0.3 / 0.7);
    assert.equal(tree.left_children.length, 3, 'one split, two leaves');
    const [left, right] = [tree.left_children[0], tree.right_children[0]];
    const feature = tree.split_indices[0];
    const threshold = Math.fround(tree.split_conditions[0]); // libxgboost compares in float32
    const cover = tree.sum_hessian;
    const expected = (cover[left] * tree.split_conditions[left] + cover[right] * tree.split_conditions[right]) / (cover[left] + cover[right]);
    const contributions = booster.predictContributions(problem);
    for (let row = 0; row < problem.rows; row++) {
      const x = problem.data[row * problem.cols + feature];
      const goesLeft = Number.isNaN(x) ? tree.default_left[0] === 1 : x < threshold;
      const leaf = tree.split_conditions[goesLeft ? left : right];
      const values = contributions.values.subarray(row * contributions.cols, (row + 1) * contributions.cols);
      for (let col = 0; col < problem.cols; col++) {
        const want = col === feature ? leaf - expected : 0;
        assert.ok(Math.abs(values[col] - want) < 1e-6, `row ${row} feature ${col}: ${values[col]} vs ${want}`);
      }
      assert.ok(Math.abs(values[problem.cols] - (baseMargin + expected)) < 1e-6, `row ${row} bias: ${values[problem.cols]} vs ${baseMargin + expected}`);
    }
  } finally {
    booster.dispose();
  }
});
