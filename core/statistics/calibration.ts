// Calibration: does a 20% probability mean that 20% of those loans default? Pricing and provisioning rest on it, and so
// does performance estimation (monitoring/estimation.ts), which reads the probabilities as default rates. Hosmer–Lemeshow over
// risk groups (the month's probability deciles) with its chi-square p-value, and the reliability curve (mean probability
// against observed default rate per group) that the model's metadata keeps for its OOT months.
import jstat from 'jstat';

/** Risk groups of the test and the curve: probability deciles … */
export const CALIBRATION_GROUPS = 10;
/** … or fewer groups in a small month, so that each holds at least this many loans; under 3 groups there is no test. */
export const MIN_LOANS_PER_GROUP = 10;
const MIN_GROUPS = 3;

/** Deciles, or as many groups of MIN_LOANS_PER_GROUP as a small month holds (a 70-loan month: 7 groups). */
export function groupsFor(loans: number): number {
  return Math.min(CALIBRATION_GROUPS, Math.floor(loans / MIN_LOANS_PER_GROUP));
}

export interface CalibrationGroup {
  loans: number;
  /** Mean probability of the group's loans. */
  mean_probability: number;
  /** Share of them that defaulted. */
  observed_rate: number;
}

export interface HosmerLemeshow {
  statistic: number;
  /** Groups that entered the statistic (a group whose expected defaults are 0 or all of it has no variance). */
  degrees_of_freedom: number;
  p_value: number;
  groups: CalibrationGroup[];
}

/** P(X ≥ statistic) for X chi-square with `degreesOfFreedom` (jstat's regularized gamma function). */
export function chiSquareSurvival(statistic: number, degreesOfFreedom: number): number {
  if (!(degreesOfFreedom > 0)) throw new Error(`chi-square needs positive degrees of freedom, got ${degreesOfFreedom}`);
  if (statistic <= 0) return 1;
  return Math.min(1, Math.max(0, 1 - jstat.jStat.chisquare.cdf(statistic, degreesOfFreedom)));
}

/**
 * `groups` groups of near-equal size by probability (sorted ascending; ties broken by input order; group k holds the
 * loans floor(k·n/g) … floor((k+1)·n/g) − 1): each group's loans, mean probability and observed default rate.
 */
export function riskGroups(probabilities: ArrayLike<number>, labels: ArrayLike<number>, groups = CALIBRATION_GROUPS): CalibrationGroup[] {
  if (probabilities.length !== labels.length) throw new Error(`probabilities (${probabilities.length}) and labels (${labels.length}) differ in length`);
  const n = probabilities.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => probabilities[a] - probabilities[b] || a - b);
  const result: CalibrationGroup[] = [];
  for (let k = 0; k < groups; k++) {
    const from = Math.floor((k * n) / groups);
    const to = Math.floor(((k + 1) * n) / groups);
    if (to <= from) continue;
    let expected = 0;
    let observed = 0;
    for (let i = from; i < to; i++) {
      expected += probabilities[order[i]];
      observed += labels[order[i]] === 1 ? 1 : 0;
    }
    result.push({ loans: to - from, mean_probability: expected / (to - from), observed_rate: observed / (to - from) });
  }
  return result;
}

/**
 * Hosmer–Lemeshow: Σ over groups of (observed − expected defaults)² / (expected · (1 − expected / loans)), against a
 * chi-square with one degree of freedom per group. The model was not fitted on the months monitoring judges (`after`),
 * so no degrees of freedom are spent on fitted parameters, as in external validation. NULL with fewer than
 * MIN_LOANS_PER_GROUP loans per group or fewer than 3 groups.
 */
export function hosmerLemeshow(
  probabilities: ArrayLike<number>,
  labels: ArrayLike<number>,
  groups = groupsFor(probabilities.length),
): HosmerLemeshow | null {
  if (groups < MIN_GROUPS || probabilities.length < groups * MIN_LOANS_PER_GROUP) return null;
  const risk = riskGroups(probabilities, labels, groups);
  let statistic = 0;
  let degrees = 0;
  for (const group of risk) {
    const expected = group.mean_probability * group.loans;
    const variance = expected * (1 - group.mean_probability);
    if (!(variance > 0)) continue;
    statistic += (group.observed_rate * group.loans - expected) ** 2 / variance;
    degrees++;
  }
  if (degrees === 0) return null;
  return { statistic, degrees_of_freedom: degrees, p_value: chiSquareSurvival(statistic, degrees), groups: risk };
}
