/**
 * Routes as the {@link import('./route-table.js').RouteTable} stores them: built from static
 * configuration or from the union of a service's live instances, compared and ordered.
 */

import type { PatternCache } from '../core/pattern-cache.js';
import { type CompiledPattern, compilePattern, normalizeMethod, routeShapeKeyOf } from '../core/route-pattern.js';
import { FleetgateError } from '../errors.js';
import type { RouteSpec, ServiceInstance } from '../registry/model.js';
import type { StaticRoute } from './types.js';

/** One route in the table's tries. Immutable: a change replaces it. */
export interface TableRoute {
  readonly compiled: CompiledPattern;
  /** Upper case, or `*`. */
  readonly method: string;
  /** Shape key, `http GET /api/:`. */
  readonly key: string;
  readonly route: RouteSpec;
  readonly service: string | undefined;
  readonly target: string | undefined;
  readonly isStatic: boolean;
  /** Earliest registration of the route; on a collision between services the older claim wins. */
  readonly since: number;
}

/**
 * A static gateway route as a table route, or `undefined` when it belongs to the other protocol.
 * Throws `ERR_FG_INVALID_CONFIG` when it is invalid.
 */
export function staticTableRoute(sr: StaticRoute, protocol: 'http' | 'ws'): TableRoute | undefined {
  if ((sr.protocol ?? 'http') !== protocol) return undefined;
  const where = `static route ${sr.method ?? '*'} ${sr.path}`;
  if ((sr.service === undefined) === (sr.target === undefined)) {
    throw new FleetgateError('ERR_FG_INVALID_CONFIG', `${where}: give exactly one of service or target`);
  }
  if (sr.target !== undefined && !URL.canParse(sr.target)) {
    throw new FleetgateError('ERR_FG_INVALID_CONFIG', `${where}: target "${sr.target}" is not a URL`);
  }
  const compiled = compilePattern(sr.path);
  const method = normalizeMethod(sr.method);
  const route: RouteSpec = {
    method,
    path: sr.path,
    protocol,
    ...(sr.timeoutMs === undefined ? {} : { timeoutMs: sr.timeoutMs }),
    ...(sr.permission === undefined ? {} : { permission: sr.permission }),
  };
  return {
    compiled,
    method,
    key: routeShapeKeyOf(protocol, method, compiled),
    route,
    service: sr.service,
    target: sr.target,
    isStatic: true,
    since: 0,
  };
}

/**
 * The routes of `protocol` that `service` offers: the union over its live instances, one per
 * shape key. Details (timeouts, permission) come from the newest registration, the claim age
 * from the oldest.
 */
export function unionOfRoutes(
  service: string,
  instances: readonly ServiceInstance[],
  protocol: 'http' | 'ws',
  patterns: PatternCache,
): Map<string, TableRoute> {
  const out = new Map<string, TableRoute>();
  const newestFirst = [...instances].sort((a, b) => b.registeredAt - a.registeredAt);
  for (const inst of newestFirst) {
    for (const route of inst.routes) {
      if ((route.protocol ?? 'http') !== protocol) continue;
      const compiled = patterns.compile(route.path);
      if (compiled === null) continue;
      const method = normalizeMethod(route.method);
      const key = routeShapeKeyOf(protocol, method, compiled);
      const seen = out.get(key);
      if (seen === undefined) {
        const since = inst.registeredAt;
        out.set(key, { compiled, method, key, route, service, target: undefined, isStatic: false, since });
      } else if (inst.registeredAt < seen.since) {
        out.set(key, { ...seen, since: inst.registeredAt });
      }
    }
  }
  return out;
}

/** Orders colliding registered routes: the older claim first, then by service name. */
export function byClaim(a: TableRoute, b: TableRoute): number {
  return a.since - b.since || (a.service! < b.service! ? -1 : a.service! > b.service! ? 1 : 0);
}

/** Whether two route specs are the same in every field the gateway uses. */
export function sameRoute(a: RouteSpec, b: RouteSpec): boolean {
  return (
    a === b ||
    (a.method === b.method &&
      a.path === b.path &&
      a.protocol === b.protocol &&
      a.public === b.public &&
      a.permission === b.permission &&
      a.timeoutMs === b.timeoutMs)
  );
}
