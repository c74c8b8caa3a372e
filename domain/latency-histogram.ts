/**
 * Decision latency as a histogram, so a window's percentiles come from per-day bucket counts instead of every
 * decision: 1 ms wide buckets below 1 s, 10 ms wide up to 10 s, 1 s wide above. A percentile is the upper edge of the
 * bucket it falls in, so it is never below the true value and at most one bucket width above it.
 */
export const FINE_LIMIT_MS = 1000;
export const MEDIUM_LIMIT_MS = 10_000;

/** The SQL expression of a latency's bucket lower bound (kept beside its width so the two cannot drift). */
export function latencyBucketSql(column: string): string {
  return `(CASE WHEN ${column} < ${FINE_LIMIT_MS} THEN floor(${column}) WHEN ${column} < ${MEDIUM_LIMIT_MS} THEN floor(${column} / 10) * 10 ELSE floor(${column} / 1000) * 1000 END)::bigint`;
}

export function bucketWidth(lower: number): number {
  return lower < FINE_LIMIT_MS ? 1 : lower < MEDIUM_LIMIT_MS ? 10 : 1000;
}

/** The p-th percentile (0 < p <= 1) of a histogram, or null when it is empty. */
export function histogramPercentile(buckets: Array<{ lower: number; count: number }>, p: number): number | null {
  const sorted = [...buckets].filter((b) => b.count > 0).sort((a, b) => a.lower - b.lower);
  const total = sorted.reduce((n, b) => n + b.count, 0);
  if (total === 0) return null;
  const rank = Math.ceil(p * total);
  let seen = 0;
  for (const b of sorted) {
    seen += b.count;
    if (seen >= rank) return b.lower + bucketWidth(b.lower);
  }
  return null;
}
