// Boosting loop over the C API: one XGBoosterUpdateOneIter per round, validation AUC from XGBoosterEvalOneIter,
// early stopping that keeps the rounds up to the best validation AUC.
import { Booster, createBoosterHandle } from './booster.js';
import { XGBoostError } from '../../lib/errors.js';
import { withDMatrices, type LabelledMatrix } from './matrix.js';
import { check, copyBytes, loadXGBoost, type Handle } from './native.js';

export type BoosterParams = Record<string, string | number | boolean>;

export interface TrainOptions {
  train: LabelledMatrix;
  /** e.g. { booster: 'gbtree', objective: 'binary:logistic', max_depth: 4, eta: 0.1, seed: 7, nthread: 2 } */
  params: BoosterParams;
  rounds: number;
  /** Early stopping watches AUC on it. */
  validation?: LabelledMatrix;
  earlyStoppingRounds?: number;
  /** Called after every round (0-based), with the validation AUC when there is a validation matrix. */
  onIteration?: (iteration: number, validationAuc?: number) => void;
  /**
   * libxgboost threads for the next round (its `nthread`): a fit sharing the cores with other fits runs on fewer
   * threads than `params.nthread`. Asked before every round of a tree booster, whose trees do not depend on it; before
   * the first round only for gblinear, whose updater is rebuilt when a parameter changes mid-training, which changes
   * its weights (test/xgboost/binding.test.ts).
   */
  threadsForNextRound?: () => number;
}

export interface TrainResult {
  /** Holds exactly bestIteration + 1 rounds. */
  booster: Booster;
  /** With early stopping: the round of the best validation AUC; otherwise the last round trained. */
  bestIteration: number;
  roundsTrained: number;
  /** Validation AUC at bestIteration, when there was a validation matrix. */
  bestValidationAuc?: number;
}

const VALIDATION_NAME = 'validation';

function paramValue(value: string | number | boolean): string {
  if (typeof value === 'number' && !Number.isFinite(value)) throw new RangeError(`parameter value ${value} is not finite`);
  return String(value);
}

/** Parses `[3]\tvalidation-auc:0.8123` as printed by XGBoosterEvalOneIter. */
export function parseEvalAuc(evaluation: string): number {
  const match = new RegExp(`\\b${VALIDATION_NAME}-auc:(\\S+)`).exec(evaluation);
  if (!match) throw new XGBoostError(`no ${VALIDATION_NAME}-auc in evaluation output '${evaluation}'`, 'XGBoosterEvalOneIter');
  return Number(match[1]);
}

function checkOptions(options: TrainOptions): void {
  const { rounds, validation, earlyStoppingRounds } = options;
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`rounds must be a positive integer, got ${rounds}`);
  if (earlyStoppingRounds !== undefined) {
    if (!validation) throw new RangeError('earlyStoppingRounds needs a validation matrix');
    if (!Number.isInteger(earlyStoppingRounds) || earlyStoppingRounds < 1) {
      throw new RangeError(`earlyStoppingRounds must be a positive integer, got ${earlyStoppingRounds}`);
    }
  }
  if (validation && validation.cols !== options.train.cols) {
    throw new RangeError(`validation has ${validation.cols} columns, train has ${options.train.cols}`);
  }
}

/** One fit on native matrices of its own (options checked before any is built). */
export function train(options: TrainOptions): TrainResult {
  checkOptions(options);
  return withSharedMatrices(options.train, options.validation, (fit) => fit(options));
}

/** What one fit of `withSharedMatrices` takes: TrainOptions without the matrices. */
export type SharedMatrixTrainOptions = Omit<TrainOptions, 'train' | 'validation'>;

/**
 * Runs `use` with a `fit` that trains on `train` (and `validation`) like train() does, every fit on the same native
 * DMatrices: a parameter search builds them and their histogram index once (~0.3 CPU s per fit at 10 × the real data
 * set), and gets the boosters train() would give (test/xgboost/binding.test.ts).
 */
