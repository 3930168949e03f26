// A trained XGBoost model held as a native BoosterHandle, with deterministic release.
import { XGBoostError } from '../../lib/errors.js';
import { assertDenseMatrix, withDMatrices, type DenseMatrix } from './matrix.js';
import { check, copyBytes, copyFloats, decodeStrings, decodeUint64s, loadXGBoost, type Handle } from './native.js';

export type ImportanceType = 'gain' | 'weight' | 'cover' | 'total_gain' | 'total_cover';

// Safety net for boosters nobody disposed: frees the native handle when the JS object is collected.
const finalizer = new FinalizationRegistry<Handle>((handle) => {
  loadXGBoost().XGBoosterFree(handle);
});

/** Creates an empty native booster attached to the given DMatrices (none for a booster loaded from a buffer). */
export function createBoosterHandle(dmatrices: Handle[]): Handle {
  const api = loadXGBoost();
  const out: [Handle | null] = [null];
  check(api, api.XGBoosterCreate(dmatrices, dmatrices.length, out), 'XGBoosterCreate');
  return out[0] as Handle;
}

export class Booster {
  #handle: Handle | undefined;

  /** Takes ownership of a native handle: it is freed by dispose() or, failing that, by the finalizer. */
  constructor(handle: Handle) {
    this.#handle = handle;
    finalizer.register(this, handle, this);
  }

  /** Loads a model saved by toJson() (XGBoost's native JSON model). */
  static fromJson(json: string): Booster {
    const api = loadXGBoost();
    const handle = createBoosterHandle([]);
    try {
      const bytes = Buffer.from(json, 'utf8');
      check(api, api.XGBoosterLoadModelFromBuffer(handle, bytes, bytes.length), 'XGBoosterLoadModelFromBuffer');
    } catch (error) {
      api.XGBoosterFree(handle);
      throw error;
    }
    return new Booster(handle);
  }

