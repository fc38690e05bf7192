/**
 * The instances of one service that registered the same route list, held once: their list's route
 * keys (computed once for the group, not per instance) and the group's newest and oldest
 * registration. Instances of a service nearly always register equal lists (and the registry's
 * cache hands them one frozen copy, lib/registry/frozen-data.ts), so a service holds one or two
 * profiles whatever its size, and an instance costs one entry here instead of one per route.
 */
import type { RouteSpec } from '../registry/model.js';

/** What the table keeps per instance: its registration, its group and when it joined it. */
export interface Contribution {
  readonly instanceId: string;
  readonly registeredAt: number;
  readonly profile: RouteProfile;
  /** Join order (a counter of the service): on a tie in registration time, the later join is newer. */
  readonly seq: number;
}

/**
 * One route list, its route keys (each mapped to the list's first route of that key) and the
 * instances that registered it, in registration order, so the newest and the oldest are at the
 * ends: joining and leaving cost O(1) amortised (a join older than the newest is placed by a
 * binary search), never a scan of the group.
 * @example
 * const profile = new RouteProfile(inst.routes, keysOf(inst.routes), JSON.stringify(inst.routes));
 * profile.join({ instanceId: inst.instanceId, registeredAt: inst.registeredAt, profile, seq: 1 });
 */
export class RouteProfile {
  readonly routes: readonly RouteSpec[];
  /** Route key → this list's route under it. */
  readonly keys: ReadonlyMap<string, RouteSpec>;
  /** The list's content as text: equal lists that are different objects find one profile by it. */
  readonly signature: string;
  readonly #members = new Map<string, Contribution>();
  /** Members by (registeredAt, seq), plus departed ones not yet dropped (skipped at the ends, compacted in bulk). */
  #order: Contribution[] = [];
  #head = 0;
  #departed = 0;

  constructor(routes: readonly RouteSpec[], keys: ReadonlyMap<string, RouteSpec>, signature: string) {
    this.routes = routes;
    this.keys = keys;
    this.signature = signature;
  }

  /** Number of instances in the group. */
  get size(): number {
    return this.#members.size;
  }

  /** The member registered last (the latest join on a tie); `undefined` when empty. */
  get newest(): Contribution | undefined {
    return this.#members.size === 0 ? undefined : this.#order[this.#order.length - 1];
  }

  /** The member registered first; `undefined` when empty. */
  get oldest(): Contribution | undefined {
    return this.#members.size === 0 ? undefined : this.#order[this.#head];
  }

  /** Adds an instance (its `profile` is this one). */
  join(c: Contribution): void {
    this.#members.set(c.instanceId, c);
    const order = this.#order;
    const last = order[order.length - 1];
    if (last === undefined || !before(c, last)) {
      order.push(c);
      return;
    }
    // Older than the newest (a resync lists instances in any order): its place by binary search.
    let lo = this.#head;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (before(c, order[mid]!)) hi = mid;
      else lo = mid + 1;
    }
    order.splice(lo, 0, c);
  }

  /** Removes an instance. */
  leave(instanceId: string): void {
    if (!this.#members.delete(instanceId)) return;
    this.#departed++;
    const order = this.#order;
    while (order.length > this.#head && !this.#live(order[order.length - 1]!)) {
      order.pop();
      this.#departed--;
    }
    while (this.#head < order.length && !this.#live(order[this.#head]!)) {
      this.#head++;
      this.#departed--;
    }
    if (this.#head === order.length) {
      this.#order = [];
      this.#head = 0;
      this.#departed = 0;
    } else if (this.#departed + this.#head > this.#members.size + 16) {
      // More dead slots than live ones: one pass drops them (amortised over the departures).
      this.#order = order.slice(this.#head).filter((c) => this.#live(c));
      this.#head = 0;
      this.#departed = 0;
    }
  }

  #live(c: Contribution): boolean {
    return this.#members.get(c.instanceId) === c;
  }
}

/** Whether `a` registered before `b` (join order on a tie). */
function before(a: Contribution, b: Contribution): boolean {
  return a.registeredAt < b.registeredAt || (a.registeredAt === b.registeredAt && a.seq < b.seq);
}
