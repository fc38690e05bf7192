/**
 * `describeRegistryBackend()`: registers the shared backend suite with node:test (default),
 * vitest or mocha. The cases use only `node:assert/strict` and real time, so they run the same
 * against an in-memory, Redis or etcd backend.
 */
import * as nodeTest from 'node:test';
import { mergeDefined } from '../core/options-merge.js';
import type { RegistryBackend } from '../registry/model.js';
import { lifecycleCases } from './lifecycle-cases.js';
import { type CaseContext, type ConformanceCase, caseContext, type SuiteSettings } from './suite-context.js';
import { watchExpiryCases } from './watch-expiry-cases.js';

type SuiteFn = () => void;
type TestFn = () => Promise<void>;

/**
 * The test API of a runner. vitest and mocha fit as is (`{ describe, it }` from either); the
 * suite calls `it(name, fn, timeoutMs)`, which vitest honours and mocha ignores (give mocha a
 * `--timeout` of at least `timeoutMs`). Hooks are accepted but not needed: every case creates
 * and closes its own backend.
 */
export interface ConformanceRunner {
  describe: ((name: string, fn: SuiteFn) => unknown) & { skip?: (name: string, fn: SuiteFn) => unknown };
  it: (name: string, fn: TestFn, timeoutMs?: number) => unknown;
  before?: (fn: TestFn) => unknown;
  after?: (fn: TestFn) => unknown;
  beforeEach?: (fn: TestFn) => unknown;
  afterEach?: (fn: TestFn) => unknown;
}

/** What the factory is told about the case it builds a backend for. */
export interface BackendFactoryContext {
  /** The case's name. */
  testName: string;
}

/** Builds a fresh backend for one case; the suite closes it afterwards. */
export type BackendFactory = (ctx: BackendFactoryContext) => RegistryBackend | Promise<RegistryBackend>;

/** Options for {@link describeRegistryBackend}. */
export interface ConformanceOptions {
  /** Skip the whole suite (a string says why, e.g. "no Redis on PATH"). @default false */
  skip: boolean | string;
  /** The test runner's API. @default node:test's describe/it */
  runner: ConformanceRunner | undefined;
  /** TTL of the leases the expiry cases let lapse, in ms of real time. @default 1500 */
  ttlMs: number;
  /** How long past the TTL a backend may take to report an expiry (etcd: a 1 s lease takes ~2.2 s). @default 3000 */
  expiryGraceMs: number;
  /** Deadline per case, in ms. @default 20000 */
  timeoutMs: number;
  /** Whether the backend must implement the optional `setStatus` capability. @default true */
  setStatus: boolean;
}

/** Defaults for {@link ConformanceOptions}. Frozen. */
export const CONFORMANCE_DEFAULTS: Readonly<ConformanceOptions> = Object.freeze({
  skip: false,
  runner: undefined,
  ttlMs: 1500,
  expiryGraceMs: 3000,
  timeoutMs: 20_000,
  setStatus: true,
});

/** Every case of the suite, in order ("implements the interface" first). */
export const conformanceCases: readonly ConformanceCase[] = Object.freeze([...lifecycleCases, ...watchExpiryCases]);

const nodeRunner = {
  describe: (name: string, fn: SuiteFn, skip: boolean | string) => nodeTest.describe(name, { skip }, fn),
  it: (name: string, fn: TestFn, timeout: number) => nodeTest.it(name, { timeout }, fn),
};

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
  const title = `registry backend conformance: ${name}`;
  const suite = () => {
    for (const c of conformanceCases) {
      if (c.needs === 'setStatus' && !opts.setStatus) continue;
      it(c.name, () => withDeadline(c.name, opts.timeoutMs, () => runCase(factory, c, settings)));
    }
  };
  const runner = opts.runner;
  const it = (n: string, fn: TestFn) =>
    runner === undefined ? nodeRunner.it(n, fn, opts.timeoutMs + 1000) : runner.it(n, fn, opts.timeoutMs + 1000);
  if (runner === undefined) {
    nodeRunner.describe(title, suite, opts.skip);
  } else if (opts.skip !== false) {
    const reason = typeof opts.skip === 'string' ? ` (skipped: ${opts.skip})` : ' (skipped)';
    // A runner without describe.skip gets an empty suite, so nothing is counted as passed.
    (runner.describe.skip ?? runner.describe)(title + reason, runner.describe.skip ? suite : () => {});
  } else {
    runner.describe(title, suite);
  }
}

async function runCase(factory: BackendFactory, c: ConformanceCase, settings: SuiteSettings): Promise<void> {
  const backend = await factory({ testName: c.name });
  const ctx: CaseContext = caseContext(backend, settings);
  try {
    await c.run(ctx);
  } finally {
    await backend.close();
  }
}

/** Fails a case that outlives its deadline with a clear message, whatever the runner's own timeout. */
async function withDeadline(name: string, ms: number, fn: () => Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`conformance case "${name}" did not finish within ${ms} ms`)), ms);
  });
  try {
    await Promise.race([fn(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
