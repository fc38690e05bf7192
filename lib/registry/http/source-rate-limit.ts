/**
 * A small per-source-address token bucket for registration attempts, so one misbehaving host
 * (a crash-looping service, a script) cannot flood the registry. Heartbeats are not limited.
 * Runs on the injectable clock and needs no timer: buckets refill lazily when touched.
 */
import { type Clock, realClock } from '../../clock.js';
import { mergeDefined } from '../../core/options-merge.js';
import { FleetgateError } from '../../errors.js';

/** A bucket's shape. */
export interface SourceRateLimitOptions {
  /** Burst size: attempts a fresh source may make at once. @default 20 */
  capacity: number;
  /** Attempts regained per second. @default 5 */
  refillPerSecond: number;
  /** @default realClock */
  clock: Clock;
  /** Most sources tracked; beyond it full buckets are forgotten, then the oldest. @default 10000 */
  maxSources: number;
}

/** Defaults for {@link SourceRateLimitOptions}. Frozen. */
export const SOURCE_RATE_LIMIT_DEFAULTS: Readonly<SourceRateLimitOptions> = Object.freeze({
  capacity: 20,
  refillPerSecond: 5,
  clock: realClock,
  maxSources: 10_000,
});

/** The verdict for one attempt. */
export interface SourceDecision {
  allowed: boolean;
  /** ms until the next attempt would be allowed; 0 when allowed. */
  retryAfterMs: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets keyed by source address.
 * @example
 * const limiter = new SourceRateLimiter({ capacity: 20, refillPerSecond: 5 });
 * if (!limiter.take(sourceKey(clientAddress)).allowed) reply429(); // sourceKey: lib/core/client-address.ts
 */
export class SourceRateLimiter implements AsyncDisposable {
  readonly #opts: SourceRateLimitOptions;
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: Partial<SourceRateLimitOptions> = {}) {
    const o = mergeDefined(SOURCE_RATE_LIMIT_DEFAULTS, options);
    const bad = (name: string, value: unknown, expected: string): never => {
      throw new FleetgateError('ERR_FG_INVALID_CONFIG', `registrationRateLimit.${name}=${String(value)}: ${expected}`, {
        details: { option: `registrationRateLimit.${name}`, value, expected },
      });
    };
    if (!(Number.isFinite(o.capacity) && o.capacity >= 1)) bad('capacity', o.capacity, 'a number ≥ 1');
    if (!(Number.isFinite(o.refillPerSecond) && o.refillPerSecond > 0))
      bad('refillPerSecond', o.refillPerSecond, 'a positive number');
    if (!(Number.isInteger(o.maxSources) && o.maxSources >= 1)) bad('maxSources', o.maxSources, 'an integer ≥ 1');
    this.#opts = o;
  }

  /** Sources currently tracked. */
  get size(): number {
    return this.#buckets.size;
  }

  /** Takes one token from `source`'s bucket. */
  take(source: string): SourceDecision {
    const { capacity, refillPerSecond, clock } = this.#opts;
    const now = clock.now();
    const bucket = this.#buckets.get(source);
    let tokens = capacity;
    if (bucket !== undefined) {
      const elapsed = Math.max(0, now - bucket.at);
      tokens = Math.min(capacity, bucket.tokens + (elapsed * refillPerSecond) / 1000);
      // Re-insert so Map order stays "least recently used first" for eviction.
      this.#buckets.delete(source);
    }
    const allowed = tokens >= 1;
    if (allowed) tokens -= 1;
    this.#buckets.set(source, { tokens, at: now });
    if (this.#buckets.size > this.#opts.maxSources) this.#evict(now);
    return { allowed, retryAfterMs: allowed ? 0 : Math.ceil(((1 - tokens) * 1000) / refillPerSecond) };
  }

  /** Forgets every bucket. */
  close(): Promise<void> {
    this.#buckets.clear();
    return Promise.resolve();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #evict(now: number): void {
    const { capacity, refillPerSecond, maxSources } = this.#opts;
    for (const [key, b] of this.#buckets) {
      if (b.tokens + ((now - b.at) * refillPerSecond) / 1000 >= capacity) this.#buckets.delete(key);
    }
    // Down to 90% so a flood of new sources does not rescan the map on every attempt.
    const target = Math.floor(maxSources * 0.9);
    for (const key of this.#buckets.keys()) {
      if (this.#buckets.size <= target) break;
      this.#buckets.delete(key);
    }
  }
}
