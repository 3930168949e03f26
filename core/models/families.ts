// What each model family trains: fixed parameters, the small search space explored, the round budget, and how it
// treats missing values. Class imbalance is handled by scale_pos_weight (negatives / positives), then undone on the
// probability scale by calibration.ts so that scores stay default probabilities.
import type { ModelFamily } from '../../lib/contracts.js';
import type { Preprocessor } from '../features/preprocessor.js';
import type { Params } from '../../lib/model-summaries.js';

export interface FamilyPlan {
  /** Parameter sets tried; each is trained on the train months and judged by AUC on the test months. */
  search: Params[];
  rounds: number;
  earlyStoppingRounds?: number;
  missing: Preprocessor['missing'];
  /**
   * Threads a fit runs on at most, whatever the parameters' nthread (which stays in the parameters, the model id and
   * the metadata: the booster does not depend on it, test/xgboost/binding.test.ts).
   */
  maxThreads?: number;
}

const COMMON: Params = { objective: 'binary:logistic', seed: 7, nthread: 2 };

export function familyPlan(family: ModelFamily, overrides?: Params): FamilyPlan {
  const plan = basePlan(family);
  if (overrides && Object.keys(overrides).length > 0) {
    // Given parameters replace the search: one fit with the family's defaults overridden.
    return { ...plan, search: [{ ...plan.search[0], ...overrides }] };
  }
  return plan;
}

function basePlan(family: ModelFamily): FamilyPlan {
  switch (family) {
    case 'gbtree': {
      const base = { ...COMMON, booster: 'gbtree', tree_method: 'hist', subsample: 0.8, colsample_bytree: 0.8, min_child_weight: 1 };
      const search: Params[] = [];
      for (const max_depth of [3, 5]) for (const eta of [0.05, 0.15]) search.push({ ...base, max_depth, eta });
      return { search, rounds: 400, earlyStoppingRounds: 30, missing: 'native' };
    }
    case 'gblinear':
      // Linear models cannot take NaN: the preprocessor imputes training medians for this family. The problem is
      // convex and L2-regularized, so it is run to convergence rather than early-stopped on test-AUC noise.
      return {
        search: [{ ...COMMON, booster: 'gblinear', updater: 'coord_descent', feature_selector: 'cyclic', eta: 0.5, lambda: 1, alpha: 0 }],
        rounds: 100,
        missing: 'impute',
        // libxgboost 1.7's coord_descent adds each row's gradient into per-thread sums kept side by side in one
        // vector<double>: two threads write the same cache line at every row (perf: half the fit's samples on those
        // four stores). The 10 x training set (as of 2024-12), alone: 2.9 s and 2.9 CPU s on one thread, 9.5 s and
        // 17.6 CPU s on two, to the same weights (the same model.onnx bytes).
        maxThreads: 1,
      };
    case 'rf':
      // A random forest in XGBoost: one round of many parallel trees, no shrinkage, row and column sampling.
      return {
        search: [
          {
            ...COMMON,
            booster: 'gbtree',
            tree_method: 'hist',
            num_parallel_tree: 100,
            eta: 1,
            max_depth: 8,
            subsample: 0.632,
            colsample_bynode: 0.5,
            min_child_weight: 2,
          },
        ],
        rounds: 1,
        missing: 'native',
      };
  }
}
