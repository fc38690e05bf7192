/**
 * The gateway's local route table: static gateway routes plus the routes that live instances
 * registered, compiled into tries and kept current from the registry's `change` events by the
 * difference: a registration swaps only the route keys it changes (lib/routing/service-routes.ts),
 * a heartbeat swaps nothing. The request path only reads it; it never waits on the store.
 */

import { mergeDefined } from '../core/options-merge.js';
import { sharedPatterns } from '../core/pattern-cache.js';
import { extractParams, normalizeMethod } from '../core/route-pattern.js';
import type { PredicateRequest } from '../core/route-predicates.js';
import { FleetgateError } from '../errors.js';
import type { RouteSpec, ServiceInstance } from '../registry/model.js';
import type { RegistryApi, RegistryChange } from '../registry/registry-api.js';
import type { RouteLookup } from './resolve-request.js';
import { RouteTrie } from './route-trie.js';
import { type RouteSwap, ServiceRoutes } from './service-routes.js';
import { byClaim, predicatesOfRoute, staticTableRoute, type TableRoute, tableKeyOf } from './table-routes.js';
import type { RouteMatch, StaticRoute } from './types.js';

/** Options of {@link RouteTable}. */
export interface RouteTableOptions {
  /** The registry whose live instances supply the routes. */
  registry: RegistryApi;
  /** Gateway routes; they are matched before any registered route and cannot be overridden. @default [] */
  staticRoutes: readonly StaticRoute[];
  /** Route `/{service}/rest` to `service` (as `/rest`) when no pattern matches. @default true */
  nameRouting: boolean;
  /** Which routes this table holds: `http` (routes without a protocol count as http) or `ws` message routes. @default 'http' */
  protocol: 'http' | 'ws';
  /** This gateway's name (`GATEWAY_NAME`): routes that list other gateways are left out. @default undefined (serves only routes that list none) */
  gatewayName: string | undefined;
}

/** Defaults of {@link RouteTableOptions}. */
export const ROUTE_TABLE_DEFAULTS: Readonly<Omit<RouteTableOptions, 'registry'>> = Object.freeze({
  staticRoutes: Object.freeze([]) as readonly StaticRoute[],
  nameRouting: true,
  protocol: 'http',
  gatewayName: undefined,
});

/**
 * Static and registered routes, matched most-specific-first.
 * @example
 * await using table = new RouteTable({ registry });
 * const hit = table.match('GET', '/api/comments/7');
 * const instances = hit === undefined ? [] : table.instancesFor(hit);
 */
export class RouteTable implements RouteLookup, AsyncDisposable {
  readonly #registry: RegistryApi;
  readonly #protocol: 'http' | 'ws';
  readonly #nameRouting: boolean;
  readonly #gatewayName: string | undefined;
  #static = new RouteTrie<TableRoute>();
  readonly #registered = new RouteTrie<TableRoute>(byClaim);
  /** Each service's route union; a service is here while it has instances (the name fallback's targets). */
  readonly #byService = new Map<string, ServiceRoutes>();
  readonly #fallbackRoutes = new Map<string, RouteSpec>();
  readonly #keyOfRoute = new WeakMap<RouteSpec, string>();
  readonly #keysOfInstance = new WeakMap<readonly RouteSpec[], Set<string>>();
  readonly #patterns = sharedPatterns;
  readonly #onChange = (change: RegistryChange): void => this.#apply(change);
  // Self-preservation changes which instances count as live without a change event per instance.
  readonly #onPreservation = (): void => {
    if (!this.#closed) this.#rebuildAll();
  };
  #closed = false;

  /** Throws `ERR_FG_INVALID_CONFIG` for an invalid static route. */
  constructor(options: Partial<RouteTableOptions> & Pick<RouteTableOptions, 'registry'>) {
    const opts: RouteTableOptions = mergeDefined(ROUTE_TABLE_DEFAULTS, options);
    if (opts.protocol !== 'http' && opts.protocol !== 'ws') {
      throw new FleetgateError('ERR_FG_INVALID_CONFIG', `protocol must be "http" or "ws", got "${opts.protocol}"`);
    }
    this.#registry = opts.registry;
    this.#protocol = opts.protocol;
    this.#nameRouting = opts.nameRouting;
    this.#gatewayName = opts.gatewayName;
    this.#static = this.#staticTrie(opts.staticRoutes);
    this.#registry.on('change', this.#onChange);
    this.#registry.on('self-preservation', this.#onPreservation);
    this.#rebuildAll();
    // The cache may still be filling; re-read it once it is complete.
    this.#registry.ready().then(
      () => {
        if (!this.#closed) this.#rebuildAll();
      },
      () => {},
    );
  }

