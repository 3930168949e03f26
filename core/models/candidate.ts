// Training one candidate of a family: a small parameter search judged on the test months (early stopping there
// too), class weighting undone on the probability scale, metrics on train/test/OOT, a threshold chosen on the test
// months (max F1), and the artifacts written to a candidate directory inside the training set's working directory.
// The libxgboost work runs on a thread of its own (candidate-fit-thread.ts): this function only awaits it.
import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelFamily } from '../../lib/contracts.js';
import { computeBaseline } from '../statistics/drift.js';
import { hosmerLemeshow, riskGroups } from '../statistics/calibration.js';
import type { OotCalibration } from '../../lib/contracts.js';
import type { CandidateFitProgress } from './candidate-fit.js';
import { fitCandidateOnThread } from './candidate-fit-thread.js';
import { familyPlan, type FamilyPlan } from './families.js';
import { canonicalJson, sha256Hex } from '../hashing.js';
import { publishDirectory } from '../fs-atomic.js';
import { ByteBudget } from '../byte-budget.js';
import { auc, defined, gini, ks, maxF1Threshold, thresholdMetrics } from './metrics.js';
import { imputeInPlace, withMissingPolicy, type Preprocessor } from '../features/preprocessor.js';
import { loadTrainingSet, SPLITS, trainingMatrixBytes, type LabelledMatrix, type Split } from './training-set.js';
import { candidateSummarySchema, type CandidateSummary, type Params, type TrainingSetSummary } from '../../lib/model-summaries.js';

export const CANDIDATE_FILES = {
  booster: 'booster.json',
  onnx: 'model.onnx',
  importance: 'feature_importance.csv',
  preprocessor: 'preprocessor.json',
  baseline: 'baseline.json',
  /** Written by fits before the baseline moved to registration (bank.ts reads it when present). */
  attribution: 'attribution.json',
  summary: 'candidate.json',
} as const;

export interface TrainCandidateOptions {
  trainingSet: TrainingSetSummary;
  family: ModelFamily;
  params?: Params;
  /** Called after every boosting round (heartbeats); a throw (a cancelled activity) stops the fit before its next round. */
  onProgress?: (progress: CandidateFitProgress) => void;
}

function positivesOf(matrix: LabelledMatrix): number {
  return matrix.labels.reduce((sum, label) => sum + label, 0);
}

/** The matrix with the preprocessor's missing-value policy applied (a copy imputed for 'impute', else itself). */
export function prepared(matrix: LabelledMatrix, preprocessor: Preprocessor): LabelledMatrix {
  if (preprocessor.missing !== 'impute') return matrix;
  const data = Float32Array.from(matrix.data);
  imputeInPlace(preprocessor, data);
  return { ...matrix, data };
}

/**
 * Bytes of training matrices this process fits at once. A fit holds several times its matrices (libxgboost's DMatrix
 * and histogram index beside them): the three families at once at 100 × the real data (288 MB of matrices each) took
 * the worker to 5.2 GiB. Fits that fit within it run in parallel; a larger one runs alone.
 */
export const FIT_MATRIX_BUDGET_BYTES = 512 * 2 ** 20;
const fitBudget = new ByteBudget(FIT_MATRIX_BUDGET_BYTES);

export async function trainCandidate(options: TrainCandidateOptions): Promise<CandidateSummary> {
  const plan = familyPlan(options.family, options.params);
  const bytes = await trainingMatrixBytes(options.trainingSet.path);
  const waiting = () => options.onProgress?.({ family: options.family, search: 0, of: plan.search.length, iteration: 0, waiting: true });
  return fitBudget.run(bytes, () => fitAndPublish(options, plan), waiting);
}

