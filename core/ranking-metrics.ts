// Ranking metrics of binary scores (SPEC §4), the one implementation that training, the promotion gate and monitoring
// share: AUC by Mann–Whitney with ties counted one half (scikit-learn's roc_auc_score), Gini = 2·AUC − 1,
// KS = max |TPR − FPR|. With a single class they are undefined and return null (never a made-up 0 or 0.5), so each
// caller decides what undefined means for it: monitoring shows NULL, the gate refuses to promote.

/** 1 counts as a positive, anything else as a negative. */
function classCounts(labels: ArrayLike<number>): { positives: number; negatives: number } {
  let positives = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === 1) positives++;
  return { positives, negatives: labels.length - positives };
}

function checkLengths(scores: ArrayLike<number>, labels: ArrayLike<number>): void {
  if (scores.length !== labels.length) throw new Error(`scores (${scores.length}) and labels (${labels.length}) differ in length`);
}

function orderByScore(scores: ArrayLike<number>, descending: boolean): number[] {
  const order = Array.from({ length: scores.length }, (_, i) => i);
  return order.sort((a, b) => (descending ? scores[b] - scores[a] : scores[a] - scores[b]));
}

/** Ranks 1..n of `scores` in ascending order, ties sharing their mean rank (Mann–Whitney's mid-ranks). */
export function midRanks(scores: ArrayLike<number>): Float64Array {
  const order = orderByScore(scores, false);
  const ranks = new Float64Array(scores.length);
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && scores[order[end + 1]] === scores[order[start]]) end++;
    const rank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) ranks[order[k]] = rank;
    start = end + 1;
  }
  return ranks;
}

/** Mann–Whitney AUC: the probability that a random positive scores above a random negative; null with one class. */
export function auc(scores: ArrayLike<number>, labels: ArrayLike<number>): number | null {
  checkLengths(scores, labels);
  const { positives, negatives } = classCounts(labels);
  if (positives === 0 || negatives === 0) return null;
  const order = orderByScore(scores, false);
  let positiveRankSum = 0;
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && scores[order[end + 1]] === scores[order[start]]) end++;
    const averageRank = (start + end) / 2 + 1; // ranks are 1-based, ties share their mean rank
    for (let k = start; k <= end; k++) if (labels[order[k]] === 1) positiveRankSum += averageRank;
    start = end + 1;
  }
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export function gini(aucValue: number): number;
export function gini(aucValue: number | null): number | null;
export function gini(aucValue: number | null): number | null {
  return aucValue === null ? null : 2 * aucValue - 1;
}

/**
 * Walks thresholds "score ≥ t is a positive" from the highest score down, one step per distinct score, with the
 * true and false positives counted so far.
 */
export function sweepThresholds(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  visit: (threshold: number, truePositives: number, falsePositives: number) => void,
): void {
  checkLengths(scores, labels);
  const order = orderByScore(scores, true);
  let tp = 0;
  let fp = 0;
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && scores[order[end + 1]] === scores[order[start]]) end++;
    for (let k = start; k <= end; k++) labels[order[k]] === 1 ? tp++ : fp++;
    visit(scores[order[start]], tp, fp);
    start = end + 1;
  }
}

/** Kolmogorov–Smirnov: the largest gap between the positives' and negatives' score distributions; null with one class. */
export function ks(scores: ArrayLike<number>, labels: ArrayLike<number>): number | null {
  const { positives, negatives } = classCounts(labels);
  if (positives === 0 || negatives === 0) return null;
  let best = 0;
  sweepThresholds(scores, labels, (_threshold, tp, fp) => {
    best = Math.max(best, Math.abs(tp / positives - fp / negatives));
  });
  return best;
}

/** A metric that training needs defined (its splits are checked to hold both classes): a clear error otherwise. */
export function defined(value: number | null, what: string): number {
  if (value === null) throw new Error(`${what} is undefined: the rows hold a single class`);
  return value;
}