  /** Which routes the table holds: `http` request routes or `ws` message routes. */
  get protocol(): 'http' | 'ws' {
    return this.#protocol;
  }

  /** Number of routes: static ones plus every service's registered ones. */
  get size(): number {
    return this.#static.size + this.#registered.size;
  }

  /**
   * Replaces the static routes at once (a configuration reload): a request is matched against
   * the old set or the new one, never a mix. Throws `ERR_FG_INVALID_CONFIG` (and keeps the old
   * set) when one is invalid.
   */
  setStaticRoutes(staticRoutes: readonly StaticRoute[]): void {
    this.#static = this.#staticTrie(staticRoutes);
  }

  /**
   * The route for a request. `path` must come from {@link normalizePath}; `query` (with its `?`)
   * is appended to `upstreamPath`. Static routes are tried first, then registered ones, then
   * (when `nameRouting` is on) `/{service}/...` for a service with live instances.
   */
  match(method: string, path: string, query = '', req?: PredicateRequest): RouteMatch | undefined {
    const m = normalizeMethod(method);
    const statics = this.#static;
    const hit =
      (statics.size === 0 ? undefined : statics.lookup(m, path, req, query)) ??
      this.#registered.lookup(m, path, req, query);
    if (hit !== undefined) {
      return {
        service: hit.service,
        target: hit.target,
        route: hit.route,
        pattern: hit.compiled.pattern,
        params: extractParams(hit.compiled, path),
        upstreamPath: (hit.stripPrefix === undefined ? path : stripped(path, hit.stripPrefix)) + query,
        viaNameFallback: false,
        isStatic: hit.isStatic,
        ...(hit.version === undefined ? {} : { version: hit.version }),
      };
    }
    if (!this.#nameRouting) return undefined;
    let start = 0;
    while (path.charCodeAt(start) === 0x2f) start++;
    let end = path.indexOf('/', start);
    if (end < 0) end = path.length;
    if (end === start) return undefined;
    const service = path.slice(start, end);
    if (this.#byService.get(service) === undefined) return undefined;
    const rest = path.slice(end);
    return {
      service,
      route: this.#fallbackRoute(service),
      pattern: `/${service}/**`,
      params: {},
      upstreamPath: (rest === '' ? '/' : rest) + query,
      viaNameFallback: true,
      isStatic: false,
    };
  }

  /**
   * The live instances that can serve `match`: for a registered route only those whose own
   * routes include it (so during a rolling deploy a new route reaches only the new instances);
   * for name routing or a static service route every live instance; none for a fixed target.
   */
  instancesFor(match: RouteMatch): ServiceInstance[] {
    if (match.service === undefined) return [];
    const all = this.#registry.instances(match.service);
    if (match.version !== undefined) return all.filter((inst) => inst.version === match.version);
    if (match.viaNameFallback || match.isStatic) return all;
    const key = this.#keyOfRoute.get(match.route) ?? this.#keyOf(match.route);
    if (key === undefined) return [];
    const index = this.#byService.get(match.service);
    return all.filter((inst) => index?.offers(inst.instanceId, key) ?? this.#instanceKeys(inst).has(key));
  }

  /** The routes `service` currently contributes (the union over its live instances). */
  routesOf(service: string): RouteSpec[] {
    const routes = this.#byService.get(service);
    return routes === undefined ? [] : [...routes.routes()].map((r) => r.route);
  }

  /**
   * The table's entry for one registered route, by identity: a heartbeat never replaces it, and a
   * registration replaces only the entries whose route it changes.
   */
  entryOf(service: string, method: string, path: string): TableRoute | undefined {
    const key = this.#keyOf({ method, path, protocol: this.#protocol });
    const routes = this.#byService.get(service);
    if (key === undefined || routes === undefined) return undefined;
    for (const r of routes.routes()) if (r.key === key) return r;
    return undefined;
  }

  /** The static routes, as configured. */
  staticRoutes(): RouteSpec[] {
    return [...this.#static.values()].map((r) => r.route);
  }

  /** Stops following the registry. The table keeps answering with what it last knew. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#registry.off('change', this.#onChange);
    this.#registry.off('self-preservation', this.#onPreservation);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #apply(change: RegistryChange): void {
    if (this.#closed) return;
    const { service, instanceId } = change;
    if (change.type === 'resync' || service === undefined) {
      this.#rebuildAll();
    } else if (
      instanceId === undefined ||
      (change.type !== 'deregister' && change.type !== 'expire' && change.instance === undefined)
    ) {
      this.#refresh(service);
    } else if (change.type === 'deregister' || change.type === 'expire') {
      const routes = this.#byService.get(service);
      if (routes === undefined) return;
      this.#swap(routes.remove(instanceId));
      if (routes.instanceCount === 0) this.#drop(service);
    } else {
      // register, heartbeat, status: O(the instance's routes); a heartbeat swaps nothing.
      const routes = this.#routesFor(service);
      this.#swap(routes.upsert(change.instance!));
      if (routes.instanceCount === 0) this.#drop(service);
    }
  }

  #rebuildAll(): void {
    const names = new Set([...this.#byService.keys(), ...this.#registry.services()]);
    for (const service of names) this.#refresh(service);
  }

  /** Re-reads one service from the registry and swaps the difference in. O(its instances). */
  #refresh(service: string): void {
    const instances = this.#registry.instances(service);
    if (instances.length === 0 && !this.#byService.has(service)) return;
    const routes = this.#routesFor(service);
    this.#swap(routes.sync(instances));
    if (routes.instanceCount === 0) this.#drop(service);
  }

  #routesFor(service: string): ServiceRoutes {
    let routes = this.#byService.get(service);
    if (routes === undefined) {
      // Without name routing, an instance that offers no route of this table needs no entry.
      routes = new ServiceRoutes(service, this.#protocol, this.#patterns, this.#gatewayName, this.#nameRouting);
      this.#byService.set(service, routes);
    }
    return routes;
  }

  #drop(service: string): void {
    this.#byService.delete(service);
    this.#fallbackRoutes.delete(service);
  }

  #swap(swaps: readonly RouteSwap[]): void {
    for (const { before, after } of swaps) {
      if (before !== undefined) this.#registered.remove(before.method, before);
      if (after !== undefined) {
        this.#keyOfRoute.set(after.route, after.key);
        this.#registered.insert(after.method, after);
      }
    }
  }

  #keyOf(route: RouteSpec): string | undefined {
    const compiled = this.#patterns.compile(route.path);
    const predicates = predicatesOfRoute(route);
    return compiled === null || predicates === null
      ? undefined
      : tableKeyOf(route.protocol ?? 'http', normalizeMethod(route.method), compiled, predicates);
  }

  #staticTrie(staticRoutes: readonly StaticRoute[]): RouteTrie<TableRoute> {
    const trie = new RouteTrie<TableRoute>();
    for (const sr of staticRoutes) {
      const r = staticTableRoute(sr, this.#protocol, this.#gatewayName);
      if (r === undefined) continue;
      this.#keyOfRoute.set(r.route, r.key);
      // The first of two identical static routes wins: the trie keeps insertion order.
      trie.insert(r.method, r);
    }
    return trie;
  }

  #instanceKeys(inst: ServiceInstance): Set<string> {
    let keys = this.#keysOfInstance.get(inst.routes);
    if (keys === undefined) {
      keys = new Set();
      for (const route of inst.routes) {
        const key = this.#keyOf(route);
        if (key !== undefined) keys.add(key);
      }
      this.#keysOfInstance.set(inst.routes, keys);
    }
    return keys;
  }

  #fallbackRoute(service: string): RouteSpec {
    let route = this.#fallbackRoutes.get(service);
    if (route === undefined) {
      route = Object.freeze({ method: '*', path: `/${service}/**`, protocol: this.#protocol });
      this.#fallbackRoutes.set(service, route);
    }
    return route;
  }
}

/** `path` without the literal `prefix` (`/shop/items` → `/items`; `/shop` → `/`). */
function stripped(path: string, prefix: string): string {
  const rest = path.slice(prefix.length);
  return rest === '' ? '/' : rest;
}
