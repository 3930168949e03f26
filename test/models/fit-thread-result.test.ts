// A candidate's fit runs on a worker thread (core/models/candidate-fit-thread.ts) and its result comes back with
// postMessage. Node 22 and later refuse to transfer an ArrayBuffer they did not allocate for JavaScript (the Buffer
// pool behind protobufjs' ONNX bytes, native memory) with DataCloneError, where Node 20 silently copied it: every
// training of the pipeline failed on them ("Cannot transfer object of unsupported type"). This test crosses that
// boundary for each family and checks the result against the same fit run in this thread. It runs on the Node that
// runs the suite (`npm test`: the newest LTS pinned in scripts/requirements/node.lock).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attributeCandidate, fitCandidate, type CandidateFitInput } from '../../core/models/candidate-fit.js';
import { attributeOnThread, fitCandidateOnThread } from '../../core/models/candidate-fit-thread.js';
import type { Preprocessor } from '../../core/features/preprocessor.js';
import { familyPlan } from '../../core/models/families.js';
import type { LabelledMatrix, Split } from '../../core/models/training-set.js';
import { MODEL_FAMILIES } from '../../lib/contracts.js';
import { seededRandom } from '../helpers/random.js';

const FEATURES = ['income', 'debt_ratio', 'delays', 'noise'];
const ROWS: Record<Split, number> = { train: 600, test: 200, oot: 200 };

/** Rows whose default risk rises with debt and delays and falls with income; the same rows for a given seed. */
function matrix(rows: number, seed: number): LabelledMatrix {
  const random = seededRandom(seed);
  const data = new Float32Array(rows * FEATURES.length);
  const labels = new Float32Array(rows);
  for (let row = 0; row < rows; row++) {
    const [income, debt, delays, noise] = [random() * 2, random(), Math.floor(random() * 10), random()];
    data.set([income, debt, delays, noise], row * FEATURES.length);
    labels[row] = random() < 1 / (1 + Math.exp(-(-1.5 + 2 * debt + 0.3 * delays - income))) ? 1 : 0;
  }
  return { data, labels, rows, cols: FEATURES.length };
}

/** A fresh input each call: the thread takes the input's matrices (transferred), so each fit gets its own. */
function input(family: (typeof MODEL_FAMILIES)[number]): CandidateFitInput {
  const splits = { train: matrix(ROWS.train, 1), test: matrix(ROWS.test, 2), oot: matrix(ROWS.oot, 3) };
  const positives = splits.train.labels.reduce((sum, label) => sum + label, 0);
  // One parameter set on one thread: the fit is deterministic, so both fits must agree exactly.
  return { family, plan: familyPlan(family, { nthread: 1 }), splits, scalePosWeight: (ROWS.train - positives) / positives, featureNames: FEATURES };
}

const PREPROCESSOR: Preprocessor = { version: 1, missing: 'native', features: FEATURES.map((name) => ({ name, kind: 'numeric' as const, impute: 0 })), encoded: FEATURES };

for (const family of MODEL_FAMILIES) {
  test(`${family}: the fit thread's result crosses to the caller whole (scores, ONNX bytes) on ${process.version}`, async () => {
    const onThread = await fitCandidateOnThread(input(family));
    const here = fitCandidate(input(family), () => undefined, () => false);

    assert.equal(onThread.boosterJson, here.boosterJson);
    // The attribution baseline, computed at registration on a fit thread too, crosses whole.
    const sets = () => ({ train: matrix(ROWS.train, 1), oot: matrix(ROWS.oot, 3) });
    const attributedOnThread = await attributeOnThread({ boosterJson: here.boosterJson, preprocessor: PREPROCESSOR, ...sets() });
    const attributedHere = attributeCandidate({ boosterJson: here.boosterJson, preprocessor: PREPROCESSOR, ...sets() });
    assert.deepEqual(attributedOnThread, attributedHere, 'the attribution baseline crosses whole');
    assert.deepEqual(attributedHere.rows, { train: ROWS.train, oot: ROWS.oot });
    assert.ok(attributedHere.train.debt_ratio > attributedHere.train.noise, 'a feature the labels depend on attributes more than noise');
    assert.deepEqual(onThread.params, here.params);
    for (const split of ['train', 'test', 'oot'] as const) {
      assert.ok(onThread.scores[split] instanceof Float32Array, split);
      assert.equal(onThread.scores[split].length, ROWS[split], `${split}: one score per row`);
      assert.deepEqual(onThread.scores[split], here.scores[split], `${split} scores`);
    }
    assert.ok(onThread.onnx instanceof Uint8Array && onThread.onnx.length > 0);
    assert.deepEqual(Buffer.from(onThread.onnx), Buffer.from(here.onnx), 'ONNX bytes');
    assert.equal(onThread.importanceCsv, here.importanceCsv);
  });
}
