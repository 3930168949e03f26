// Typed binding of libxgboost's C API (through koffi): training, prediction, JSON models, feature scores.
import { loadXGBoost } from './native.js';

export { Booster, type ImportanceType } from './booster.js';
export { XGBoostError } from '../../lib/errors.js';
export { assertDenseMatrix, type DenseMatrix, type LabelledMatrix } from './matrix.js';
export { loadXGBoost, loadedLibraryPath } from './native.js';
export { train, withSharedMatrices, parseEvalAuc, type BoosterParams, type TrainOptions, type TrainResult } from './train.js';

/** libxgboost's version, e.g. '1.7.4'. */
export function xgboostVersion(): string {
  const major: [number] = [0];
  const minor: [number] = [0];
  const patch: [number] = [0];
  loadXGBoost().XGBoostVersion(major, minor, patch);
  return `${major[0]}.${minor[0]}.${patch[0]}`;
}
