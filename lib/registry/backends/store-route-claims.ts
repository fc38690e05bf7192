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
import { routesOverlap } from '../../core/route-overlap.js';
import { compilePattern, normalizeMethod } from '../../core/route-pattern.js';
import { compilePredicates, isPredicateProblem, type RoutePredicates } from '../../core/route-predicates.js';
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
 * Decides a claim against the current record: throws `ERR_FG_ROUTE_CONFLICT` when a route
 * overlaps a live claim of another service, else returns the service's new claim (its live
 * routes plus the new ones, expiry pushed to at least `now + ttlMs`).
 */
export function decideClaim(
  service: string,
  routes: readonly ClaimedRouteSpec[],
  current: ReadonlyMap<string, ServiceClaim>,
  now: number,
  ttlMs: number,
): ServiceClaim {
  const mine = routes.map((r) => ({ route: r, compiled: compiled(r.path), predicates: predicatesOf(r) }));
  for (const [owner, claim] of current) {
    if (owner === service || claim.expiresAt <= now) continue;
    for (const theirs of claim.routes) {
      const other = compiled(theirs.path);
      if (other === undefined) continue;
      for (const m of mine) {
        if (m.compiled === undefined) continue;
        const a = {
          compiled: m.compiled,
          method: m.route.method,
          protocol: m.route.protocol,
          predicates: m.predicates,
          gateways: m.route.gateways,
        };
        const b = {
          compiled: other,
          method: theirs.method,
          protocol: theirs.protocol,
          predicates: predicatesOf(theirs),
          gateways: theirs.gateways,
        };
        if (routesOverlap(a, b)) throw claimConflict(service, m.route, owner, theirs);
      }
    }
  }
  const own = current.get(service);
  const kept = own !== undefined && own.expiresAt > now ? own.routes : [];
  const seen = new Set<string>();
  const merged: ClaimedRouteSpec[] = [];
  for (const r of [...kept, ...routes]) {
    const key = `${r.protocol} ${r.method} ${r.path} ${JSON.stringify(r.predicates ?? null)} ${r.gateways?.join(',') ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    merged.push(r);
  }
  return { routes: merged, expiresAt: Math.max(now + ttlMs, own?.expiresAt ?? 0) };
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

/** Compiled predicates of a stored claim; invalid or absent ones count as none (they overlap more, never less). */
function predicatesOf(route: ClaimedRouteSpec) {
  const p = compilePredicates(route.predicates);
  return p === undefined || isPredicateProblem(p) ? undefined : p;
}

const cache = new Map<string, ReturnType<typeof compilePattern> | undefined>();

function compiled(path: string) {
  if (cache.has(path)) return cache.get(path);
  let result: ReturnType<typeof compilePattern> | undefined;
  try {
    result = compilePattern(path, 'ERR_FG_INVALID_ROUTE');
  } catch {
    result = undefined; // invalid patterns are refused before they get here; never let one block others
  }
  if (cache.size > 10_000) cache.clear();
  cache.set(path, result);
  return result;
}

function claimConflict(
  service: string,
  route: ClaimedRouteSpec,
  owner: string,
  theirs: ClaimedRouteSpec,
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
