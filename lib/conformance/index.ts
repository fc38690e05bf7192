/**
 * `fleetgate/conformance`: the suites every pluggable part must pass, runnable from node:test
 * (default), vitest or mocha: registry backends (`describeRegistryBackend`), rate-limit stores
 * (`describeRateLimitStore`) and health-check leases (`describeCheckLease`), plus the
 * condition-with-deadline helper their cases use.
 * @example
 * import { describeRateLimitStore, describeRegistryBackend } from 'fleetgate/conformance';
 * describeRegistryBackend('memory', () => new MemoryBackend());
 * describeRateLimitStore('memory', () => new MemoryStore());
 */
export type { CheckLeaseCase, CheckLeaseCaseContext } from './check-lease-cases.js';
export { checkLeaseCases } from './check-lease-cases.js';
export {
  CHECK_LEASE_CONFORMANCE_DEFAULTS,
  type CheckLeaseConformanceOptions,
  type CheckLeaseFactory,
  type CheckLeaseFactoryContext,
  describeCheckLease,
} from './describe-check-lease.js';
export {
  describeRateLimitStore,
  RATE_LIMIT_STORE_CONFORMANCE_DEFAULTS,
  type RateLimitStoreConformanceOptions,
  type RateLimitStoreFactory,
  type RateLimitStoreFactoryContext,
} from './describe-rate-limit-store.js';
export {
  type BackendFactory,
  type BackendFactoryContext,
  CONFORMANCE_DEFAULTS,
  type ConformanceOptions,
  conformanceCases,
  describeRegistryBackend,
  type PeerFactory,
} from './describe-registry-backend.js';
export type { RateLimitStoreCase, RateLimitStoreCaseContext } from './rate-limit-store-cases.js';
export { rateLimitStoreCases } from './rate-limit-store-cases.js';
export type { CaseContext, ConformanceCase, EventRecorder, SuiteSettings } from './suite-context.js';
export type { ConformanceRunner, SuiteRunOptions } from './suite-runner.js';
export { type WaitForOptions, waitFor } from './wait-for.js';
