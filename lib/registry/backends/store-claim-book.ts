/**
 * A gateway's copy of the route claims held in a shared store (lib/registry/backends/store-route-claims.ts),
 * indexed by each route's leading literal run (lib/registry/route-claims.ts), and the claim
 * decision made against it. A new service's claim is compared only with the claims a request could
 * match together with it, so the thousandth service costs a handful of overlap tests, not a scan
 * of every claim (a scan of 1,000 services × 5 routes per registration was most of a 13 ms
 * registration at 10,000 instances).
 */
import { type ClaimedRoute, compileRoute, RouteClaims } from '../route-claims.js';
import { type ClaimedRouteSpec, claimConflict, claimCovers, type ServiceClaim } from './store-route-claims.js';

/**
 * The claims as last read from the store, plus the store's version token for that read
 * (`undefined`: nothing read yet, or the copy was dropped; the next read is a full one).
 * @example
 * const book = new ClaimBook();
 * book.set('victim', { routes: [{ method: 'GET', path: '/api/comments/*', protocol: 'http' }], expiresAt: Date.now() + 90_000 });
 * book.decide('attacker', [{ method: 'GET', path: '/api/comments/:id', protocol: 'http' }], Date.now(), 90_000); // throws 409
 */
export class ClaimBook {
  /** The store's version of what this copy holds; set by the store adapter after a read or a won write. */
  version: string | undefined;
  readonly #claims = new Map<string, ServiceClaim>();
  /** Services whose routes sit in the index (an expired claim leaves it when a search meets it). */
  readonly #indexed = new Set<string>();
  #index = new RouteClaims();

  /** The claims held, by service. */
  get claims(): ReadonlyMap<string, ServiceClaim> {
    return this.#claims;
  }

  /** A service's claim, live or not. */
  get(service: string): ServiceClaim | undefined {
    return this.#claims.get(service);
  }

  /** Replaces a service's claim (`undefined` removes it). */
  set(service: string, claim: ServiceClaim | undefined): void {
    this.#unindex(service);
    if (claim === undefined) {
      this.#claims.delete(service);
      return;
    }
    this.#claims.set(service, claim);
    this.#index.add(service, claim.routes);
    this.#indexed.add(service);
  }

  /** Forgets everything, version included: the next read is a full one. */
  reset(): void {
    this.version = undefined;
    this.#claims.clear();
    this.#indexed.clear();
    this.#index = new RouteClaims();
  }

  /** Whether `service`'s live claim already holds every route with half a TTL left (see claimCovers). */
  covers(service: string, routes: readonly ClaimedRouteSpec[], now: number, ttlMs: number): boolean {
    return claimCovers(service, routes, this.#claims, now, ttlMs);
  }

  /**
   * Decides a claim: throws `ERR_FG_ROUTE_CONFLICT` when a route overlaps a live claim of another
   * service (the core overlap rule, lib/core/route-overlap.ts), else returns the service's new
   * claim: its live routes plus the new ones, expiry pushed to at least `now + ttlMs`.
   */
  decide(service: string, routes: readonly ClaimedRouteSpec[], now: number, ttlMs: number): ServiceClaim {
    for (const route of routes) {
      // Invalid patterns are refused before they get here; never let one block others.
      const compiled = compileRoute(route);
      if (compiled !== undefined) this.#assertFree(service, route, compiled, now);
    }
    const own = this.#claims.get(service);
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

  #assertFree(service: string, route: ClaimedRouteSpec, compiled: ClaimedRoute, now: number): void {
    for (;;) {
      const hit = this.#index.find(service, compiled);
      if (hit?.service === undefined) return;
      const claim = this.#claims.get(hit.service);
      if (claim !== undefined && claim.expiresAt > now) throw claimConflict(service, route, hit.service, hit);
      // An expired claim: out of the index (it comes back only when the store rewrites it), look again.
      this.#unindex(hit.service);
    }
  }

  #unindex(service: string): void {
    if (!this.#indexed.delete(service)) return;
    const claim = this.#claims.get(service);
    if (claim !== undefined) this.#index.remove(service, claim.routes);
  }
}

/**
 * Decides a claim against `current` (a one-off {@link ClaimBook}): throws `ERR_FG_ROUTE_CONFLICT`
 * when a route overlaps a live claim of another service, else returns the service's new claim.
 * @example decideClaim('orders', [{ method: 'GET', path: '/orders/**', protocol: 'http' }], new Map(), Date.now(), 90_000)
 */
export function decideClaim(
  service: string,
  routes: readonly ClaimedRouteSpec[],
  current: ReadonlyMap<string, ServiceClaim>,
  now: number,
  ttlMs: number,
): ServiceClaim {
  const book = new ClaimBook();
  for (const [owner, claim] of current) book.set(owner, claim);
  return book.decide(service, routes, now, ttlMs);
}
