/**
 * Route collision rules (DESIGN.md §2): routes of different services may not share the same
 * method and pattern shape, and static gateway routes can never be overridden by registrations.
 * Weighted splits across services are not implemented: every cross-service collision is refused.
 */
import { FleetgateError } from '../errors.js';

/** The part of a route that decides collisions; {@link RouteSpec} and static gateway routes both fit. */
export interface RouteShape {
  /** @default '*' */
  method?: string;
  path: string;
  /** @default 'http' */
  protocol?: 'http' | 'ws';
}

/** A route already claimed by someone: a service's route, or a static gateway route (`service` absent). */
export interface ClaimedRoute {
  route: RouteShape;
  /** The owning service; absent for static gateway routes. */
  service?: string;
}

/** The collision found by {@link findRouteConflict}. */
export interface RouteConflict {
  /** The new route that collides. */
  route: RouteShape;
  /** What it collides with: `{ service, method, path }` or `{ static: true, method, path }`. */
  conflictsWith: { service?: string; static?: true; method: string; path: string; protocol: 'http' | 'ws' };
}

/**
 * The shape of a path pattern: empty segments dropped and every `:name` segment turned into `:`,
 * so `/a/:id` and `/a/:x/` have the same shape.
 * @example routePathShape('/api/:id/') // '/api/:'
 */
export function routePathShape(path: string): string {
  const segments = path.split('/').filter((s) => s !== '');
  return `/${segments.map((s) => (s.startsWith(':') ? ':' : s)).join('/')}`;
}

/**
 * A key equal for two routes with the same protocol, method and pattern shape. A route with method
 * `*` also collides with every method of the same shape: use {@link routesCollide} for the full rule.
 * @example routeShapeKey({ method: 'get', path: '/a/:id' }) // 'http GET /a/:'
 */
export function routeShapeKey(route: RouteShape): string {
  return `${route.protocol ?? 'http'} ${normaliseMethod(route.method)} ${routePathShape(route.path)}`;
}

/** True when two routes collide: same protocol, methods equal (or either is `*`), same path shape. */
export function routesCollide(a: RouteShape, b: RouteShape): boolean {
  if ((a.protocol ?? 'http') !== (b.protocol ?? 'http')) return false;
  const ma = normaliseMethod(a.method);
  const mb = normaliseMethod(b.method);
  if (ma !== mb && ma !== '*' && mb !== '*') return false;
  return routePathShape(a.path) === routePathShape(b.path);
}

/**
 * The first collision between `routes` (of `service`) and `claimed`, ignoring routes claimed by
 * `service` itself (instances of one service share their routes).
 * @example
 * const conflict = findRouteConflict('obr', [{ method: 'GET', path: '/a/:x' }], [{ service: 'sagjan', route: { method: 'GET', path: '/a/:id' } }]);
 */
export function findRouteConflict(
  service: string,
  routes: readonly RouteShape[],
  claimed: Iterable<ClaimedRoute>,
): RouteConflict | undefined {
  if (routes.length === 0) return undefined;
  for (const other of claimed) {
    if (other.service === service) continue;
    for (const route of routes) {
      if (!routesCollide(route, other.route)) continue;
      return {
        route,
        conflictsWith: {
          ...(other.service === undefined ? { static: true as const } : { service: other.service }),
          method: normaliseMethod(other.route.method),
          path: other.route.path,
          protocol: other.route.protocol ?? 'http',
        },
      };
    }
  }
  return undefined;
}

/** Claims of every route of every instance given (duplicates across instances of one service removed). */
export function claimsOf(instances: Iterable<{ service: string; routes: readonly RouteShape[] }>): ClaimedRoute[] {
  const seen = new Set<string>();
  const out: ClaimedRoute[] = [];
  for (const inst of instances) {
    for (const route of inst.routes) {
      const key = `${inst.service}\0${routeShapeKey(route)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ service: inst.service, route });
    }
  }
  return out;
}

function normaliseMethod(method: string | undefined): string {
  return method === undefined || method === '' ? '*' : method.toUpperCase();
}

/**
 * Throws `ERR_FG_ROUTE_CONFLICT` (details `{ route, conflictsWith }`) when a route of `service`
 * collides with a claimed route of another service or a static gateway route.
 */
export function assertNoRouteConflict(
  service: string,
  routes: readonly RouteShape[],
  claimed: Iterable<ClaimedRoute>,
  index?: RouteClaims,
): void {
  const conflict = index?.find(service, routes) ?? findRouteConflict(service, routes, claimed);
  if (conflict === undefined) return;
  const { route, conflictsWith: other } = conflict;
  throw new FleetgateError(
    'ERR_FG_ROUTE_CONFLICT',
    `route ${normaliseMethod(route.method)} ${route.path} of ${service} collides with ` +
      `${other.static ? 'the static gateway route' : `a route of ${other.service}`} ${other.method} ${other.path}`,
    { details: conflict },
  );
}

/**
 * An index of the routes claimed by cached instances, so a conflict check costs O(routes of the
 * new instance) instead of a scan of the whole fleet. Reference-counted per (service, method, shape).
 */
export class RouteClaims {
  /** `protocol shape` → owning service → METHOD → { count, path as written }. */
  readonly #byShape = new Map<string, Map<string, Map<string, { count: number; path: string }>>>();

  /** Records the routes of one instance of `service`. */
  add(service: string, routes: readonly RouteShape[]): void {
    for (const route of routes) {
      const shape = `${route.protocol ?? 'http'} ${routePathShape(route.path)}`;
      let owners = this.#byShape.get(shape);
      if (owners === undefined) {
        owners = new Map();
        this.#byShape.set(shape, owners);
      }
      let methods = owners.get(service);
      if (methods === undefined) {
        methods = new Map();
        owners.set(service, methods);
      }
      const method = normaliseMethod(route.method);
      const claim = methods.get(method);
      if (claim === undefined) methods.set(method, { count: 1, path: route.path });
      else claim.count++;
    }
  }

  /** Forgets the routes of one instance of `service` (the same list given to {@link add}). */
  remove(service: string, routes: readonly RouteShape[]): void {
    for (const route of routes) {
      const shape = `${route.protocol ?? 'http'} ${routePathShape(route.path)}`;
      const owners = this.#byShape.get(shape);
      const methods = owners?.get(service);
      const method = normaliseMethod(route.method);
      const claim = methods?.get(method);
      if (claim === undefined || --claim.count > 0) continue;
      methods!.delete(method);
      if (methods!.size === 0) owners!.delete(service);
      if (owners!.size === 0) this.#byShape.delete(shape);
    }
  }

  /** The first route of `service` that collides with a route claimed by another service. */
  find(service: string, routes: readonly RouteShape[]): RouteConflict | undefined {
    for (const route of routes) {
      const protocol = route.protocol ?? 'http';
      const owners = this.#byShape.get(`${protocol} ${routePathShape(route.path)}`);
      if (owners === undefined) continue;
      const mine = normaliseMethod(route.method);
      for (const [owner, methods] of owners) {
        if (owner === service) continue;
        for (const [method, claim] of methods) {
          if (method !== mine && method !== '*' && mine !== '*') continue;
          return { route, conflictsWith: { service: owner, method, path: claim.path, protocol } };
        }
      }
    }
    return undefined;
  }
}
