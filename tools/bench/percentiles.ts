// One definition of a latency percentile for the serving bench and its GC report, so that the figures printed side by
// side (a level's p99, the p99 of the requests no GC pause touched) are ranked alike.

/** The nearest-rank `fraction` quantile of ascending `sorted` values (the ceil(fraction × n)-th value); null when empty. */
export function nearestRank(sorted: readonly number[], fraction: number): number | null {
  return sorted.length ? sorted[Math.max(0, Math.ceil(fraction * sorted.length) - 1)] : null;
}
