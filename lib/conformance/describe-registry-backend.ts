/**
 * `describeRegistryBackend()`: registers the shared backend suite with node:test (default),
 * vitest or mocha. The cases use only `node:assert/strict` and real time, so they run the same
 * against an in-memory, Redis or etcd backend.
 */
import { mergeDefined } from '../core/options-merge.js';
import type { RegistryBackend } from '../registry/model.js';
import { lifecycleCases } from './lifecycle-cases.js';
import { ownershipCases } from './ownership-cases.js';
import { type CaseContext, type ConformanceCase, caseContext, type SuiteSettings } from './suite-context.js';
import { registerSuite, type SuiteRunOptions } from './suite-runner.js';
import { watchExpiryCases } from './watch-expiry-cases.js';

/** What the factory is told about the case it builds a backend for. */
export interface BackendFactoryContext {
  /** The case's name. */
  testName: string;
}

/** Builds a fresh backend for one case; the suite closes it afterwards. */
export type BackendFactory = (ctx: BackendFactoryContext) => RegistryBackend | Promise<RegistryBackend>;

/** Builds a second backend on the same store as `first` (as a second gateway would); the suite closes it. */
export type PeerFactory = (
  first: RegistryBackend,
  ctx: BackendFactoryContext,
) => RegistryBackend | Promise<RegistryBackend>;

/** Options for {@link describeRegistryBackend}. */
export interface ConformanceOptions extends SuiteRunOptions {
  /** TTL of the leases the expiry cases let lapse, in ms of real time. @default 1500 */
  ttlMs: number;
  /** How long past the TTL a backend may take to report an expiry (etcd: a 1 s lease takes ~2.2 s). @default 3000 */
  expiryGraceMs: number;
  /** Deadline per case, in ms. @default 20000 */
  timeoutMs: number;
  /** Whether the backend must implement the optional `setStatus` capability. @default true */
  setStatus: boolean;
  /**
   * A second backend on the same store, for the cases that span two gateways. Store-backed
   * backends built with a fixed key prefix or root share their store by calling the factory
   * again (the default); an in-process store passes `(first) => first`.
   * @default the factory, called again
   */
  peer: PeerFactory | undefined;
}

/** Defaults for {@link ConformanceOptions}. Frozen. */
export const CONFORMANCE_DEFAULTS: Readonly<ConformanceOptions> = Object.freeze({
  skip: false,
  runner: undefined,
  ttlMs: 1500,
  expiryGraceMs: 3000,
  timeoutMs: 20_000,
  setStatus: true,
  peer: undefined,
});

/** Every case of the suite, in order ("implements the interface" first). */
export const conformanceCases: readonly ConformanceCase[] = Object.freeze([
  ...lifecycleCases,
  ...ownershipCases,
  ...watchExpiryCases,
]);

/**
 * Registers the registry backend conformance suite. Every backend's test file calls it.
 * @example
 * // node:test
 * describeRegistryBackend('memory', () => new MemoryBackend());
 * // vitest
 * import { describe, it } from 'vitest';
 * describeRegistryBackend('redis', () => new RedisBackend({ client: new Redis(url) }), { runner: { describe, it }, expiryGraceMs: 2000 });
 */
export function describeRegistryBackend(
  name: string,
  factory: BackendFactory,
  options: Partial<ConformanceOptions> = {},
): void {
  const opts: ConformanceOptions = mergeDefined(CONFORMANCE_DEFAULTS, options);
  const settings: SuiteSettings = { ttlMs: opts.ttlMs, expiryGraceMs: opts.expiryGraceMs, timeoutMs: opts.timeoutMs };
  const entries = () =>
    conformanceCases
      .filter((c) => c.needs !== 'setStatus' || opts.setStatus)
      .map((c) => ({ name: c.name, run: () => runCase(factory, opts.peer, c, settings) }));
  registerSuite(`registry backend conformance: ${name}`, entries, opts);
}

async function runCase(
  factory: BackendFactory,
  peerFactory: PeerFactory | undefined,
  c: ConformanceCase,
  settings: SuiteSettings,
): Promise<void> {
  const backend = await factory({ testName: c.name });
  const peers: RegistryBackend[] = [];
  const peer = async (): Promise<RegistryBackend> => {
    const made = await (peerFactory ?? ((_first, ctx) => factory(ctx)))(backend, { testName: c.name });
    peers.push(made);
    return made;
  };
  const ctx: CaseContext = caseContext(backend, settings, peer);
  try {
    await c.run(ctx);
  } finally {
    for (const p of peers) if (p !== backend) await p.close();
    await backend.close();
  }
}
