/**
 * Retry delays for the client: capped exponential backoff with full jitter, and the ±N % jitter
 * applied to heartbeat intervals. Pure functions over an injected random source, so the spread
 * of delays across many clients can be tested with a seeded generator.
 */

/** Shape of the registration retry backoff. */
export interface BackoffOptions {
  /** Ceiling of the first retry delay, in ms. @default 500 */
  initialMs: number;
  /** Largest ceiling any retry delay can have, in ms. @default 30000 */
  maxMs: number;
  /** Growth of the ceiling per failed attempt. @default 2 */
  factor: number;
}

/** Defaults for {@link BackoffOptions}. Frozen. */
export const BACKOFF_DEFAULTS: Readonly<BackoffOptions> = Object.freeze({
  initialMs: 500,
  maxMs: 30_000,
  factor: 2,
});

/** A source of uniform numbers in `[0, 1)`, like `Math.random`. */
export type RandomSource = () => number;

/**
 * The ceiling of the delay before retry number `attempt` (0-based): `min(maxMs, initialMs × factor^attempt)`.
 * @example backoffCeiling(3, BACKOFF_DEFAULTS) // 4000
 */
export function backoffCeiling(attempt: number, options: Readonly<BackoffOptions>): number {
  const exp = options.initialMs * options.factor ** Math.max(0, attempt);
  // `factor ** attempt` overflows to Infinity after enough failures; the cap absorbs it.
  return Math.min(options.maxMs, Number.isFinite(exp) ? exp : options.maxMs);
}

/**
 * The delay before retry number `attempt` (0-based), "full jitter": uniform in `[0, ceiling)`.
 * Full jitter rather than a fixed schedule so a fleet that lost its gateway at the same instant
 * does not come back as one synchronised wave (the thundering herd).
 * @example backoffDelay(2, BACKOFF_DEFAULTS, Math.random) // somewhere in [0, 2000)
 */
export function backoffDelay(attempt: number, options: Readonly<BackoffOptions>, random: RandomSource): number {
  return Math.floor(clampUnit(random()) * backoffCeiling(attempt, options));
}

/**
 * `intervalMs` scaled by a factor uniform in `[1 - jitter, 1 + jitter]`, so heartbeats of
 * instances started together drift apart instead of arriving in bursts.
 * @example jitteredInterval(1000, 0.1, Math.random) // somewhere in [900, 1100]
 */
export function jitteredInterval(intervalMs: number, jitter: number, random: RandomSource): number {
  const factor = 1 - jitter + 2 * jitter * clampUnit(random());
  return Math.round(intervalMs * factor);
}

/**
 * A small seeded generator (mulberry32) returning numbers in `[0, 1)`: reproducible jitter in tests.
 * @example const random = seededRandom(42); random(); // always the same first value
 */
export function seededRandom(seed: number): RandomSource {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Guards against a user-supplied random source straying outside `[0, 1)`. */
function clampUnit(x: number): number {
  if (!Number.isFinite(x) || x < 0) return 0;
  return x >= 1 ? 1 - Number.EPSILON : x;
}
