/**
 * `fleetgate/conformance`: the suite every registry backend must pass, runnable from node:test
 * (default), vitest or mocha, plus the condition-with-deadline helper its cases use.
 * @example
 * import { describeRegistryBackend } from 'fleetgate/conformance';
 * describeRegistryBackend('memory', () => new MemoryBackend());
 */
export {
  type BackendFactory,
  type BackendFactoryContext,
  CONFORMANCE_DEFAULTS,
  type ConformanceOptions,
  type ConformanceRunner,
  conformanceCases,
  describeRegistryBackend,
} from './describe-registry-backend.js';
export type { CaseContext, ConformanceCase, EventRecorder, SuiteSettings } from './suite-context.js';
export { type WaitForOptions, waitFor } from './wait-for.js';
