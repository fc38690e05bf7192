/**
 * `describeCheckLease()`: the suite every `CheckLease` (lib/health/check-lease.ts) must pass,
 * registered with node:test (default), vitest or mocha, so a user's own lease store is checked
 * the way the memory, Redis and etcd leases are.
 */
import { randomUUID } from 'node:crypto';
import { mergeDefined } from '../core/options-merge.js';
import type { CheckLease } from '../health/check-lease.js';
import { type CheckLeaseCase, type CheckLeaseCaseContext, checkLeaseCases } from './check-lease-cases.js';
import { registerSuite, type SuiteRunOptions } from './suite-runner.js';

/** What the factory is told about the case it builds a lease for. */
export interface CheckLeaseFactoryContext {
  /** The case's name. */
  testName: string;
}

/** Builds a fresh lease object for one case (it may share a client with the others). */
export type CheckLeaseFactory = (ctx: CheckLeaseFactoryContext) => CheckLease | Promise<CheckLease>;

/** Options for {@link describeCheckLease}. */
export interface CheckLeaseConformanceOptions extends SuiteRunOptions {
  /** TTL of the lease the expiry case lets lapse, in ms of real time. @default 300 */
  ttlMs: number;
  /** How long the store may take to expire that lease (etcd 3.4 rounds up to ~2 s, then up to ~1 s late). @default 3000 */
  expiryTimeoutMs: number;
  /** Deadline per case, in ms. @default 20000 */
  timeoutMs: number;
  /** Whether the lease must implement the optional `release()`. @default true */
  release: boolean;
}

/** Defaults for {@link CheckLeaseConformanceOptions}. Frozen. */
export const CHECK_LEASE_CONFORMANCE_DEFAULTS: Readonly<CheckLeaseConformanceOptions> = Object.freeze({
  skip: false,
  runner: undefined,
  ttlMs: 300,
  expiryTimeoutMs: 3000,
  timeoutMs: 20_000,
  release: true,
});

/**
 * Registers the check lease conformance suite. Every case gets a fresh lease object and keys of
 * its own, so the leases may share one real server and client.
 * @example
 * // node:test
 * describeCheckLease('memory', () => new MemoryCheckLease());
 * // vitest, etcd
 * import { describe, it } from 'vitest';
 * describeCheckLease('etcd', () => new EtcdCheckLease(client), { runner: { describe, it }, expiryTimeoutMs: 8000 });
 */
export function describeCheckLease(
  name: string,
  factory: CheckLeaseFactory,
  options: Partial<CheckLeaseConformanceOptions> = {},
): void {
  const opts = mergeDefined(CHECK_LEASE_CONFORMANCE_DEFAULTS, options);
  const entries = () =>
    checkLeaseCases
      .filter((c) => c.needs !== 'release' || opts.release)
      .map((c) => ({ name: c.name, run: () => runCase(factory, c, opts) }));
  registerSuite(`check lease conformance: ${name}`, entries, opts);
}

async function runCase(
  factory: CheckLeaseFactory,
  c: CheckLeaseCase,
  opts: CheckLeaseConformanceOptions,
): Promise<void> {
  const lease = await factory({ testName: c.name });
  const run = randomUUID().slice(0, 8);
  const ctx: CheckLeaseCaseContext = {
    lease,
    key: (label = 'k') => `conf-${run}/${label}`,
    ttlMs: opts.ttlMs,
    expiryTimeoutMs: opts.expiryTimeoutMs,
    timeoutMs: opts.timeoutMs,
  };
  await c.run(ctx);
}
