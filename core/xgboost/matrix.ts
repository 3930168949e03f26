// Dense matrices handed to libxgboost, and the scoped native DMatrix built from them.
import { check, loadXGBoost, type Handle } from './native.js';

/** Row-major float matrix; NaN marks a missing value. */
export interface DenseMatrix {
  data: Float32Array;
  rows: number;
  cols: number;
}

export interface LabelledMatrix extends DenseMatrix {
  labels: Float32Array;
  weights?: Float32Array;
}

/** Refuses a matrix whose buffer does not hold rows × cols values (libxgboost would read past it). */
export function assertDenseMatrix(matrix: DenseMatrix, what = 'matrix'): void {
  const { rows, cols, data } = matrix;
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols < 0) {
    throw new RangeError(`${what}: rows and cols must be non-negative integers, got ${rows} × ${cols}`);
  }
  if (!(data instanceof Float32Array)) throw new TypeError(`${what}: data must be a Float32Array`);
  if (data.length !== rows * cols) {
    throw new RangeError(`${what}: data holds ${data.length} values, expected rows × cols = ${rows * cols}`);
  }
}

function assertLabelled(matrix: LabelledMatrix, what: string): void {
  assertDenseMatrix(matrix, what);
  if (!(matrix.labels instanceof Float32Array) || matrix.labels.length !== matrix.rows) {
    throw new RangeError(`${what}: labels must be a Float32Array of ${matrix.rows} values, got ${matrix.labels?.length}`);
  }
  if (matrix.weights !== undefined && (!(matrix.weights instanceof Float32Array) || matrix.weights.length !== matrix.rows)) {
    throw new RangeError(`${what}: weights must be a Float32Array of ${matrix.rows} values, got ${matrix.weights.length}`);
  }
}

/** Creates a native DMatrix (NaN = missing) with optional label/weight info; the caller must free it. */
function createDMatrix(matrix: DenseMatrix | LabelledMatrix): Handle {
  const api = loadXGBoost();
  const out: [Handle | null] = [null];
  check(api, api.XGDMatrixCreateFromMat(matrix.data, matrix.rows, matrix.cols, Number.NaN, out), 'XGDMatrixCreateFromMat');
  const handle = out[0] as Handle;
  try {
    if ('labels' in matrix && matrix.labels) {
      check(api, api.XGDMatrixSetFloatInfo(handle, 'label', matrix.labels, matrix.rows), 'XGDMatrixSetFloatInfo(label)');
      if (matrix.weights) {
        check(api, api.XGDMatrixSetFloatInfo(handle, 'weight', matrix.weights, matrix.rows), 'XGDMatrixSetFloatInfo(weight)');
      }
    }
    return handle;
  } catch (error) {
    api.XGDMatrixFree(handle);
    throw error;
  }
}

/** Runs `use` with native DMatrices for the given matrices, freeing every one of them afterwards. */
export function withDMatrices<T>(matrices: Array<{ matrix: DenseMatrix | LabelledMatrix; what: string }>, use: (handles: Handle[]) => T): T {
  const api = loadXGBoost();
  const handles: Handle[] = [];
  try {
    for (const { matrix, what } of matrices) {
      if ('labels' in matrix) assertLabelled(matrix as LabelledMatrix, what);
      else assertDenseMatrix(matrix, what);
      handles.push(createDMatrix(matrix));
    }
    return use(handles);
  } finally {
    for (const handle of handles) api.XGDMatrixFree(handle);
  }
}
