/**
 * The pluggable store behind {@link import('./rate-limit.js').rateLimit}: one small interface,
 * one file per implementation (memory-store.ts, redis-store.ts).
 */
import type { BucketConfig, RateLimitDecision } from './token-bucket.js';

/**
 * Where buckets live. `take` refills and takes atomically. It may answer synchronously (the
 * memory store does, so the hot path allocates no promise) or with a promise (network stores).
 */
export interface RateLimitStore {
  /** Short name for logs and metrics, e.g. `memory`, `redis`. */
  readonly name: string;
  /** Refills the bucket `key`, then takes `cost` tokens when there are enough. */
  take(key: string, config: BucketConfig, cost: number): RateLimitDecision | Promise<RateLimitDecision>;
  /** Releases timers (never the injected client). Idempotent. */
  close(): Promise<void>;
}
