/**
 * Cross-gateway route claims (README "Registry backends"; README "Route claims"): each service's routes are
 * recorded in one store record (Redis: one hash in one slot; etcd: keys under one prefix guarded
 * by a version key) and a new claim is written only if the record did not change since it was
 * read, so two gateways accepting colliding routes in the same instant cannot both win. The
 * overlap rule is the core one (lib/core/route-overlap.ts), evaluated here in JS, never copied
 * into Lua. Claims carry an expiry: set to now + TTL by each claim and pushed forward lazily by
 * heartbeats (at most every TTL/3 per service and gateway), so a service whose instances are all
 * gone frees its routes within about one TTL.
 */
import { normalizeMethod } from '../../core/route-pattern.js';
import type { RoutePredicates } from '../../core/route-predicates.js';
import { FleetgateError } from '../../errors.js';
import type { RouteSpec } from '../model.js';

/** A route as a claim stores it. */
export interface ClaimedRouteSpec {
  method: string;
  path: string;
  protocol: 'http' | 'ws';
  /** Present when the route has predicates: the overlap test takes them into account. */
  predicates?: RoutePredicates;
  /** Present when the route targets named gateways. */
  gateways?: string[];
}

/** One service's claim. */
export interface ServiceClaim {
  routes: ClaimedRouteSpec[];
  /** ms since epoch; an expired claim is ignored and replaced. */
  expiresAt: number;
}

/** How many times a claim is retried when another gateway changed the record meanwhile. */
export const CLAIM_ATTEMPTS = 50;

/** The claimable form of routes (method normalised, protocol filled). */
export function claimRoutesOf(routes: readonly RouteSpec[]): ClaimedRouteSpec[] {
  return routes.map((r) => ({
    method: normalizeMethod(r.method),
    path: r.path,
    protocol: r.protocol ?? 'http',
    ...(r.predicates === undefined ? {} : { predicates: r.predicates }),
    ...(r.gateways === undefined || r.gateways.length === 0 ? {} : { gateways: r.gateways }),
  }));
}

/**
 * True when `service`'s live claim in `current` already holds every route in `routes` and has at
 * least half a TTL left: a registration then has nothing to write. Without this, every
 * registration of a service rewrote the one shared record, and a herd of instances of one
 * service re-registering at once lost the compare-and-set to itself until it gave up (503).
 * Skipping is safe: another service can claim none of these routes while this claim lives, and
 * heartbeats push it forward as before (the claim lags the newest lease by at most half a TTL).
 * @example claimCovers('orders', claimRoutesOf([{ method: 'GET', path: '/orders/**' }]), current, Date.now(), 5000)
 */
export function claimCovers(
  service: string,
  routes: readonly ClaimedRouteSpec[],
  current: ReadonlyMap<string, ServiceClaim>,
  now: number,
  ttlMs: number,
): boolean {
  const own = current.get(service);
  if (own === undefined || own.expiresAt - now < ttlMs / 2) return false;
  const held = new Set(own.routes.map((r) => `${r.protocol} ${r.method} ${r.path}`));
  return routes.every((r) => held.has(`${r.protocol} ${r.method} ${r.path}`));
}

/** Parses a stored claim; `undefined` for anything else. */
export function parseClaim(text: string | undefined | null): ServiceClaim | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    const v = JSON.parse(text) as ServiceClaim;
    return Array.isArray(v?.routes) && typeof v.expiresAt === 'number' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** `ERR_FG_STORE_UNAVAILABLE` after too many lost races. */
export function claimContended(service: string): FleetgateError {
  return new FleetgateError(
    'ERR_FG_STORE_UNAVAILABLE',
    `route claims of ${service} kept changing under it; gave up after ${CLAIM_ATTEMPTS} tries`,
  );
}

/** Remembers when this gateway last pushed each service's claim forward, so heartbeats touch it rarely. */
export class ClaimTouches {
  readonly #last = new Map<string, number>();

  /** Whether a heartbeat at `now` should push `service`'s claim forward (then it is noted as done). */
  due(service: string, now: number, ttlMs: number): boolean {
    const last = this.#last.get(service);
    if (last !== undefined && now - last < ttlMs / 3) return false;
    this.#last.set(service, now);
    return true;
  }

  /** Notes a claim just written. */
  noted(service: string, now: number): void {
    this.#last.set(service, now);
  }
}

/** `ERR_FG_ROUTE_CONFLICT` naming both routes and the owner of the claim in the store. */
export function claimConflict(
  service: string,
  route: ClaimedRouteSpec,
  owner: string,
  theirs: Pick<ClaimedRouteSpec, 'method' | 'path' | 'protocol'>,
): FleetgateError {
  return new FleetgateError(
    'ERR_FG_ROUTE_CONFLICT',
    `route ${route.method} ${route.path} of ${service} overlaps ${theirs.method} ${theirs.path} of ${owner} (claimed in the shared store)`,
    {
      details: {
        route,
        conflictsWith: { service: owner, method: theirs.method, path: theirs.path, protocol: theirs.protocol },
      },
    },
  );
}
