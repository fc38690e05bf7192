/**
 * Token-bucket arithmetic, free of I/O and timers: every store (memory, Redis Lua) computes the
 * same thing, so this file is the reference the Lua script mirrors. README "Health, metrics, rate limits, tracing"
 */

import { parseDuration } from '../config/duration.js';
import { FleetgateError } from '../errors.js';

/** A bucket's shape: it holds at most `capacity` tokens and gains `refillPerSecond` tokens a second. */
export interface BucketConfig {
  /** Maximum burst: tokens in a full bucket. */
  capacity: number;
  /** Tokens added per second (may be fractional). */
  refillPerSecond: number;
}

/** A bucket's stored state. */
export interface BucketState {
  /** Tokens left (may be fractional). */
  tokens: number;
  /** ms since epoch when `tokens` was computed. */
  updatedAt: number;
}

/** The answer of a store for one request. */
export interface RateLimitDecision {
  /** Whether the request may proceed (a token was taken). */
  allowed: boolean;
  /** The bucket's capacity, for the `RateLimit-Limit` header. */
  limit: number;
  /** Whole tokens left after this request. */
  remaining: number;
  /** ms until the bucket is full again (the `RateLimit-Reset` header, in seconds). */
  resetMs: number;
  /** ms until the request would be admitted; 0 when allowed (the `Retry-After` header). */
  retryAfterMs: number;
}

/** The result of {@link takeToken}: the decision plus the state to store. */
export interface TakeResult extends RateLimitDecision {
  state: BucketState;
}

/**
 * Refills the bucket for the time elapsed since `state.updatedAt`, then takes `cost` tokens if
 * there are enough. A missing state is a full bucket. Time going backwards (clock skew between
 * gateways) refills nothing rather than draining the bucket.
 * @example
 * const r = takeToken(undefined, { capacity: 10, refillPerSecond: 1 }, Date.now());
 * r.allowed; // true, r.remaining === 9
 */
export function takeToken(state: BucketState | undefined, config: BucketConfig, now: number, cost = 1): TakeResult {
  const { capacity, refillPerSecond } = config;
  let tokens = capacity;
  let updatedAt = now;
  if (state !== undefined) {
    const elapsed = now - state.updatedAt;
    tokens = elapsed > 0 ? Math.min(capacity, state.tokens + (elapsed * refillPerSecond) / 1000) : state.tokens;
    updatedAt = elapsed > 0 ? now : state.updatedAt;
  }
  const allowed = tokens >= cost;
  if (allowed) tokens -= cost;
  const perMs = refillPerSecond / 1000;
  const resetMs = perMs > 0 ? Math.ceil((capacity - tokens) / perMs) : 0;
  const retryAfterMs = allowed ? 0 : perMs > 0 ? Math.ceil((cost - tokens) / perMs) : Number.POSITIVE_INFINITY;
  return {
    allowed,
    limit: capacity,
    remaining: Math.max(0, Math.floor(tokens)),
    resetMs,
    retryAfterMs,
    state: { tokens, updatedAt },
  };
}

/** A limit as `{ limit, window }`, e.g. `{ limit: 100, window: '1m' }`: a bucket of 100 refilled over a minute. */
export interface WindowLimit {
  limit: number;
  /** A duration: `'1m'`, `'30s'`, or ms. */
  window: string | number;
}

/** Either form of a limit. */
export type LimitSpec = BucketConfig | WindowLimit;

/**
 * Normalises and validates a limit.
 * @example toBucketConfig({ limit: 60, window: '1m' }) // { capacity: 60, refillPerSecond: 1 }
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG`
 */
export function toBucketConfig(spec: LimitSpec, where = 'rateLimit'): BucketConfig {
  if ('limit' in spec) {
    const windowMs = parseDuration(spec.window);
    if (windowMs === undefined || windowMs <= 0) invalid(where, 'window', spec.window);
    if (!(Number.isFinite(spec.limit) && spec.limit > 0)) invalid(where, 'limit', spec.limit);
    return { capacity: spec.limit, refillPerSecond: spec.limit / (windowMs / 1000) };
  }
  if (!(Number.isFinite(spec.capacity) && spec.capacity > 0)) invalid(where, 'capacity', spec.capacity);
  if (!(Number.isFinite(spec.refillPerSecond) && spec.refillPerSecond >= 0)) {
    invalid(where, 'refillPerSecond', spec.refillPerSecond);
  }
  return { capacity: spec.capacity, refillPerSecond: spec.refillPerSecond };
}

function invalid(where: string, field: string, value: unknown): never {
  throw new FleetgateError('ERR_FG_INVALID_CONFIG', `${where}: invalid ${field} ${JSON.stringify(value)}`, {
    details: { option: field, value },
  });
}
