/**
 * Counting failed credential attempts per client address (lib/core/client-address.ts; IPv6 by
 * its /64), so guessing keys or forging tokens is slow however many a client tries. Failures take
 * tokens from a bucket in a rate-limit store (memory, or Redis to count across gateways); an
 * address whose bucket is empty is blocked locally until it would refill, so a blocked address
 * costs no store round trip and a correct guess made while blocked is refused too.
 */
import type { IncomingMessage } from 'node:http';
import type { Clock } from '../clock.js';
import { ClientAddressResolver, sourceKey, type TrustProxy } from '../core/client-address.js';
import { FleetgateError } from '../errors.js';
import type { Logger } from '../logger.js';
import { MemoryStore } from '../ratelimit/memory-store.js';
import type { RateLimitStore } from '../ratelimit/store.js';
import { type BucketConfig, type LimitSpec, toBucketConfig } from '../ratelimit/token-bucket.js';

/** How many failures an address may make. @example { limit: 10, window: '1m' } */
export type FailedAttemptsOptions = LimitSpec & {
  /** Where failures are counted. @default a MemoryStore owned by the middleware */
  store?: RateLimitStore | undefined;
};

/** The default budget: 20 failures, refilled over a minute. */
export const FAILED_ATTEMPTS_DEFAULT: Readonly<LimitSpec> = Object.freeze({ limit: 20, window: '1m' });

/** Most blocked addresses remembered locally; beyond it the oldest block is dropped. */
const MAX_BLOCKED = 10_000;

/**
 * Failure counting for one middleware.
 * @example
 * const attempts = new FailedAttempts({ limit: 10, window: '1m' }, { clock, trustProxy: false, namespace: 'apikey' });
 * if (attempts.blockedFor(req) > 0) refuse();
 */
export class FailedAttempts {
  readonly #config: BucketConfig;
  readonly #store: RateLimitStore;
  readonly #ownsStore: boolean;
  readonly #clients: ClientAddressResolver;
  readonly #clock: Clock;
  readonly #namespace: string;
  readonly #logger: Logger;
  readonly #blocked = new Map<string, number>();

  constructor(
    options: FailedAttemptsOptions,
    ctx: { clock: Clock; trustProxy: TrustProxy; namespace: string; logger: Logger; source: string },
  ) {
    this.#config = toBucketConfig(options, `${ctx.source}.failedAttempts`);
    this.#ownsStore = options.store === undefined;
    this.#store = options.store ?? new MemoryStore({ clock: ctx.clock });
    this.#clients = new ClientAddressResolver(ctx.trustProxy, `${ctx.source}.trustProxy`);
    this.#clock = ctx.clock;
    this.#namespace = ctx.namespace;
    this.#logger = ctx.logger;
  }

  /** The address key of `req` (its client address, IPv6 by /64). */
  keyOf(req: IncomingMessage): string {
    return sourceKey(this.#clients.addressOf(req));
  }

  /** Whether any address is blocked now or was recently (lets the hot path skip finding the address). */
  get anyBlocked(): boolean {
    return this.#blocked.size > 0;
  }

  /** ms until `key` may try again; 0 when it is not blocked. */
  blockedFor(key: string): number {
    const until = this.#blocked.get(key);
    if (until === undefined) return 0;
    const left = until - this.#clock.now();
    if (left > 0) return left;
    this.#blocked.delete(key);
    return 0;
  }

  /**
   * Counts one failure of `key`. Resolves the ms the address is now blocked for (0: it may go on
   * failing). A store that fails is logged and counts as no block (the failure itself is still
   * answered 401).
   */
  async recordFailure(key: string): Promise<number> {
    let allowed: boolean;
    let retryAfterMs: number;
    try {
      const d = await this.#store.take(`${this.#namespace}|fail|${key}`, this.#config, 1);
      allowed = d.allowed;
      retryAfterMs = d.retryAfterMs;
    } catch (err) {
      this.#logger.warn(`fleetgate auth: failed-attempt store ${this.#store.name} failed: ${String(err)}`);
      return 0;
    }
    if (allowed) return 0;
    const ms = Number.isFinite(retryAfterMs) ? Math.max(1, retryAfterMs) : 3_600_000;
    if (this.#blocked.size >= MAX_BLOCKED) {
      const oldest = this.#blocked.keys().next().value;
      if (oldest !== undefined) this.#blocked.delete(oldest);
    }
    this.#blocked.set(key, this.#clock.now() + ms);
    return ms;
  }

  /** Closes the store when it was created here. */
  async close(): Promise<void> {
    this.#blocked.clear();
    if (this.#ownsStore) await this.#store.close();
  }
}

/** The 429 for a blocked address. */
export function tooManyFailures(retryAfterMs: number): FleetgateError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new FleetgateError('ERR_FG_RATE_LIMITED', 'too many failed authentication attempts from this address', {
    details: { retry_after_s: seconds, reason: 'failed-attempts' },
  });
}
