/**
 * A fixed log-scale latency histogram: 40 buckets growing by √2 from 0.25 ms (the last one holds
 * everything above ~185 s). Quantiles come back as a bucket's upper bound, so they are within one
 * bucket (about 41 %) of the true value — enough for a sparkline, in 160 bytes per histogram.
 */

/** Number of buckets of every {@link LatencyHistogram}. */
export const LATENCY_BUCKETS = 40;

const FIRST_BOUND_MS = 0.25;
const GROWTH = Math.SQRT2;
const LOG_GROWTH = Math.log(GROWTH);

/** Upper bound of each bucket, in ms (the last is Infinity). */
export const LATENCY_BOUNDS_MS: readonly number[] = Object.freeze(
  Array.from({ length: LATENCY_BUCKETS }, (_, i) =>
    i === LATENCY_BUCKETS - 1 ? Number.POSITIVE_INFINITY : FIRST_BOUND_MS * GROWTH ** i,
  ),
);

/**
 * The bucket a duration falls in.
 * @example bucketOf(0.1) // 0
 */
export function bucketOf(ms: number): number {
  if (!(ms > FIRST_BOUND_MS)) return 0;
  const i = Math.ceil(Math.log(ms / FIRST_BOUND_MS) / LOG_GROWTH - 1e-9);
  return Math.min(i, LATENCY_BUCKETS - 1);
}

/**
 * The `q` quantile (0–1) of bucket counts, as the upper bound of the bucket holding it (the
 * largest finite bound for the overflow bucket); `undefined` when the counts are all zero.
 * @example quantileOf(counts, 0.99)
 */
export function quantileOf(counts: ArrayLike<number>, q: number): number | undefined {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]!;
  if (total === 0) return undefined;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i]!;
    if (seen >= rank) return Math.min(LATENCY_BOUNDS_MS[i]!, LATENCY_BOUNDS_MS[LATENCY_BUCKETS - 2]!);
  }
  return undefined;
}
