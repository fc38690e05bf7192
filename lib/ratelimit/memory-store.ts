/**
 * The default, single-process rate-limit store: a Map in LRU order with a size cap and a
 * periodic sweep of idle buckets, so memory stays bounded however many clients show up.
 */
import { type Clock, realClock, type TimerHandle } from '../clock.js';
import { mergeDefined } from '../core/options-merge.js';
import type { RateLimitStore } from './store.js';
import { type BucketConfig, type RateLimitDecision, takeToken } from './token-bucket.js';

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** Time source and timer factory. @default realClock */
  clock: Clock;
  /** Most buckets kept; the least recently used one is dropped beyond this. @default 100000 */
  maxKeys: number;
  /** How often buckets that have refilled completely (and so equal a missing one) are dropped. @default 60000 */
  sweepIntervalMs: number;
}

/** Defaults of {@link MemoryStoreOptions}. Frozen. */
export const MEMORY_STORE_DEFAULTS: Readonly<MemoryStoreOptions> = Object.freeze({
  clock: realClock,
  maxKeys: 100_000,
  sweepIntervalMs: 60_000,
});

interface Entry {
  tokens: number;
  updatedAt: number;
  /** When the bucket is full again; from then on it is indistinguishable from a missing one. */
  fullAt: number;
}

/**
 * Buckets in process memory. Answers synchronously.
 * @example
 * const limiter = rateLimit({ capacity: 20, refillPerSecond: 5, store: new MemoryStore() });
 */
export class MemoryStore implements RateLimitStore {
  readonly name = 'memory';
  readonly #opts: MemoryStoreOptions;
  readonly #buckets = new Map<string, Entry>();
  #sweep: TimerHandle | undefined;

  constructor(options: Partial<MemoryStoreOptions> = {}) {
    this.#opts = mergeDefined(MEMORY_STORE_DEFAULTS, options);
    this.#sweep = this.#opts.clock.setInterval(() => this.sweep(), this.#opts.sweepIntervalMs);
  }

  /** Number of buckets held. */
  get size(): number {
    return this.#buckets.size;
  }

  take(key: string, config: BucketConfig, cost = 1): RateLimitDecision {
    const now = this.#opts.clock.now();
    const prev = this.#buckets.get(key);
    const r = takeToken(prev, config, now, cost);
    // Re-inserting moves the key to the end of the Map's order, which makes the first key the LRU one.
    if (prev !== undefined) this.#buckets.delete(key);
    this.#buckets.set(key, { tokens: r.state.tokens, updatedAt: r.state.updatedAt, fullAt: now + r.resetMs });
    if (this.#buckets.size > this.#opts.maxKeys) {
      const oldest = this.#buckets.keys().next().value;
      if (oldest !== undefined) this.#buckets.delete(oldest);
    }
    return {
      allowed: r.allowed,
      limit: r.limit,
      remaining: r.remaining,
      resetMs: r.resetMs,
      retryAfterMs: r.retryAfterMs,
    };
  }

  /** Drops every bucket that has refilled completely. Runs on its own every `sweepIntervalMs`. */
  sweep(): void {
    const now = this.#opts.clock.now();
    for (const [key, entry] of this.#buckets) if (entry.fullAt <= now) this.#buckets.delete(key);
  }

  async close(): Promise<void> {
    this.#sweep?.cancel();
    this.#sweep = undefined;
    this.#buckets.clear();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
