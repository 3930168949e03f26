// The native part of training one candidate, run on a worker thread (candidate-fit-thread.ts): the parameter search
// (each set trained on the train months, early-stopped and judged on the test months), the class weighting undone
// on the best booster, its scores on every split, its feature importance and its ONNX export. The attribution
// baseline (TreeSHAP on up to 5,000 rows of train and OOT) is not part of a fit: it is computed for the one candidate
// registered (attributeCandidate, at registration), not for the two the selection drops (a 100-tree forest's cost
// ~20× its fit at the real data's size, and was done for every family of every training). Every libxgboost call
// of a booster happens here, on one thread (libxgboost 1.7 keeps per-thread prediction caches). Synchronous on
// purpose: it blocks its own thread, never the worker's event loop. Its imports stay light (no DuckDB, no
// onnxruntime): the thread loads them for every fit.
import type { ModelFamily } from '../../lib/contracts.js';
import { Booster } from '../xgboost/booster.js';
import { withSharedMatrices } from '../xgboost/train.js';
import { exportToOnnx } from '../onnx/export.js';
import { shiftBaseMargin } from './calibration.js';
import type { FamilyPlan } from './families.js';
import { auc, defined } from './metrics.js';
import type { LabelledMatrix, Split } from './training-set.js';
import type { Params } from '../../lib/model-summaries.js';
import type { AttributionBaseline } from '../../lib/contracts.js';
import type { Preprocessor } from '../features/preprocessor.js';
import type { DenseMatrix } from '../xgboost/matrix.js';
import { attributionBaselineOf } from '../explain/attribution-baseline.js';

export interface CandidateFitInput {
  family: ModelFamily;
  plan: FamilyPlan;
  /** The splits with the family's missing-value policy applied. */
  splits: Record<Split, LabelledMatrix>;
  /** negatives / positives of the train split. */
  scalePosWeight: number;
  /** Encoded feature names, in column order (importance and ONNX inputs). */
  featureNames: string[];
}

export interface CandidateFitProgress {
  family: ModelFamily;
  search: number;
  of: number;
  iteration: number;
  validationAuc?: number;
  /** Not started yet: waiting for the fits already running to leave room in memory (candidate.ts). */
  waiting?: true;
}

export interface CandidateFit {
  /** The best booster's native JSON, with the class weighting undone (what is registered). */
  boosterJson: string;
  /** The search parameters of the best booster (without scale_pos_weight). */
  params: Params;
  rounds: number;
  scores: Record<Split, Float32Array>;
  importanceCsv: string;
  onnx: Uint8Array;
}

/** What the attribution baseline of a fitted candidate is computed from (attributeCandidate). */
export interface AttributionInput {
  /** The candidate's booster JSON (booster.json: the class weighting undone). */
  boosterJson: string;
  /** The preprocessor with the family's missing-value policy (what the splits were prepared with). */
  preprocessor: Preprocessor;
  train: DenseMatrix;
  oot: DenseMatrix;
}

/** Mean |contribution| per raw feature on the train and OOT splits (metadata.json's attribution). */
export function attributeCandidate(input: AttributionInput): AttributionBaseline {
  const booster = Booster.fromJson(input.boosterJson);
  try {
    return attributionBaselineOf(booster, input.preprocessor, { train: input.train, oot: input.oot });
  } finally {
    booster.dispose();
  }
}

/** Thrown by `fitCandidate` when `stopRequested` answered true between two boosting rounds. */
export class FitStopped extends Error {
  constructor() {
    super('candidate fit stopped on request');
    this.name = 'FitStopped';
  }
}

/**
 * The threads of a fit's next round: its share of the cores when fits share them, never more than its parameters'
 * nthread or its family's maxThreads. Undefined (the parameters' nthread throughout) when neither limits it.
 */
export function threadsForNextRound(params: Params, plan: FamilyPlan, threadShare?: () => number): (() => number) | undefined {
  const cap = Math.min(Number(params.nthread ?? Infinity), plan.maxThreads ?? Infinity);
  if (threadShare) return () => Math.min(threadShare(), cap);
  return plan.maxThreads === undefined ? undefined : () => cap;
}

/** Importance per encoded feature: gain for trees, |coefficient| for gblinear (XGBoost defines no gain there). */
function importanceCsv(booster: Booster, family: ModelFamily, featureNames: string[]): string {
  const type = family === 'gblinear' ? 'weight' : 'gain';
  const scores = booster.featureScores(type, featureNames);
  const rows = featureNames
    .map((name) => ({ name, value: family === 'gblinear' ? Math.abs(scores.get(name) ?? 0) : scores.get(name) ?? 0 }))
    .sort((a, b) => b.value - a.value);
  const quote = (text: string) => (/[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text);
  const label = family === 'gblinear' ? 'abs_weight' : 'gain';
  return ['feature,importance,importance_type', ...rows.map((row) => `${quote(row.name)},${row.value},${label}`)].join('\n') + '\n';
}

export function fitCandidate(
  input: CandidateFitInput,
  onProgress: (progress: CandidateFitProgress) => void,
  stopRequested: () => boolean,
  /** Threads this fit may use now (fits running at once share the cores); at most the parameters' nthread. */
  threadShare?: () => number,
): CandidateFit {
  const { family, plan, splits, scalePosWeight, featureNames } = input;
  let best: { booster: Booster; params: Params; testAuc: number; rounds: number } | undefined;
  try {
    // The search's fits share one pair of native matrices (and their histogram index): built once, not per set.
    withSharedMatrices(splits.train, splits.test, (fit) => {
      for (const [index, candidateParams] of plan.search.entries()) {
        const params = { ...candidateParams, scale_pos_weight: scalePosWeight };
        const result = fit({
          params,
          rounds: plan.rounds,
          earlyStoppingRounds: plan.earlyStoppingRounds,
          threadsForNextRound: threadsForNextRound(candidateParams, plan, threadShare),
          onIteration: (iteration, validationAuc) => {
            if (stopRequested()) throw new FitStopped();
            onProgress({ family, search: index + 1, of: plan.search.length, iteration, validationAuc });
          },
        });
        const testAuc = result.bestValidationAuc ?? defined(auc(result.booster.predict(splits.test), splits.test.labels), 'test AUC');
        if (!best || testAuc > best.testAuc) {
          best?.booster.dispose();
          best = { booster: result.booster, params: candidateParams, testAuc, rounds: result.bestIteration + 1 };
        } else {
          result.booster.dispose();
        }
      }
    });
  } catch (error) {
    best?.booster.dispose();
    throw error;
  }
  if (!best) throw new Error(`no parameter set to train for ${family}`);

  const boosterJson = shiftBaseMargin(best.booster.toJson(), -Math.log(scalePosWeight));
  best.booster.dispose();
  const booster = Booster.fromJson(boosterJson);
  try {
    const scores = Object.fromEntries(Object.entries(splits).map(([split, matrix]) => [split, booster.predict(matrix)])) as Record<Split, Float32Array>;
    return {
      boosterJson,
      params: best.params,
      rounds: best.rounds,
      scores,
      importanceCsv: importanceCsv(booster, family, featureNames),
      onnx: exportToOnnx(boosterJson, featureNames),
    };
  } finally {
    booster.dispose();
  }
}
