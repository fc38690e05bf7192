/**
 * What every published suite (registry backend, rate-limit store, check lease) shares: the
 * runner abstraction (node:test by default, vitest or mocha injected), skipping that never counts
 * as passing, and a per-case deadline with a clear message.
 */
import * as nodeTest from 'node:test';

type SuiteFn = () => void;
type TestFn = () => Promise<void>;

/**
 * The test API of a runner. vitest and mocha fit as is (`{ describe, it }` from either); the
 * suites call `it(name, fn, timeoutMs)`, which vitest honours and mocha ignores (give mocha a
 * `--timeout` of at least `timeoutMs`). Hooks are accepted but not needed: every case creates
 * and closes what it uses.
 */
export interface ConformanceRunner {
  describe: ((name: string, fn: SuiteFn) => unknown) & { skip?: (name: string, fn: SuiteFn) => unknown };
  it: (name: string, fn: TestFn, timeoutMs?: number) => unknown;
  before?: (fn: TestFn) => unknown;
  after?: (fn: TestFn) => unknown;
  beforeEach?: (fn: TestFn) => unknown;
  afterEach?: (fn: TestFn) => unknown;
}

/** The options every suite takes, whatever it checks. */
export interface SuiteRunOptions {
  /** Skip the whole suite (a string says why, e.g. "no Redis on PATH"). @default false */
  skip: boolean | string;
  /** The test runner's API. @default node:test's describe/it */
  runner: ConformanceRunner | undefined;
  /** Deadline per case, in ms. */
  timeoutMs: number;
}

/** One registered case: a name and what it runs. */
export interface SuiteEntry {
  name: string;
  run(): Promise<void>;
}

/**
 * Registers `entries` as one `describe(title)` with the chosen runner. Each case fails with a
 * message naming it when it outlives `timeoutMs`; the runner's own timeout is one second longer.
 */
export function registerSuite(title: string, entries: () => readonly SuiteEntry[], opts: SuiteRunOptions): void {
  const runner = opts.runner;
  const runnerTimeout = opts.timeoutMs + 1000;
  const suite = () => {
    for (const e of entries()) {
      const fn = () => withDeadline(e.name, opts.timeoutMs, () => e.run());
      if (runner === undefined) nodeTest.it(e.name, { timeout: runnerTimeout }, fn);
      else runner.it(e.name, fn, runnerTimeout);
    }
  };
  if (runner === undefined) {
    nodeTest.describe(title, { skip: opts.skip }, suite);
  } else if (opts.skip !== false) {
    const reason = typeof opts.skip === 'string' ? ` (skipped: ${opts.skip})` : ' (skipped)';
    // A runner without describe.skip gets an empty suite, so nothing is counted as passed.
    (runner.describe.skip ?? runner.describe)(title + reason, runner.describe.skip ? suite : () => {});
  } else {
    runner.describe(title, suite);
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
