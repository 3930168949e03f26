// The promotion rule (docs/model-governance.md §6), pure so that it is tested on its own: from the candidate's own
// out-of-time AUC and, where one exists, the paired comparison with production on months out of sample for both, to
// promote, reject or keep production.
import type { PromotionAction } from '../../lib/contracts.js';
import type { PairedAucTest } from '../statistics/delong.js';

/** Where the reason says there was no fair comparison: searchable in the log and the registry. */
export const NO_FAIR_COMPARISON = 'no_fair_comparison';

export interface PromotionFacts {
  candidateId: string;
  /** The candidate's AUC on its own OOT months (out of sample for it); null with a single class. */
  candidateOotAuc: number | null;
  /** e.g. `OOT months 2024-05..2024-06 (500 rows)`. */
  candidateOotWhere: string;
  minAuc: number;
  margin: number;
  productionId: string | null;
  /** Why production could not be compared (it cannot read today's features): judged on the minimum alone. */
  productionUnscorable?: string;
  /** The paired test candidate − production on the fair months, when there are such months with both classes. */
  comparison: (PairedAucTest & { months: string }) | null;
  /** Why there is no comparison (no month out of sample for both, or one class only). */
  noComparisonBecause?: string;
  /** The candidate learnt from newer months than production (its OOT window ends later). */
  candidateIsNewer: boolean;
}

export interface PromotionVerdict {
  action: Extract<PromotionAction, 'promote' | 'reject' | 'keep'>;
  reason: string;
}

const f4 = (value: number) => value.toFixed(4);
const signed = (value: number) => `${value >= 0 ? '+' : ''}${value.toFixed(4)}`;

/** The paired evidence in words: `AUC 0.8120 vs 0.8050, diff +0.0070 [−0.0040, +0.0180], p 0.2100 on 2024-05..2024-06 (500 rows)`. */
export function describeComparison(test: PairedAucTest & { months: string }): string {
  return `AUC ${f4(test.aucA)} vs ${f4(test.aucB)}, diff ${signed(test.diff)} [95% ${signed(test.low)}, ${signed(test.high)}], p ${test.pValue.toFixed(4)} on ${test.months} (${test.n} rows, ${test.positives} defaults)`;
}

/**
 * The rule:
 * 1. the candidate's own OOT AUC below the minimum → reject;
 * 2. no production model (or one that cannot score today's features) → promote on the minimum alone;
 * 3. a paired comparison on months out of sample for both:
 *    - non-inferior (interval low > −margin) and strictly better on the point estimate → promote;
 *    - non-inferior but not better (a tie, noise) → keep production: equal is not better;
 *    - significantly worse (interval high < 0) → reject;
 *    - otherwise the interval is too wide to decide → keep production, the candidate stays a challenger;
 * 4. no such month (`no_fair_comparison`): in-sample rows are never used; a candidate that learnt from newer months
 *    than production is promoted on the minimum alone, an older or same-window one keeps production (shadow months
 *    decide later).
 */
export function decidePromotion(facts: PromotionFacts): PromotionVerdict {
  const { candidateOotAuc, minAuc, margin, productionId, comparison } = facts;
  if (candidateOotAuc === null) {
    return { action: 'reject', reason: `OOT AUC is undefined on ${facts.candidateOotWhere}: a single class, nothing to judge the candidate on` };
  }
  const own = `OOT AUC ${f4(candidateOotAuc)} on ${facts.candidateOotWhere}`;
  if (candidateOotAuc < minAuc) return { action: 'reject', reason: `${own} is below the minimum ${f4(minAuc)}` };
  const aboveMinimum = `${own} ≥ minimum ${f4(minAuc)}`;
  if (!productionId) return { action: 'promote', reason: `${aboveMinimum}; no production model yet` };
  if (productionId === facts.candidateId) return { action: 'keep', reason: `${facts.candidateId} is already the production model` };
  if (facts.productionUnscorable) return { action: 'promote', reason: `${aboveMinimum}; production ${productionId} ${facts.productionUnscorable}` };

  if (comparison) {
    const evidence = `against production ${productionId}: ${describeComparison(comparison)}`;
    const nonInferior = comparison.low > -margin;
    if (nonInferior && comparison.diff > 0) {
      return { action: 'promote', reason: `${aboveMinimum}; non-inferior (interval low > −${margin}) and better ${evidence}` };
    }
    if (nonInferior) {
      return { action: 'keep', reason: `${aboveMinimum}; non-inferior but not better ${evidence}: equal is not better, production kept` };
    }
    if (comparison.high < 0) {
      return { action: 'reject', reason: `${aboveMinimum}, but significantly worse ${evidence}` };
    }
    return {
      action: 'keep',
      reason: `${aboveMinimum}; evidence too thin to decide ${evidence}: the interval reaches below −${margin} and above 0; production kept, the candidate stays a challenger`,
    };
  }

  const why = `${NO_FAIR_COMPARISON}: ${facts.noComparisonBecause ?? `no mature month is out of sample for both ${facts.candidateId} and ${productionId}`}`;
  if (facts.candidateIsNewer) {
    return { action: 'promote', reason: `${aboveMinimum}; ${why}; the candidate learnt from newer months than production ${productionId}, promoted on the minimum alone` };
  }
  return {
    action: 'keep',
    reason: `${aboveMinimum}; ${why}; the candidate learnt from no newer months than production ${productionId}, which is kept; shadow scoring on later months decides`,
  };
}
