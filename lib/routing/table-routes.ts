/**
 * Routes as the {@link import('./route-table.js').RouteTable} stores them: built from static
 * configuration or from the union of a service's live instances, compared and ordered.
 */

import { gatewaysProblem, servesGateway } from '../core/gateway-targets.js';
import type { PatternCache } from '../core/pattern-cache.js';
import { type CompiledPattern, compilePattern, normalizeMethod, routeShapeKeyOf } from '../core/route-pattern.js';
import {
  type CompiledPredicates,
  cachedPredicates,
  isPredicateProblem,
  type RoutePredicates,
} from '../core/route-predicates.js';
import { FleetgateError } from '../errors.js';
import type { RouteSpec, ServiceInstance } from '../registry/model.js';
import type { StaticRoute } from './types.js';

/** One route in the table's tries. Immutable: a change replaces it. */
export interface TableRoute {
  readonly compiled: CompiledPattern;
  /** Upper case, or `*`. */
  readonly method: string;
  /** Shape key, `http GET /api/:`, followed by the predicates' key when there are any. */
  readonly key: string;
  /** Conditions besides method and path. */
  readonly predicates: CompiledPredicates | undefined;
  /** Static routes: the literal prefix removed before forwarding. */
  readonly stripPrefix: string | undefined;
  /** Static routes: only instances of this version. */
  readonly version?: string | undefined;
  readonly route: RouteSpec;
  readonly service: string | undefined;
  readonly target: string | undefined;
  readonly isStatic: boolean;
  /** Earliest registration of the route; on a collision between services the older claim wins. */
  readonly since: number;
}

/**
 * The key that tells routes apart in a table: shape plus predicates.
 * @example tableKeyOf('http', 'GET', compilePattern('/a/:id'), undefined) // 'http GET /a/:'
 */
export function tableKeyOf(
  protocol: string,
  method: string,
  compiled: CompiledPattern,
  predicates: CompiledPredicates | undefined,
): string {
  const shape = routeShapeKeyOf(protocol, method, compiled);
  return predicates === undefined ? shape : `${shape} ${predicates.key}`;
}

/**
 * The compiled predicates of a route, `undefined` for none, `null` when invalid (the route never
 * routes: registrations refuse such routes first).
 */
export function predicatesOfRoute(route: { predicates?: RoutePredicates }): CompiledPredicates | undefined | null {
  const p = cachedPredicates(route.predicates);
  return p !== undefined && isPredicateProblem(p) ? null : p;
}

/**
 * A static gateway route as a table route, or `undefined` when it belongs to the other protocol
 * or targets other gateways than `gatewayName`. Throws `ERR_FG_INVALID_CONFIG` when it is invalid.
 */
export function staticTableRoute(
  sr: StaticRoute,
  protocol: 'http' | 'ws',
  gatewayName?: string,
): TableRoute | undefined {
  if ((sr.protocol ?? 'http') !== protocol) return undefined;
  const where = `static route ${sr.method ?? '*'} ${sr.path}`;
  if (sr.gateways !== undefined) {
    const why = gatewaysProblem(sr.gateways);
    if (why !== undefined) throw new FleetgateError('ERR_FG_INVALID_CONFIG', `${where}: ${why}`);
  }
  const compiledPredicates = cachedPredicates(sr.predicates);
  if (compiledPredicates !== undefined && isPredicateProblem(compiledPredicates)) {
    throw new FleetgateError(
      'ERR_FG_INVALID_CONFIG',
      `${where}: predicates${compiledPredicates.at === '' ? '' : `.${compiledPredicates.at}`} ${compiledPredicates.reason}`,
    );
  }
  if (sr.stripPrefix !== undefined && !isLiteralPrefix(sr.stripPrefix, sr.path)) {
    throw new FleetgateError(
      'ERR_FG_INVALID_CONFIG',
      `${where}: stripPrefix "${sr.stripPrefix}" must be whole leading literal segments of the path, like /shop for /shop/**`,
    );
  }
  if (!servesGateway(sr.gateways, gatewayName)) return undefined;
  if ((sr.service === undefined) === (sr.target === undefined)) {
    throw new FleetgateError('ERR_FG_INVALID_CONFIG', `${where}: give exactly one of service or target`);
  }
  if (sr.version !== undefined && sr.service === undefined) {
    throw new FleetgateError('ERR_FG_INVALID_CONFIG', `${where}: version needs a service`);
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
    ...(sr.predicates === undefined ? {} : { predicates: sr.predicates }),
    ...(sr.gateways === undefined ? {} : { gateways: sr.gateways }),
  };
  return {
    compiled,
    method,
    key: tableKeyOf(protocol, method, compiled, compiledPredicates),
    predicates: compiledPredicates,
    version: sr.version,
    stripPrefix:
      sr.stripPrefix === undefined || sr.stripPrefix === '/' ? undefined : sr.stripPrefix.replace(/\/+$/, ''),
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
  gatewayName?: string,
): Map<string, TableRoute> {
  const out = new Map<string, TableRoute>();
  const newestFirst = [...instances].sort((a, b) => b.registeredAt - a.registeredAt);
  for (const inst of newestFirst) {
    for (const route of inst.routes) {
      if ((route.protocol ?? 'http') !== protocol || !servesGateway(route.gateways, gatewayName)) continue;
      const compiled = patterns.compile(route.path);
      if (compiled === null) continue;
      const predicates = predicatesOfRoute(route);
      if (predicates === null) continue;
      const method = normalizeMethod(route.method);
      const key = tableKeyOf(protocol, method, compiled, predicates);
      const seen = out.get(key);
      if (seen === undefined) {
        const since = inst.registeredAt;
        out.set(key, {
          compiled,
          method,
          key,
          predicates,
          stripPrefix: undefined,
          route,
          service,
          target: undefined,
          isStatic: false,
          since,
        });
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
      a.timeoutMs === b.timeoutMs &&
      (a.gateways?.join(',') ?? '') === (b.gateways?.join(',') ?? '') &&
      (a.predicates === b.predicates || predicatesOfRoute(a)?.key === predicatesOfRoute(b)?.key))
  );
}

/** Whether `prefix` is whole leading literal segments of `pattern` (`/shop` of `/shop/**`). */
function isLiteralPrefix(prefix: string, pattern: string): boolean {
  if (!prefix.startsWith('/')) return false;
  const trimmed = prefix.replace(/\/+$/, '');
  if (trimmed === '') return true;
  const segs = trimmed.slice(1).split('/');
  const pat = pattern.split('/').filter((s) => s !== '');
  if (segs.length > pat.length) return false;
  return segs.every((s, i) => s !== '' && s === pat[i] && !/[:*]/.test(s));
}
