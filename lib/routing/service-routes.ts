/**
 * One service's registered routes, kept as a union over its instances that changes by the
 * difference: an instance that joins, leaves or re-registers touches only its own route keys,
 * and a heartbeat (same registration, same routes) touches nothing. The table swaps the
 * {@link TableRoute}s this reports as changed into its trie; every other entry keeps its identity.
 */
import { servesGateway } from '../core/gateway-targets.js';
import type { PatternCache } from '../core/pattern-cache.js';
import { normalizeMethod } from '../core/route-pattern.js';
import type { RouteSpec, ServiceInstance } from '../registry/model.js';
import { predicatesOfRoute, sameRoute, type TableRoute, tableKeyOf } from './table-routes.js';

/** A table route that was replaced, added (`before` undefined) or removed (`after` undefined). */
export interface RouteSwap {
  readonly before: TableRoute | undefined;
  readonly after: TableRoute | undefined;
}

/** What one instance contributes: its registration time and route keys. */
interface Contribution {
  readonly registeredAt: number;
  readonly routes: readonly RouteSpec[];
  /** The shape keys of its routes of this protocol. */
  readonly keys: ReadonlySet<string>;
}

/** One instance's route under a key. */
interface Holding {
  readonly route: RouteSpec;
  readonly registeredAt: number;
}

/**
 * The instances that offer one route key, with the newest holding and the oldest registration
 * kept up to date as holders come and go (a rescan only when the newest or oldest one leaves).
 */
interface KeyHolders {
  readonly byInstance: Map<string, Holding>;
  newestId: string | undefined;
  newest: Holding | undefined;
  since: number;
  current: TableRoute | undefined;
}

/**
 * The union of one service's routes of one protocol. Details (timeouts, permission) come from
 * the newest registration, the claim age (`since`) from the oldest.
 * @example
 * const routes = new ServiceRoutes('orders', 'http', patterns);
 * const swaps = routes.upsert(instance); // only the keys this instance changed
 */
export class ServiceRoutes {
  readonly #service: string;
  readonly #protocol: 'http' | 'ws';
  readonly #patterns: PatternCache;
  readonly #gatewayName: string | undefined;
  readonly #instances = new Map<string, Contribution>();
  readonly #keys = new Map<string, KeyHolders>();

  /** @param gatewayName this gateway's name: routes that target other gateways are left out. */
  constructor(service: string, protocol: 'http' | 'ws', patterns: PatternCache, gatewayName?: string) {
    this.#service = service;
    this.#protocol = protocol;
    this.#patterns = patterns;
    this.#gatewayName = gatewayName;
  }

  /** Number of instances known (live or not yet swept). */
  get instanceCount(): number {
    return this.#instances.size;
  }

