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
import { type Contribution, RouteProfile } from './route-profile.js';
import { predicatesOfRoute, sameRoute, type TableRoute, tableKeyOf } from './table-routes.js';

/** A table route that was replaced, added (`before` undefined) or removed (`after` undefined). */
export interface RouteSwap {
  readonly before: TableRoute | undefined;
  readonly after: TableRoute | undefined;
}

/**
 * The profiles that offer one route key and the key's current table route: details from the
 * profile with the newest registration, the claim age from the oldest.
 */
interface KeyHolders {
  /** Usually one: the instances of a service register equal lists. */
  readonly profiles: RouteProfile[];
  current: TableRoute | undefined;
}

/**
 * The union of one service's routes of one protocol. Details (timeouts, permission) come from
 * the newest registration, the claim age (`since`) from the oldest. Instances with equal route
 * lists share one {@link RouteProfile}, so an instance costs one small entry, not one per route.
 * @example
 * const routes = new ServiceRoutes('orders', 'http', patterns);
 * const swaps = routes.upsert(instance); // only the keys this instance changed
 */
export class ServiceRoutes {
  readonly #service: string;
  readonly #protocol: 'http' | 'ws';
  readonly #patterns: PatternCache;
  readonly #gatewayName: string | undefined;
  readonly #keepKeyless: boolean;
  readonly #instances = new Map<string, Contribution>();
  readonly #keys = new Map<string, KeyHolders>();
  /** Live profiles by content; a profile leaves when its last instance does. */
  readonly #bySignature = new Map<string, RouteProfile>();
  /** Profiles by list object: the registry hands equal lists as one frozen object, so this is the usual hit. */
  readonly #byList = new WeakMap<readonly RouteSpec[], RouteProfile>();
  #joins = 0;

  /**
   * @param gatewayName this gateway's name: routes that target other gateways are left out.
   * @param keepKeyless also hold instances that offer no route here (a table that routes by
   * service name needs them; the WebSocket message table, where most instances have no route, does not).
   */
  constructor(
    service: string,
    protocol: 'http' | 'ws',
    patterns: PatternCache,
    gatewayName?: string,
    keepKeyless = true,
  ) {
    this.#service = service;
    this.#protocol = protocol;
    this.#patterns = patterns;
    this.#gatewayName = gatewayName;
    this.#keepKeyless = keepKeyless;
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
    return this.#instances.get(instanceId)?.profile.keys.has(key);
  }

