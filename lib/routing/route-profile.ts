/**
 * The instances of one service that registered the same route list, held once: their list's route
 * keys (computed once for the group, not per instance) and the group's newest and oldest
 * registration. Instances of a service nearly always register equal lists (and the registry's
 * cache hands them one frozen copy, lib/registry/frozen-data.ts), so a service holds one or two
 * profiles whatever its size, and an instance costs one entry here instead of one per route.
 */
import type { RouteSpec } from '../registry/model.js';

/** What the table keeps per instance: its registration time and its group. */
export interface Contribution {
  readonly registeredAt: number;
  readonly profile: RouteProfile;
}

/**
 * One route list, its route keys (each mapped to the list's first route of that key) and the
 * instances that registered it.
 * @example
 * const profile = new RouteProfile(inst.routes, keysOf(inst.routes), JSON.stringify(inst.routes));
 * profile.join(inst.instanceId, { registeredAt: inst.registeredAt, profile }, 1);
 */
export class RouteProfile {
  readonly routes: readonly RouteSpec[];
  /** Route key → this list's route under it. */
  readonly keys: ReadonlyMap<string, RouteSpec>;
  /** The list's content as text: equal lists that are different objects find one profile by it. */
  readonly signature: string;
  readonly #members = new Map<string, Contribution>();
  #newestAt = -Infinity;
  #oldestAt = Infinity;
  #newestId: string | undefined;
  /** When the newest member joined (a counter): on a tie between profiles the later join wins. */
  #newestSeq = 0;

  constructor(routes: readonly RouteSpec[], keys: ReadonlyMap<string, RouteSpec>, signature: string) {
    this.routes = routes;
    this.keys = keys;
    this.signature = signature;
  }

  /** Number of instances in the group. */
  get size(): number {
    return this.#members.size;
  }

  /** Latest registration time in the group (`-Infinity` when empty). */
  get newestAt(): number {
    return this.#newestAt;
  }

  /** Earliest registration time in the group (`Infinity` when empty). */
  get oldestAt(): number {
    return this.#oldestAt;
  }

  /** Join order of the newest member, for ties between profiles. */
  get newestSeq(): number {
    return this.#newestSeq;
  }

  /** Adds an instance. O(1). */
  join(instanceId: string, c: Contribution, seq: number): void {
    this.#members.set(instanceId, c);
    if (c.registeredAt >= this.#newestAt) {
      this.#newestAt = c.registeredAt;
      this.#newestId = instanceId;
      this.#newestSeq = seq;
    }
    if (c.registeredAt < this.#oldestAt) this.#oldestAt = c.registeredAt;
  }

  /**
   * Removes an instance. O(1), except when the newest or the oldest leaves: then O(the group)
   * to find the next one (never on a heartbeat).
   */
  leave(instanceId: string): void {
    const c = this.#members.get(instanceId);
    if (c === undefined) return;
    this.#members.delete(instanceId);
    if (instanceId !== this.#newestId && c.registeredAt > this.#oldestAt) return;
    this.#newestAt = -Infinity;
    this.#oldestAt = Infinity;
    this.#newestId = undefined;
    for (const [id, other] of this.#members) {
      if (other.registeredAt >= this.#newestAt) {
        this.#newestAt = other.registeredAt;
        this.#newestId = id;
      }
      if (other.registeredAt < this.#oldestAt) this.#oldestAt = other.registeredAt;
    }
  }
}
