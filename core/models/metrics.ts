// Ranking and threshold metrics of binary scores (SPEC §4): AUC by Mann–Whitney with ties counted one half
// (scikit-learn's roc_auc_score), Gini = 2·AUC − 1, KS = max |TPR − FPR|. Pure.

function checkInputs(scores: ArrayLike<number>, labels: ArrayLike<number>): { positives: number; negatives: number } {
  if (scores.length !== labels.length) throw new Error(`scores (${scores.length}) and labels (${labels.length}) differ in length`);
  let positives = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === 1) positives++;
  const negatives = labels.length - positives;
  if (positives === 0 || negatives === 0) throw new Error('AUC needs both positive and negative labels');
  return { positives, negatives };
}

function orderByScore(scores: ArrayLike<number>, descending: boolean): number[] {
  const order = Array.from({ length: scores.length }, (_, i) => i);
  return order.sort((a, b) => (descending ? scores[b] - scores[a] : scores[a] - scores[b]));
}

export function auc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const { positives, negatives } = checkInputs(scores, labels);
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

export function gini(aucValue: number): number {
  return 2 * aucValue - 1;
}

/** Walks thresholds from the highest score down, one step per distinct score. */
function sweep(scores: ArrayLike<number>, labels: ArrayLike<number>, visit: (threshold: number, tp: number, fp: number) => void): void {
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

export function ks(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const { positives, negatives } = checkInputs(scores, labels);
  let best = 0;
  sweep(scores, labels, (_threshold, tp, fp) => {
    best = Math.max(best, Math.abs(tp / positives - fp / negatives));
  });
  return best;
}

/** The score threshold (predict 1 when score ≥ threshold) that maximises F1. */
export function maxF1Threshold(scores: ArrayLike<number>, labels: ArrayLike<number>): { threshold: number; f1: number } {
  const { positives } = checkInputs(scores, labels);
  let best = { threshold: 0.5, f1: -1 };
  sweep(scores, labels, (threshold, tp, fp) => {
    const f1 = (2 * tp) / (tp + fp + positives);
    if (f1 > best.f1) best = { threshold, f1 };
  });
  return { threshold: Math.min(1, Math.max(0, best.threshold)), f1: best.f1 };
}