  /**
   * Adds or updates one instance: O(its routes), whatever the size of the service. A heartbeat (same `registeredAt`, same routes)
   * returns no swap and costs a comparison of the instance's routes.
   */
  upsert(inst: ServiceInstance): RouteSwap[] {
    const prev = this.#instances.get(inst.instanceId);
    if (
      prev !== undefined &&
      prev.registeredAt === inst.registeredAt &&
      sameRouteList(prev.profile.routes, inst.routes)
    ) {
      return [];
    }
    const profile = this.#profileOf(inst.routes);
    if (profile.keys.size === 0 && !this.#keepKeyless) return prev === undefined ? [] : this.remove(inst.instanceId);
    const c: Contribution = {
      instanceId: inst.instanceId,
      registeredAt: inst.registeredAt,
      profile,
      seq: ++this.#joins,
    };
    if (prev !== undefined) this.#leave(inst.instanceId, prev.profile);
    this.#join(c);
    this.#instances.set(inst.instanceId, c);
    const swaps = this.#settle(profile.keys, []);
    return prev === undefined || prev.profile === profile ? swaps : this.#settle(prev.profile.keys, swaps);
  }

  /** Removes one instance: O(its routes). Returns the swaps (empty when it was unknown). */
  remove(instanceId: string): RouteSwap[] {
    const prev = this.#instances.get(instanceId);
    if (prev === undefined) return [];
    this.#instances.delete(instanceId);
    this.#leave(instanceId, prev.profile);
    return this.#settle(prev.profile.keys, []);
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

  /** The profile of a route list: by object, else by content, else a new one (its keys computed once). */
  #profileOf(routes: readonly RouteSpec[]): RouteProfile {
    const known = this.#byList.get(routes);
    if (known !== undefined && (known.keys.size === 0 || this.#bySignature.get(known.signature) === known)) {
      return known; // a profile without keys holds no route: whether it is live does not matter
    }
    const signature = JSON.stringify(routes);
    let profile = this.#bySignature.get(signature);
    if (profile === undefined) profile = new RouteProfile(routes, this.#keysOf(routes), signature);
    this.#byList.set(routes, profile);
    return profile;
  }

  /** The list's route keys of this table's protocol and gateway, each with the list's first route of that key. */
  #keysOf(routes: readonly RouteSpec[]): Map<string, RouteSpec> {
    const keys = new Map<string, RouteSpec>();
    for (const route of routes) {
      if ((route.protocol ?? 'http') !== this.#protocol || !servesGateway(route.gateways, this.#gatewayName)) continue;
      const compiled = this.#patterns.compile(route.path);
      if (compiled === null) continue; // stored before registration-time validation: never routes
      const predicates = predicatesOfRoute(route);
      if (predicates === null) continue; // likewise
      const key = tableKeyOf(this.#protocol, normalizeMethod(route.method), compiled, predicates);
      if (!keys.has(key)) keys.set(key, route); // the first of one list's duplicates counts
    }
    return keys;
  }

  #join(c: Contribution): void {
    const profile = c.profile;
    profile.join(c);
    if (profile.size !== 1) return;
    // The profile's first instance: it starts offering its keys.
    this.#bySignature.set(profile.signature, profile);
    for (const key of profile.keys.keys()) {
      let holders = this.#keys.get(key);
      if (holders === undefined) {
        holders = { profiles: [], current: undefined };
        this.#keys.set(key, holders);
      }
      holders.profiles.push(profile);
    }
  }

  #leave(instanceId: string, profile: RouteProfile): void {
    profile.leave(instanceId);
    if (profile.size !== 0) return;
    // Its last instance left: it offers nothing any more.
    if (this.#bySignature.get(profile.signature) === profile) this.#bySignature.delete(profile.signature);
    for (const key of profile.keys.keys()) {
      const holders = this.#keys.get(key);
      if (holders === undefined) continue;
      const at = holders.profiles.indexOf(profile);
      if (at >= 0) holders.profiles.splice(at, 1);
    }
  }

  /** Recomputes the keys' table routes into `swaps`; a key whose route did not change keeps its object. */
  #settle(touched: ReadonlyMap<string, RouteSpec>, swaps: RouteSwap[]): RouteSwap[] {
    for (const key of touched.keys()) {
      const holders = this.#keys.get(key);
      if (holders === undefined) continue;
      const before = holders.current;
      const after = this.#unionOf(key, holders, before);
      if (after === undefined) this.#keys.delete(key);
      if (after === before) continue;
      holders.current = after;
      swaps.push({ before, after });
    }
    return swaps;
  }

  /** The key's route: newest profile's spec, oldest registration's age; the same object when neither changed. */
  #unionOf(key: string, holders: KeyHolders, before: TableRoute | undefined): TableRoute | undefined {
    let newest: Contribution | undefined;
    let since = Infinity;
    for (const p of holders.profiles) {
      const n = p.newest;
      if (
        n !== undefined &&
        (newest === undefined ||
          n.registeredAt > newest.registeredAt ||
          (n.registeredAt === newest.registeredAt && n.seq > newest.seq))
      ) {
        newest = n;
      }
      const o = p.oldest;
      if (o !== undefined && o.registeredAt < since) since = o.registeredAt;
    }
    if (newest === undefined) return undefined;
    const route = newest.profile.keys.get(key)!;
    if (before !== undefined && before.since === since && sameRoute(before.route, route)) return before;
    return {
      compiled: this.#patterns.compile(route.path)!,
      method: normalizeMethod(route.method),
      key,
      predicates: predicatesOfRoute(route) ?? undefined,
      stripPrefix: undefined,
      route,
      service: this.#service,
      target: undefined,
      isStatic: false,
      since,
    };
  }
}

/** Whether two route lists are equal field by field (a heartbeat hands back equal copies). */
function sameRouteList(a: readonly RouteSpec[], b: readonly RouteSpec[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameRoute(a[i]!, b[i]!)) return false;
  return true;
}
