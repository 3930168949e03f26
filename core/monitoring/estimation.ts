// Performance before the labels arrive (SPEC §4): confidence-based performance estimation (CBPE, as NannyML names it).
// If the model's probabilities are calibrated, a loan scored p defaults with probability p, so the month's confusion
// matrix at every threshold has an expected value, and with it the ROC curve and its AUC. The 90% band is how far the
// AUC of a month of this size and these probabilities strays from that by the luck of which loans default: labels are
// drawn from the probabilities (a seeded parametric bootstrap) and the AUC of each draw is taken.
// What CBPE cannot see: a change of P(default | features) that leaves the probabilities as they were (pure concept
// drift); it assumes calibration, which is why the calibration test (calibration.ts) runs beside it.
import { Rng } from '../random.js';
import { midRanks } from '../ranking-metrics.js';

export interface EstimatedPerformance {
  /** AUC of the expected ROC curve; NULL when the probabilities are all 0 or all 1 (one class expected). */
  auc_estimated: number | null;
  /** 5th and 95th percentiles of the AUC over label draws from the probabilities; NULL when too few draws had both classes. */
  auc_estimated_low: number | null;
  auc_estimated_high: number | null;
  /** Mean probability: the default rate the model expects of the month. */
  expected_default_rate: number;
}

/** Label draws of the band: enough for stable 5th/95th percentiles, cheap because a draw is one pass over the month … */
export const ESTIMATION_DRAWS = 400;
/**
 * … up to this many loan draws a month (≈ 0.25 s here), and never fewer than MIN_DRAWS: a month of 5,000 loans gets
 * 400 draws, one of 25,000 gets 100 (10 million draws took 1.2 s a month, 30 s for a two-year table). A big month's
 * band is narrow, so the coarser percentiles move its edges by little.
 */
export const ESTIMATION_BUDGET = 2_000_000;
export const MIN_DRAWS = 100;

/** Draws for a month of `loans`: ESTIMATION_DRAWS within the budget, MIN_DRAWS at least. */
export function drawsFor(loans: number): number {
  return Math.max(MIN_DRAWS, Math.min(ESTIMATION_DRAWS, Math.floor(ESTIMATION_BUDGET / Math.max(1, loans))));
}
/** The band's coverage: from the 5th to the 95th percentile. */
export const BAND_LOW = 0.05;
export const BAND_HIGH = 0.95;

/** Indices ordered by score, highest first (ties keep their input order: the result does not depend on it). */
function descendingOrder(scores: ArrayLike<number>): Uint32Array {
  const order = Uint32Array.from({ length: scores.length }, (_, i) => i);
  return order.sort((a, b) => scores[b] - scores[a] || a - b);
}

/**
 * The expected ROC curve's area: thresholds walk the distinct scores from the highest down; at each, the expected true
 * positives are Σ p and the expected false positives Σ (1 − p) of the loans at or above it; TPR and FPR divide them by
 * Σ p and Σ (1 − p) of the month. Tied scores move together, so the trapezoid counts them one half, as Mann–Whitney does.
 */
export function expectedAuc(probabilities: ArrayLike<number>): number | null {
  let positives = 0;
  for (let i = 0; i < probabilities.length; i++) positives += probabilities[i];
  const negatives = probabilities.length - positives;
  if (!(positives > 0) || !(negatives > 0)) return null;
  const order = descendingOrder(probabilities);
  let area = 0;
  let tp = 0;
  for (let start = 0; start < order.length; ) {
    let end = start;
    let groupTp = 0;
    let groupFp = 0;
    const score = probabilities[order[start]];
    while (end < order.length && probabilities[order[end]] === score) {
      groupTp += probabilities[order[end]];
      groupFp += 1 - probabilities[order[end]];
      end++;
    }
    // the trapezoid from the previous point to this one: FPR grows by groupFp, TPR from tp to tp + groupTp (in rates)
    area += (groupFp / negatives) * ((tp + groupTp / 2) / positives);
    tp += groupTp;
    start = end;
  }
  return area;
}

/** Linear-interpolated quantile of sorted values (numpy's default). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(sorted.length - 1, below + 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
}

/** A stable 32-bit seed from text (FNV-1a): the same model and month always draw the same labels. */
export function seedOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

/**
 * The AUC of `draws` label sets drawn from the probabilities (loan i defaults with probability p_i), each by
 * Mann–Whitney on ranks computed once; draws with a single class are left out.
 */
export function simulatedAucs(probabilities: ArrayLike<number>, draws: number, seed: number): Float64Array {
  const ranks = midRanks(probabilities);
  const rng = new Rng(seed);
  const n = probabilities.length;
  // rng.next() < p is u / 2^32 < p, that is u < p · 2^32 exactly (scaling by a power of two is exact): the draws compare
  // the stream's integers, taken a draw at a time, with the scaled probabilities: the same labels as one next() per loan.
  const scaled = Float64Array.from({ length: n }, (_, i) => probabilities[i] * 0x100000000);
  const uniforms = new Uint32Array(n);
  const aucs: number[] = [];
  for (let draw = 0; draw < draws; draw++) {
    rng.fillUint32(uniforms);
    let positives = 0;
    let rankSum = 0;
    for (let i = 0; i < n; i++) {
      if (uniforms[i] < scaled[i]) {
        positives++;
        rankSum += ranks[i];
      }
    }
    const negatives = n - positives;
    if (positives === 0 || negatives === 0) continue;
    aucs.push((rankSum - (positives * (positives + 1)) / 2) / (positives * negatives));
  }
  return Float64Array.from(aucs).sort();
}

/** The month's estimate and band; `seed` makes the band reproducible (use seedOf(model id + month)). */
export function estimatePerformance(probabilities: ArrayLike<number>, seed: number, draws = drawsFor(probabilities.length)): EstimatedPerformance {
  let sum = 0;
  for (let i = 0; i < probabilities.length; i++) sum += probabilities[i];
  const expected = probabilities.length === 0 ? 0 : sum / probabilities.length;
  const estimate = expectedAuc(probabilities);
  const simulated = estimate === null ? new Float64Array(0) : simulatedAucs(probabilities, draws, seed);
  // a band from a handful of two-class draws would be a guess: at least half the draws must have had both classes
  const banded = simulated.length >= draws / 2;
  return {
    auc_estimated: estimate,
    auc_estimated_low: banded ? quantileSorted(simulated, BAND_LOW) : null,
    auc_estimated_high: banded ? quantileSorted(simulated, BAND_HIGH) : null,
    expected_default_rate: expected,
  };
}
