/**
 * `describeRateLimitStore()`: the suite every `RateLimitStore` (lib/ratelimit/store.ts) must
 * pass, registered with node:test (default), vitest or mocha, so a user's own store is checked
 * the way the memory and Redis stores are.
 */
import { randomUUID } from 'node:crypto';
import { mergeDefined } from '../core/options-merge.js';
import type { RateLimitStore } from '../ratelimit/store.js';
import {
  type RateLimitStoreCase,
  type RateLimitStoreCaseContext,
  rateLimitStoreCases,
} from './rate-limit-store-cases.js';
import { registerSuite, type SuiteRunOptions } from './suite-runner.js';

/** What the factory is told about the case it builds a store for. */
export interface RateLimitStoreFactoryContext {
  /** The case's name. */
  testName: string;
}

/** Builds a fresh store for one case; the suite closes it afterwards. */
export type RateLimitStoreFactory = (ctx: RateLimitStoreFactoryContext) => RateLimitStore | Promise<RateLimitStore>;

/** Options for {@link describeRateLimitStore}. */
export interface RateLimitStoreConformanceOptions extends SuiteRunOptions {
  /** Deadline per case, in ms. @default 10000 */
  timeoutMs: number;
}

/** Defaults for {@link RateLimitStoreConformanceOptions}. Frozen. */
export const RATE_LIMIT_STORE_CONFORMANCE_DEFAULTS: Readonly<RateLimitStoreConformanceOptions> = Object.freeze({
  skip: false,
  runner: undefined,
  timeoutMs: 10_000,
});

/**
 * Registers the rate-limit store conformance suite. Every case builds a fresh store and uses
 * keys of its own, so the stores may share one real server.
 * @example
 * // node:test
 * describeRateLimitStore('memory', () => new MemoryStore());
 * // vitest
 * import { describe, it } from 'vitest';
 * describeRateLimitStore('redis', () => new RedisStore(client), { runner: { describe, it } });
 */
export function describeRateLimitStore(
  name: string,
  factory: RateLimitStoreFactory,
  options: Partial<RateLimitStoreConformanceOptions> = {},
): void {
  const opts = mergeDefined(RATE_LIMIT_STORE_CONFORMANCE_DEFAULTS, options);
  const entries = () => rateLimitStoreCases.map((c) => ({ name: c.name, run: () => runCase(factory, c, opts) }));
  registerSuite(`rate-limit store conformance: ${name}`, entries, opts);
}

async function runCase(
  factory: RateLimitStoreFactory,
  c: RateLimitStoreCase,
  opts: RateLimitStoreConformanceOptions,
): Promise<void> {
  const store = await factory({ testName: c.name });
  const run = randomUUID().slice(0, 8);
  const ctx: RateLimitStoreCaseContext = {
    store,
    key: (label = 'k') => `conf-${run}-${label}`,
    timeoutMs: opts.timeoutMs,
  };
  try {
    await c.run(ctx);
  } finally {
    await store.close();
  }
}
