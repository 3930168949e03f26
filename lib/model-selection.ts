// Choosing among trained candidates. Pure and free of Node APIs: the training workflow imports it.
import type { ModelFamily } from './contracts.js';
import type { CandidateSummary } from './model-summaries.js';

/** Test AUC differences smaller than this are treated as a tie. */
export const AUC_TIE_TOLERANCE = 1e-3;

/** Lower is simpler: on a tie the simpler model is easier to explain and cheaper to run. */
export const FAMILY_SIMPLICITY: Record<ModelFamily, number> = { gblinear: 0, rf: 1, gbtree: 2 };

/**
 * The candidate with the highest AUC on the test months; candidates within AUC_TIE_TOLERANCE of the best go to the
 * simplest family (gblinear < rf < gbtree), then to the higher AUC. The OOT months take no part in the choice, so the
 * OOT AUC reported and judged by the promotion gate is an unbiased estimate of the chosen model.
 */
export function selectBest(candidates: readonly CandidateSummary[]): CandidateSummary {
  if (candidates.length === 0) throw new Error('selectBest needs at least one candidate');
  const bestAuc = Math.max(...candidates.map((candidate) => candidate.metrics.test_auc));
  const tied = candidates.filter((candidate) => bestAuc - candidate.metrics.test_auc < AUC_TIE_TOLERANCE);
  return [...tied].sort(
    (a, b) => FAMILY_SIMPLICITY[a.family] - FAMILY_SIMPLICITY[b.family] || b.metrics.test_auc - a.metrics.test_auc,
  )[0];
}