async function fitAndPublish(options: TrainCandidateOptions, plan: FamilyPlan): Promise<CandidateSummary> {
  const started = performance.now();
  const { family, onProgress } = options;
  const set = await loadTrainingSet(options.trainingSet.path);
  const preprocessor = withMissingPolicy(set.preprocessor, plan.missing);
  const splits = Object.fromEntries(SPLITS.map((split) => [split, prepared(set.splits[split], preprocessor)])) as Record<Split, LabelledMatrix>;

  const positives = positivesOf(splits.train);
  const scalePosWeight = (splits.train.rows - positives) / positives;

  // The search and everything else libxgboost does, on a thread of its own (candidate-fit-thread.ts).
  const fit = await fitCandidateOnThread(
    { family, plan, splits, scalePosWeight, featureNames: preprocessor.encoded },
    onProgress,
  );
  const { boosterJson, scores } = fit;
  const aucOf = (split: Split) => defined(auc(scores[split], splits[split].labels), `${split} AUC of ${family}`);
  const ootAuc = aucOf('oot');
  const { threshold } = maxF1Threshold(scores.test, splits.test.labels);
  const atThreshold = Object.fromEntries(
    SPLITS.flatMap((split) =>
      Object.entries(thresholdMetrics(scores[split], splits[split].labels, threshold)).map(([metric, value]) => [`${split}_${metric}`, value]),
    ),
  );
  const metrics = {
    train_auc: aucOf('train'),
    test_auc: aucOf('test'),
    oot_auc: ootAuc,
    oot_gini: gini(ootAuc),
    oot_ks: defined(ks(scores.oot, splits.oot.labels), `OOT KS of ${family}`),
    ...atThreshold,
  };
  // scale_pos_weight is data-derived; the recorded parameters are what identifies the model.
  const params: Params = { ...fit.params, num_boost_round: fit.rounds, scale_pos_weight: Number(scalePosWeight.toFixed(6)) };
  const paramsHash = sha256Hex(canonicalJson({ family, params })).slice(0, 12);
  const candidateDir = join(set.summary.path, 'candidates', `${family}-${paramsHash}`);
  const summary = candidateSummarySchema.parse({
    family,
    params,
    candidateDir,
    trainingDataSha256: set.summary.trainingDataSha256,
    metrics,
    threshold,
    trainingSeconds: 0,
    rounds: fit.rounds,
    calibration: ootCalibration(scores.oot, splits.oot.labels),
  });

  const exists = await access(join(candidateDir, CANDIDATE_FILES.summary)).then(() => true, () => false);
  if (!exists) {
    const baseline = computeBaseline(Array.from(scores.oot), set.ootRaw);
    await publishDirectory(candidateDir, async (dir) => {
      await writeFile(join(dir, CANDIDATE_FILES.booster), boosterJson);
      await writeFile(join(dir, CANDIDATE_FILES.onnx), fit.onnx);
      await writeFile(join(dir, CANDIDATE_FILES.importance), fit.importanceCsv);
      await writeFile(join(dir, CANDIDATE_FILES.preprocessor), JSON.stringify(preprocessor, null, 2));
      await writeFile(join(dir, CANDIDATE_FILES.baseline), JSON.stringify(baseline));
      await writeFile(join(dir, CANDIDATE_FILES.summary), JSON.stringify(summary, null, 2)); // last: marks completeness
    });
  }
  return { ...summary, trainingSeconds: (performance.now() - started) / 1000 };
}

/**
 * The OOT months' calibration: estimated performance in monitoring reads the probabilities as default rates, so a model
 * that is not calibrated out of time is said to be so when it is trained, not discovered six months later.
 */
export function ootCalibration(scores: ArrayLike<number>, labels: ArrayLike<number>): OotCalibration {
  const probabilities = Array.from(scores);
  const hl = hosmerLemeshow(probabilities, labels);
  let squaredError = 0;
  let defaults = 0;
  for (let i = 0; i < probabilities.length; i++) {
    squaredError += (probabilities[i] - labels[i]) ** 2;
    defaults += labels[i] === 1 ? 1 : 0;
  }
  return {
    reliability: riskGroups(probabilities, labels),
    hl_statistic: hl?.statistic ?? null,
    hl_p_value: hl?.p_value ?? null,
    brier: squaredError / probabilities.length,
    expected_default_rate: probabilities.reduce((sum, p) => sum + p, 0) / probabilities.length,
    observed_default_rate: defaults / probabilities.length,
  };
}

/** Reads a candidate summary back from its directory (validated). */
export async function readCandidate(candidateDir: string): Promise<CandidateSummary> {
  return candidateSummarySchema.parse(JSON.parse(await readFile(join(candidateDir, CANDIDATE_FILES.summary), 'utf8')));
}