  /** The current table routes, one per key. */
  routes(): IterableIterator<TableRoute> {
    return (function* (keys) {
      for (const k of keys.values()) if (k.current !== undefined) yield k.current;
    })(this.#keys);
  }

  /** Whether instance `instanceId` registered the route with shape key `key`; `undefined` when unknown here. */
  offers(instanceId: string, key: string): boolean | undefined {
    return this.#instances.get(instanceId)?.keys.has(key);
  }

  /**
   * Adds or updates one instance. A heartbeat (same `registeredAt`, same routes) returns no swap
   * and costs a comparison of the instance's routes.
   */
  upsert(inst: ServiceInstance): RouteSwap[] {
    const prev = this.#instances.get(inst.instanceId);
    if (prev !== undefined && prev.registeredAt === inst.registeredAt && sameRouteList(prev.routes, inst.routes)) {
      return [];
    }
    const touched = new Set<string>();
    if (prev !== undefined) this.#withdraw(inst.instanceId, prev, touched);
    const keys = new Set<string>();
    for (const route of inst.routes) {
      if ((route.protocol ?? 'http') !== this.#protocol || !servesGateway(route.gateways, this.#gatewayName)) continue;
      const compiled = this.#patterns.compile(route.path);
      if (compiled === null) continue; // stored before registration-time validation: never routes
      const predicates = predicatesOfRoute(route);
      if (predicates === null) continue; // likewise
      const key = tableKeyOf(this.#protocol, normalizeMethod(route.method), compiled, predicates);
      if (keys.has(key)) continue; // the first of one instance's duplicates counts
      keys.add(key);
      let holders = this.#keys.get(key);
      if (holders === undefined) {
        holders = {
          byInstance: new Map(),
          newestId: undefined,
          newest: undefined,
          since: Infinity,
          current: undefined,
        };
        this.#keys.set(key, holders);
      }
      hold(holders, inst.instanceId, { route, registeredAt: inst.registeredAt });
      touched.add(key);
    }
    this.#instances.set(inst.instanceId, { registeredAt: inst.registeredAt, routes: inst.routes, keys });
    return this.#settle(touched);
  }

  /** Removes one instance; returns the swaps (empty when it was unknown). */
  remove(instanceId: string): RouteSwap[] {
    const prev = this.#instances.get(instanceId);
    if (prev === undefined) return [];
    const touched = new Set<string>();
    this.#withdraw(instanceId, prev, touched);
    this.#instances.delete(instanceId);
    return this.#settle(touched);
  }

  /** Makes the union match `instances` exactly (after a resync), keeping unchanged entries. */
  sync(instances: readonly ServiceInstance[]): RouteSwap[] {
    const swaps: RouteSwap[] = [];
    const present = new Set<string>();
    for (const inst of instances) {
      present.add(inst.instanceId);
      swaps.push(...this.upsert(inst));
    }
    for (const id of [...this.#instances.keys()]) if (!present.has(id)) swaps.push(...this.remove(id));
    return swaps;
  }

  #withdraw(instanceId: string, prev: Contribution, touched: Set<string>): void {
    for (const key of prev.keys) {
      const holders = this.#keys.get(key);
      if (holders !== undefined) release(holders, instanceId);
      touched.add(key);
    }
  }

  /** Recomputes the touched keys' table routes; a key whose route did not change keeps its object. */
  #settle(touched: ReadonlySet<string>): RouteSwap[] {
    const swaps: RouteSwap[] = [];
    for (const key of touched) {
      const holders = this.#keys.get(key);
      if (holders === undefined) continue;
      const before = holders.current;
      const after = this.#unionOf(key, holders, before);
      if (after === before) continue;
      holders.current = after;
      if (after === undefined) this.#keys.delete(key);
      swaps.push({ before, after });
    }
    return swaps;
  }

  /** The key's route: newest holder's spec, oldest holder's age; the same object when neither changed. */
  #unionOf(key: string, holders: KeyHolders, before: TableRoute | undefined): TableRoute | undefined {
    const newest = holders.newest;
    if (newest === undefined) return undefined;
    const since = holders.since;
    if (before !== undefined && before.since === since && sameRoute(before.route, newest.route)) return before;
    const compiled = this.#patterns.compile(newest.route.path)!;
    const method = normalizeMethod(newest.route.method);
    return {
      compiled,
      method,
      key,
      predicates: predicatesOfRoute(newest.route) ?? undefined,
      stripPrefix: undefined,
      route: newest.route,
      service: this.#service,
      target: undefined,
      isStatic: false,
      since,
    };
  }
}

function hold(holders: KeyHolders, instanceId: string, h: Holding): void {
  holders.byInstance.set(instanceId, h);
  if (holders.newest === undefined || h.registeredAt >= holders.newest.registeredAt) {
    holders.newest = h;
    holders.newestId = instanceId;
  }
  if (h.registeredAt < holders.since) holders.since = h.registeredAt;
}

function release(holders: KeyHolders, instanceId: string): void {
  const h = holders.byInstance.get(instanceId);
  if (h === undefined) return;
  holders.byInstance.delete(instanceId);
  if (instanceId !== holders.newestId && h.registeredAt > holders.since) return;
  // The newest or the oldest left: O(holders of this key), never on a heartbeat.
  holders.newest = undefined;
  holders.newestId = undefined;
  holders.since = Infinity;
  for (const [id, other] of holders.byInstance) {
    if (holders.newest === undefined || other.registeredAt >= holders.newest.registeredAt) {
      holders.newest = other;
      holders.newestId = id;
    }
    if (other.registeredAt < holders.since) holders.since = other.registeredAt;
  }
}

/** Whether two route lists are equal field by field (a heartbeat hands back equal copies). */
function sameRouteList(a: readonly RouteSpec[], b: readonly RouteSpec[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameRoute(a[i]!, b[i]!)) return false;
  return true;
}
