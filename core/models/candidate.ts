// Training one candidate of a family: a small parameter search judged on the test months (early stopping there
// too), class weighting undone on the probability scale, metrics on train/test/OOT, a threshold chosen on the test
// months (max F1), and the artifacts written to a candidate directory inside the training set's working directory.
import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { ModelFamily } from '../../lib/contracts.js';
import { computeBaseline } from '../monitoring/drift.js';
import { Booster, train } from '../xgboost/index.js';
import { exportToOnnx } from '../onnx/index.js';
import { shiftBaseMargin } from './calibration.js';
import { familyPlan } from './families.js';
import { canonicalJson, sha256Hex } from './hashing.js';
import { publishDirectory } from '../fs-atomic.js';
import { auc, defined, gini, ks, maxF1Threshold, thresholdMetrics } from './metrics.js';
import { imputeInPlace, withMissingPolicy, type Preprocessor } from './preprocessor.js';
import { loadTrainingSet, SPLITS, type LabelledMatrix, type Split } from './training-set.js';
import { candidateSummarySchema, type CandidateSummary, type Params, type TrainingSetSummary } from '../../lib/model-summaries.js';

export const CANDIDATE_FILES = {
  booster: 'booster.json',
  onnx: 'model.onnx',
  importance: 'feature_importance.csv',
  preprocessor: 'preprocessor.json',
  baseline: 'baseline.json',
  summary: 'candidate.json',
} as const;

export interface TrainCandidateOptions {
  trainingSet: TrainingSetSummary;
  family: ModelFamily;
  params?: Params;
  /** Called after every boosting round (heartbeats). */
  onProgress?: (progress: { family: ModelFamily; search: number; of: number; iteration: number; validationAuc?: number }) => void;
}

function positivesOf(matrix: LabelledMatrix): number {
  return matrix.labels.reduce((sum, label) => sum + label, 0);
}

function prepared(matrix: LabelledMatrix, preprocessor: Preprocessor): LabelledMatrix {
  if (preprocessor.missing !== 'impute') return matrix;
  const data = Float32Array.from(matrix.data);
  imputeInPlace(preprocessor, data);
  return { ...matrix, data };
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

export async function trainCandidate(options: TrainCandidateOptions): Promise<CandidateSummary> {
  const started = performance.now();
  const { family, onProgress } = options;
  const set = await loadTrainingSet(options.trainingSet.path);
  const plan = familyPlan(family, options.params);
  const preprocessor = withMissingPolicy(set.preprocessor, plan.missing);
  const splits = Object.fromEntries(SPLITS.map((split) => [split, prepared(set.splits[split], preprocessor)])) as Record<Split, LabelledMatrix>;

  const positives = positivesOf(splits.train);
  const scalePosWeight = (splits.train.rows - positives) / positives;

  // The search: each parameter set trained on train, early-stopped and judged on the test months.
  let best: { booster: Booster; params: Params; testAuc: number; rounds: number } | undefined;
  for (const [index, candidateParams] of plan.search.entries()) {
    const params = { ...candidateParams, scale_pos_weight: scalePosWeight };
    const result = train({
      train: splits.train,
      validation: splits.test,
      params,
      rounds: plan.rounds,
      earlyStoppingRounds: plan.earlyStoppingRounds,
      onIteration: (iteration, validationAuc) => onProgress?.({ family, search: index + 1, of: plan.search.length, iteration, validationAuc }),
    });
    const testAuc = result.bestValidationAuc ?? defined(auc(result.booster.predict(splits.test), splits.test.labels), 'test AUC');
    if (!best || testAuc > best.testAuc) {
      best?.booster.dispose();
      best = { booster: result.booster, params: candidateParams, testAuc, rounds: result.bestIteration + 1 };
    } else {
      result.booster.dispose();
    }
    await yieldToEventLoop(); // training is synchronous native work: let heartbeats and timers run between fits
  }
  if (!best) throw new Error(`no parameter set to train for ${family}`);

  const boosterJson = shiftBaseMargin(best.booster.toJson(), -Math.log(scalePosWeight));
  best.booster.dispose();
  const booster = Booster.fromJson(boosterJson);
  try {
    const scores = Object.fromEntries(SPLITS.map((split) => [split, booster.predict(splits[split])])) as Record<Split, Float32Array>;
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
    const params: Params = { ...best.params, num_boost_round: best.rounds, scale_pos_weight: Number(scalePosWeight.toFixed(6)) };
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
      rounds: best.rounds,
    });

    const exists = await access(join(candidateDir, CANDIDATE_FILES.summary)).then(() => true, () => false);
    if (!exists) {
      const onnx = exportToOnnx(boosterJson, preprocessor.encoded);
      const importance = importanceCsv(booster, family, preprocessor.encoded);
      const baseline = computeBaseline(Array.from(scores.oot), set.ootRaw);
      await publishDirectory(candidateDir, async (dir) => {
        await writeFile(join(dir, CANDIDATE_FILES.booster), boosterJson);
        await writeFile(join(dir, CANDIDATE_FILES.onnx), onnx);
        await writeFile(join(dir, CANDIDATE_FILES.importance), importance);
        await writeFile(join(dir, CANDIDATE_FILES.preprocessor), JSON.stringify(preprocessor, null, 2));
        await writeFile(join(dir, CANDIDATE_FILES.baseline), JSON.stringify(baseline));
        await writeFile(join(dir, CANDIDATE_FILES.summary), JSON.stringify(summary, null, 2)); // last: marks completeness
      });
    }
    return { ...summary, trainingSeconds: (performance.now() - started) / 1000 };
  } finally {
    booster.dispose();
  }
}

/** Reads a candidate summary back from its directory (validated). */
export async function readCandidate(candidateDir: string): Promise<CandidateSummary> {
  return candidateSummarySchema.parse(JSON.parse(await readFile(join(candidateDir, CANDIDATE_FILES.summary), 'utf8')));
}

