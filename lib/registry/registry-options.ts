/**
 * Options of the {@link import('./registry.js').Registry}: the shape, the frozen defaults and
 * the up-front validation.
 */
import { type Clock, realClock } from '../clock.js';
import { FleetgateError } from '../errors.js';
import { type Logger, noopLogger } from '../logger.js';
import type { RegistryBackend } from './model.js';
import type { RouteShape } from './route-claims.js';

/** Options for the Registry. */
export interface RegistryOptions {
  /** The store. Required. */
  backend: RegistryBackend;
  /** Time source for expiry, sweeps and self-preservation. @default realClock */
  clock: Clock;
  /** TTL given to every registration and heartbeat, in ms. @default 90000 */
  ttlMs: number;
  /** How often the cache is swept for expired leases, in ms. @default 1000 */
  sweepIntervalMs: number;
  /** Freeze eviction when more than this share of the live instances expire in one sweep. @default 0.15 */
  preserveThreshold: number;
  /** Thaw a freeze after this long anyway, so dead instances do leave. @default 3 × ttlMs (when undefined) */
  preserveMaxMs: number | undefined;
  /** Fewest expiries in one sweep that can freeze eviction (one crash is never a mass event). @default 2 */
  preserveMinExpired: number;
  /** Most instances this gateway holds in total; a new one beyond it is refused with `ERR_FG_MAX_INSTANCES` (429). @default 20000 */
  maxInstances: number;
  /** Most instances of one service; a new one beyond it is refused with `ERR_FG_MAX_SERVICE_INSTANCES` (429). @default 5000 */
  maxInstancesPerService: number;
  /** Most distinct routes (method, pattern shape, protocol) one service may hold; beyond: `ERR_FG_MAX_SERVICE_ROUTES` (409). @default 500 */
  maxRoutesPerService: number;
  /** Gateway routes registrations may not override (RouteSpec and static gateway routes both fit). @default [] */
  staticRoutes: readonly RouteShape[];
  /** Pause between liveness probes of a backend with `probe()`, in ms. @default 250 */
  probeIntervalMs: number;
  /** A liveness probe not answered within this marks the store `down`, in ms. @default 500 */
  probeTimeoutMs: number;
  /** Bound on each store call made for a caller (register, heartbeat, …), in ms. @default 900 */
  callTimeoutMs: number;
  /**
   * Bound on one full re-list of the store (the initial fill, a resync), in ms: listing 10,000
   * instances takes far longer than one heartbeat, so it has a deadline of its own
   * (`REGISTRY_LIST_TIMEOUT`). @default 10000
   */
  listTimeoutMs: number;
  /** @default noopLogger */
  logger: Logger;
  /** Close the backend when the registry closes. @default false */
  ownsBackend: boolean;
}

/** Defaults for {@link RegistryOptions}. Frozen. */
export const REGISTRY_DEFAULTS: Readonly<Omit<RegistryOptions, 'backend'>> = Object.freeze({
  clock: realClock,
  ttlMs: 90_000,
  sweepIntervalMs: 1000,
  preserveThreshold: 0.15,
  preserveMaxMs: undefined,
  preserveMinExpired: 2,
  staticRoutes: Object.freeze([]) as readonly RouteShape[],
  maxInstances: 20_000,
  maxInstancesPerService: 5_000,
  maxRoutesPerService: 500,
  probeIntervalMs: 250,
  probeTimeoutMs: 500,
  callTimeoutMs: 900,
  listTimeoutMs: 10_000,
  logger: noopLogger,
  ownsBackend: false,
});

/** Options with every default applied. */
export type ResolvedRegistryOptions = Omit<RegistryOptions, 'preserveMaxMs'> & { preserveMaxMs: number };

/**
 * Resolves and validates options.
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` naming the first invalid option.
 */
export function resolveRegistryOptions(options: Omit<RegistryOptions, 'preserveMaxMs'> & { preserveMaxMs?: number }) {
  const o = options;
  const bad = (name: string, value: unknown, expected: string): never => {
    throw new FleetgateError(
      'ERR_FG_INVALID_CONFIG',
      `Registry option ${name}=${String(value)} is invalid: ${expected}`,
      {
        details: { option: name, value, expected },
      },
    );
  };
  if (o.backend === undefined || typeof o.backend.watch !== 'function') bad('backend', o.backend, 'a RegistryBackend');
  if (!(Number.isFinite(o.ttlMs) && o.ttlMs > 0)) bad('ttlMs', o.ttlMs, 'a positive number of ms');
  if (!(Number.isFinite(o.sweepIntervalMs) && o.sweepIntervalMs > 0))
    bad('sweepIntervalMs', o.sweepIntervalMs, 'a positive number of ms');
  if (!(o.preserveThreshold > 0 && o.preserveThreshold <= 1))
    bad('preserveThreshold', o.preserveThreshold, 'a number in (0, 1]');
  const preserveMaxMs = o.preserveMaxMs ?? 3 * o.ttlMs;
  if (!(Number.isFinite(preserveMaxMs) && preserveMaxMs >= 0))
    bad('preserveMaxMs', preserveMaxMs, 'a non-negative number of ms');
  if (!(Number.isInteger(o.preserveMinExpired) && o.preserveMinExpired >= 1))
    bad('preserveMinExpired', o.preserveMinExpired, 'an integer ≥ 1');
  for (const name of ['probeIntervalMs', 'probeTimeoutMs', 'callTimeoutMs', 'listTimeoutMs'] as const) {
    if (!(Number.isFinite(o[name]) && o[name] > 0)) bad(name, o[name], 'a positive number of ms');
  }
  for (const name of ['maxInstances', 'maxInstancesPerService', 'maxRoutesPerService'] as const) {
    if (!(Number.isInteger(o[name]) && o[name] >= 1)) bad(name, o[name], 'an integer ≥ 1');
  }
  if (!Array.isArray(o.staticRoutes)) bad('staticRoutes', o.staticRoutes, 'an array of routes');
  return { ...o, preserveMaxMs } satisfies ResolvedRegistryOptions;
}
