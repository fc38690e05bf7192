/**
 * The registry's size limits: instances in total, instances per service and distinct routes per
 * service. Checked before a registration reaches the store; a refusal names the limit and changes
 * nothing. Counts are this gateway's view (its cache plus its registrations in flight).
 */
import { FleetgateError } from '../errors.js';
import type { RouteSpec } from './model.js';
import { type ClaimedRoute, compileRoute, type RouteClaims } from './route-claims.js';

/** The limits, as in {@link import('./registry-options.js').RegistryOptions}. */
export interface RegistryLimits {
  maxInstances: number;
  maxInstancesPerService: number;
  maxRoutesPerService: number;
}

/** What the registry holds when a registration arrives. */
export interface HeldCounts {
  /** Instances held in total (cached, expired-but-unswept included, plus new ones in flight). */
  total: number;
  /** Instances of the registering service held the same way. */
  inService: number;
  /** The instance id is already held: a re-registration adds no instance. */
  known: boolean;
  /** The routes the re-registered instance holds now (they may be freed by this registration). */
  previousRoutes: readonly RouteSpec[] | undefined;
  /** Claims of the instances in the cache, for the service's distinct routes. */
  claims: RouteClaims;
}

/**
 * Throws the coded error of the first limit the registration would pass. `routes` are the
 * registration's routes as {@link compileRoute} made them (`undefined` for one that does not
 * compile: it is refused at admission and counts for nothing here).
 * @example assertWithinLimits('orders', routes.map((r) => compileRoute(r)), counts, { maxInstances: 20_000, maxInstancesPerService: 5_000, maxRoutesPerService: 500 });
 * @throws FleetgateError `ERR_FG_MAX_INSTANCES` / `ERR_FG_MAX_SERVICE_INSTANCES` (429), `ERR_FG_MAX_SERVICE_ROUTES` (409).
 */
export function assertWithinLimits(
  service: string,
  routes: readonly (ClaimedRoute | undefined)[],
  counts: HeldCounts,
  limits: RegistryLimits,
): void {
  if (!counts.known) {
    if (counts.total >= limits.maxInstances) {
      throw limitError(
        'ERR_FG_MAX_INSTANCES',
        'REGISTRY_MAX_INSTANCES',
        limits.maxInstances,
        counts.total,
        service,
        'the gateway holds',
      );
    }
    if (counts.inService >= limits.maxInstancesPerService) {
      throw limitError(
        'ERR_FG_MAX_SERVICE_INSTANCES',
        'REGISTRY_MAX_INSTANCES_PER_SERVICE',
        limits.maxInstancesPerService,
        counts.inService,
        service,
        `service "${service}" holds`,
      );
    }
  }
  const wouldHold = distinctAfter(service, routes, counts);
  if (wouldHold > limits.maxRoutesPerService) {
    throw limitError(
      'ERR_FG_MAX_SERVICE_ROUTES',
      'REGISTRY_MAX_ROUTES_PER_SERVICE',
      limits.maxRoutesPerService,
      wouldHold,
      service,
      `service "${service}" would hold`,
    );
  }
}

/** The service's distinct routes after the registration: new ones added, ones only the re-registered instance held dropped. */
function distinctAfter(service: string, routes: readonly (ClaimedRoute | undefined)[], counts: HeldCounts): number {
  const { claims } = counts;
  let distinct = claims.distinctOf(service);
  const incoming = new Set<string>();
  for (const r of routes) {
    if (r === undefined) continue;
    const key = `${r.protocol} ${r.method} ${r.compiled.shape}`;
    if (incoming.has(key)) continue;
    incoming.add(key);
    if (claims.holders(service, r) === 0) distinct++;
  }
  for (const route of counts.previousRoutes ?? []) {
    const r = compileRoute(route);
    if (r === undefined || incoming.has(`${r.protocol} ${r.method} ${r.compiled.shape}`)) continue;
    if (claims.holders(service, r) === 1) distinct--;
  }
  return distinct;
}

function limitError(
  code: 'ERR_FG_MAX_INSTANCES' | 'ERR_FG_MAX_SERVICE_INSTANCES' | 'ERR_FG_MAX_SERVICE_ROUTES',
  variable: string,
  max: number,
  count: number,
  service: string,
  who: string,
): FleetgateError {
  const what = code === 'ERR_FG_MAX_SERVICE_ROUTES' ? 'distinct routes' : 'instances';
  return new FleetgateError(code, `${who} ${count} ${what}; the limit is ${max} (${variable})`, {
    details: { limit: variable, max, count, service },
  });
}