export function withSharedMatrices<T>(
  train: LabelledMatrix,
  validation: LabelledMatrix | undefined,
  use: (fit: (options: SharedMatrixTrainOptions) => TrainResult) => T,
): T {
  const matrices = [{ matrix: train, what: 'train' }];
  if (validation) matrices.push({ matrix: validation, what: 'validation' });
  return withDMatrices(matrices, ([dtrain, dvalid]) =>
    use((options) => {
      const full = { ...options, train, validation };
      checkOptions(full);
      return trainOn(dtrain, dvalid, full);
    }),
  );
}

function trainOn(dtrain: Handle, dvalid: Handle | undefined, options: TrainOptions): TrainResult {
  const { params, rounds, earlyStoppingRounds, onIteration, threadsForNextRound } = options;
  const api = loadXGBoost();
  // gblinear cannot be sliced (XGBoosterSlice is tree-only), so its best model is kept as a saved snapshot.
  const linear = params.booster === 'gblinear';
  const booster = new Booster(createBoosterHandle(dvalid ? [dtrain, dvalid] : [dtrain]));
  try {
    for (const [name, value] of Object.entries(params)) {
      check(api, api.XGBoosterSetParam(booster.handle, name, paramValue(value)), `XGBoosterSetParam(${name})`);
    }
    if (dvalid) check(api, api.XGBoosterSetParam(booster.handle, 'eval_metric', 'auc'), 'XGBoosterSetParam(eval_metric)');

    let bestIteration = -1;
    let bestAuc = Number.NEGATIVE_INFINITY;
    let bestSnapshot: Uint8Array | undefined;
    let lastAuc: number | undefined;
    let roundsTrained = 0;
    let threads = params.nthread;
    for (let iteration = 0; iteration < rounds; iteration++) {
      const wanted = iteration === 0 || !linear ? threadsForNextRound?.() : undefined;
      if (wanted !== undefined && wanted !== threads) {
        check(api, api.XGBoosterSetParam(booster.handle, 'nthread', paramValue(wanted)), 'XGBoosterSetParam(nthread)');
        threads = wanted;
      }
      check(api, api.XGBoosterUpdateOneIter(booster.handle, iteration, dtrain), 'XGBoosterUpdateOneIter');
      roundsTrained = iteration + 1;
      if (!dvalid) {
        onIteration?.(iteration);
        continue;
      }
      const auc = evaluateAuc(booster.handle, iteration, dvalid);
      lastAuc = auc;
      onIteration?.(iteration, auc);
      if (auc > bestAuc || bestIteration < 0) {
        bestAuc = auc;
        bestIteration = iteration;
        if (linear && earlyStoppingRounds !== undefined) bestSnapshot = saveRaw(booster.handle);
      } else if (earlyStoppingRounds !== undefined && iteration - bestIteration >= earlyStoppingRounds) {
        break;
      }
    }

    if (earlyStoppingRounds === undefined || bestIteration === roundsTrained - 1) {
      return {
        booster,
        bestIteration: roundsTrained - 1,
        roundsTrained,
        bestValidationAuc: lastAuc,
      };
    }
    const best = linear ? Booster.fromJson(Buffer.from(bestSnapshot!).toString('utf8')) : booster.slice(0, bestIteration + 1);
    booster.dispose();
    return { booster: best, bestIteration, roundsTrained, bestValidationAuc: bestAuc };
  } catch (error) {
    booster.dispose();
    throw error;
  }
}

function evaluateAuc(booster: Handle, iteration: number, dvalid: Handle): number {
  const api = loadXGBoost();
  const out: [string | null] = [null];
  check(api, api.XGBoosterEvalOneIter(booster, iteration, [dvalid], [VALIDATION_NAME], 1, out), 'XGBoosterEvalOneIter');
  return parseEvalAuc(out[0] ?? '');
}

function saveRaw(booster: Handle): Uint8Array {
  const api = loadXGBoost();
  const length: [number | bigint] = [0];
  const pointer: [Handle | null] = [null];
  check(api, api.XGBoosterSaveModelToBuffer(booster, '{"format":"json"}', length, pointer), 'XGBoosterSaveModelToBuffer');
  return copyBytes(pointer[0] as Handle, Number(length[0]));
}
