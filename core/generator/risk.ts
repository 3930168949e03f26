// The true default mechanism: a latent risk score from the applicant's clean features drives default through a
// logistic link with unobserved noise (what no data set records). Standardising constants are fixed numbers
// (not fitted to the drawn population) so a population shift moves risk with the features, as it would in life.
import { SIGNAL_CLICKS, type Profile } from './profile.js';

const z = (value: number, mean: number, sd: number) => (value - mean) / sd;

/** Applicant facts the link reads: the profile plus the clickstream row of the application month, if any. */
export interface RiskInput {
  profile: Profile;
  /** fe_1..fe_20 at the application month, or null when the customer has no clickstream. */
  clicks: number[] | null;
}

/** The pre-drift link: the risk every scenario uses before its drift month and `stable` uses throughout. */
export function stableRiskScore({ profile: p, clicks }: RiskInput): number {
  let score =
    -0.55 * z(Math.log(p.income), 10.55, 0.95) +
    0.45 * z(p.interestRate, 14.5, 8.3) +
    0.35 * z(p.delayFromDue, 19.5, 13.5) +
    0.3 * z(p.delayedPayments, 13.5, 6.0) +
    0.3 * z(Math.log(p.debt), 7.0, 1.0) +
    (p.creditMix === 'Bad' ? 0.45 : p.creditMix === 'Good' ? -0.35 : 0) -
    0.25 * z(p.historyMonths, 216, 92) +
    0.2 * z(p.loanTypes.length, 3.4, 2.2) +
    (p.minPayment === 'Yes' ? 0.25 : 0) +
    0.2 * z(p.inquiries, 6, 3.7);
  if (clicks) {
    score += 0.3 * z(clicks[SIGNAL_CLICKS.stable[0] - 1], 100, 100) - 0.25 * z(clicks[SIGNAL_CLICKS.stable[1] - 1], 100, 100);
  }
  return score;
}

/**
 * The concept-drift link: after the drift month default is driven by facts the old link ignored (utilisation,
 * cards, youth, two other clickstream signals) and income's sign flips, so a score fitted before the drift loses
 * most of its ranking power afterwards.
 */
export function driftedRiskScore(input: RiskInput): number {
  const { profile: p, clicks } = input;
  let score =
    0.1 * stableRiskScore(input) +
    0.6 * z(p.utilization, 32.5, 5) +
    0.5 * z(p.creditCards, 5.5, 2.1) -
    0.5 * z(p.age, 33, 10) +
    0.35 * z(Math.log(p.income), 10.55, 0.95) +
    0.35 * z(p.changedLimit, 9.5, 7) +
    (p.minPayment === 'NM' ? 0.5 : 0);
  if (clicks) {
    score += 0.45 * z(clicks[SIGNAL_CLICKS.drifted[0] - 1], 100, 100) - 0.4 * z(clicks[SIGNAL_CLICKS.drifted[1] - 1], 100, 100);
  }
  return score;
}

/** Link constants, tuned so the default rate sits near 28% and the true probability's AUC near 0.85. */
export const LINK = { intercept: -1.62, slope: 0.8, noiseSd: 1.0, driftedIntercept: -1.5, driftedSlope: 1.3 } as const;

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** True default probability given the link's score and this applicant's unobserved noise draw. */
export function defaultProbability(score: number, noise: number, drifted: boolean): number {
  return drifted
    ? sigmoid(LINK.driftedIntercept + LINK.driftedSlope * score + LINK.noiseSd * noise)
    : sigmoid(LINK.intercept + LINK.slope * score + LINK.noiseSd * noise);
}