  /** The native handle; throws once disposed. For this module's own use (training, slicing). */
  get handle(): Handle {
    if (this.#handle === undefined) throw new XGBoostError('the booster has been disposed');
    return this.#handle;
  }

  get disposed(): boolean {
    return this.#handle === undefined;
  }

  /** Transformed predictions: for binary:logistic, the probability of class 1 per row. */
  predict(matrix: DenseMatrix): Float32Array {
    assertDenseMatrix(matrix);
    const api = loadXGBoost();
    const handle = this.handle;
    return withDMatrices([{ matrix, what: 'predict matrix' }], ([dmatrix]) => {
      const shape: [Handle | null] = [null];
      const dims: [number | bigint] = [0];
      const result: [Handle | null] = [null];
      const config = JSON.stringify({ type: 0, training: false, iteration_begin: 0, iteration_end: 0, strict_shape: false });
      check(api, api.XGBoosterPredictFromDMatrix(handle, dmatrix, config, shape, dims, result), 'XGBoosterPredictFromDMatrix');
      const length = decodeUint64s(shape[0] as Handle, Number(dims[0])).reduce((a, b) => a * b, 1);
      if (length !== matrix.rows) {
        throw new XGBoostError(`expected one prediction per row (${matrix.rows}), got ${length}: is the objective binary?`);
      }
      return copyFloats(result[0] as Handle, length);
    });
  }

  /**
   * libxgboost's own feature contributions on the margin (log-odds) scale: TreeSHAP for tree boosters (exact, not the
   * approximate Saabas values), w·x for gblinear. Row-major, `cols` = features + 1 per row, the last column of each row
   * being the bias (base margin plus, for gblinear, its bias weight), so a row sums to the margin. float32, as
   * libxgboost computes them.
   */
  predictContributions(matrix: DenseMatrix): { values: Float32Array; rows: number; cols: number } {
    assertDenseMatrix(matrix);
    const api = loadXGBoost();
    const handle = this.handle;
    if (matrix.rows === 0) return { values: new Float32Array(0), rows: 0, cols: matrix.cols + 1 };
    return withDMatrices([{ matrix, what: 'contributions matrix' }], ([dmatrix]) => {
      const shape: [Handle | null] = [null];
      const dims: [number | bigint] = [0];
      const result: [Handle | null] = [null];
      // type 2: contributions (4 would be the approximate ones).
      const config = JSON.stringify({ type: 2, training: false, iteration_begin: 0, iteration_end: 0, strict_shape: false });
      check(api, api.XGBoosterPredictFromDMatrix(handle, dmatrix, config, shape, dims, result), 'XGBoosterPredictFromDMatrix(contribs)');
      const shapeValues = decodeUint64s(shape[0] as Handle, Number(dims[0]));
      const length = shapeValues.reduce((a, b) => a * b, 1);
      const cols = matrix.cols + 1;
      if (length !== matrix.rows * cols) {
        throw new XGBoostError(`expected ${matrix.rows} × ${cols} contributions, got shape [${shapeValues.join(', ')}]: is the objective binary?`);
      }
      return { values: copyFloats(result[0] as Handle, length), rows: matrix.rows, cols };
    });
  }

  /** XGBoost's native JSON model. */
  toJson(): string {
    const api = loadXGBoost();
    const length: [number | bigint] = [0];
    const pointer: [Handle | null] = [null];
    check(api, api.XGBoosterSaveModelToBuffer(this.handle, '{"format":"json"}', length, pointer), 'XGBoosterSaveModelToBuffer');
    return Buffer.from(copyBytes(pointer[0] as Handle, Number(length[0]))).toString('utf8');
  }

  /** Number of boosting rounds (layers) in the model. */
  boostedRounds(): number {
    const api = loadXGBoost();
    const out: [number] = [0];
    check(api, api.XGBoosterBoostedRounds(this.handle, out), 'XGBoosterBoostedRounds');
    return out[0];
  }

  /** A new booster with layers [begin, end) of this one (tree boosters only: gblinear cannot be sliced). */
  slice(begin: number, end: number): Booster {
    const api = loadXGBoost();
    const out: [Handle | null] = [null];
    check(api, api.XGBoosterSlice(this.handle, begin, end, 1, out), 'XGBoosterSlice');
    return new Booster(out[0] as Handle);
  }

  /**
   * Importance per feature name, every name present (0 for a feature the model never uses). gblinear defines
   * only 'weight' (its coefficients); other types fail there with XGBoost's message.
   */
  featureScores(importanceType: ImportanceType, featureNames: string[]): Map<string, number> {
    const api = loadXGBoost();
    const config = JSON.stringify({ importance_type: importanceType, feature_names: featureNames });
    const nFeatures: [number | bigint] = [0];
    const features: [Handle | null] = [null];
    const dims: [number | bigint] = [0];
    const shape: [Handle | null] = [null];
    const scores: [Handle | null] = [null];
    check(api, api.XGBoosterFeatureScore(this.handle, config, nFeatures, features, dims, shape, scores), 'XGBoosterFeatureScore');
    const names = decodeStrings(features[0] as Handle, Number(nFeatures[0]));
    const length = decodeUint64s(shape[0] as Handle, Number(dims[0])).reduce((a, b) => a * b, 1);
    const values = copyFloats(scores[0] as Handle, length);
    if (values.length !== names.length) {
      throw new XGBoostError(`feature scores have ${values.length} values for ${names.length} features (multi-output model?)`);
    }
    const result = new Map<string, number>(featureNames.map((name) => [name, 0]));
    names.forEach((name, index) => result.set(name, values[index]));
    return result;
  }

  /** Frees the native booster; safe to call more than once. */
  dispose(): void {
    if (this.#handle === undefined) return;
    const handle = this.#handle;
    this.#handle = undefined;
    finalizer.unregister(this);
    check(loadXGBoost(), loadXGBoost().XGBoosterFree(handle), 'XGBoosterFree');
  }
}
