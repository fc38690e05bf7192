/**
 * Live connection accounting per instance: what least-connections balances on, and how sockets
 * pinned to an instance are found and closed when that instance dies, is deregistered, expires
 * or is marked DOWN. A draining instance keeps its connections (they finish on their own) but
 * gets no new pins: the selector already excludes it.
 */
import type { RegistryApi, RegistryChange } from '../registry/registry-api.js';

/** Why pinned connections are being closed. */
export type EvictionReason = 'deregister' | 'expire' | 'down' | 'gone';

/** Something pinned to one instance: a raw tunnel, an upstream link, or a handshake in flight. */
export interface PinnedConnection {
  readonly service: string;
  readonly instanceId: string;
  /** Closes the connection because its instance left routing. Must tolerate being called twice. */
  evict(reason: EvictionReason): void;
}

/** Live connections per service and instance id. */
export type ConnectionCounts = Record<string, Record<string, number>>;

/**
 * Tracks pinned connections and, once {@link follow}ing a registry, evicts the ones whose
 * instance left routing.
 * @example
 * const conns = new ConnectionRegistry();
 * conns.follow(registry);
 * conns.add(tunnel);            // counted for least-connections
 * conns.count('chat', 'a1');    // 1
 * conns.remove(tunnel);
 */
export class ConnectionRegistry implements AsyncDisposable {
  readonly #byService = new Map<string, Map<string, Set<PinnedConnection>>>();
  #total = 0;
  #registry: RegistryApi | undefined;
  readonly #onChange = (change: RegistryChange): void => this.#apply(change);

  /** Number of tracked connections. */
  get total(): number {
    return this.#total;
  }

  /** Starts tracking `conn` (idempotent). */
  add(conn: PinnedConnection): void {
    let byId = this.#byService.get(conn.service);
    if (byId === undefined) {
      byId = new Map();
      this.#byService.set(conn.service, byId);
    }
    let set = byId.get(conn.instanceId);
    if (set === undefined) {
      set = new Set();
      byId.set(conn.instanceId, set);
    }
    if (set.has(conn)) return;
    set.add(conn);
    this.#total++;
  }

  /** Stops tracking `conn`; safe for one that is not tracked. */
  remove(conn: PinnedConnection): void {
    const byId = this.#byService.get(conn.service);
    const set = byId?.get(conn.instanceId);
    if (set === undefined || !set.delete(conn)) return;
    this.#total--;
    if (set.size === 0) {
      byId!.delete(conn.instanceId);
      if (byId!.size === 0) this.#byService.delete(conn.service);
    }
  }

  /** Live connections pinned to one instance. */
  count(service: string, instanceId: string): number {
    return this.#byService.get(service)?.get(instanceId)?.size ?? 0;
  }

  /** A load function for the least-connections balancer, scoped to one service. */
  loadOf(service: string): (instanceId: string) => number {
    const byId = this.#byService.get(service);
    return byId === undefined ? zero : (instanceId) => byId.get(instanceId)?.size ?? 0;
  }

  /** Counts per service and instance, for `stats()`. */
  counts(): ConnectionCounts {
    const out: ConnectionCounts = {};
    for (const [service, byId] of this.#byService) {
      const row: Record<string, number> = {};
      for (const [id, set] of byId) row[id] = set.size;
      out[service] = row;
    }
    return out;
  }

  /** Live connections per service (every instance summed), for metrics. */
  totalsByService(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [service, byId] of this.#byService) {
      let n = 0;
      for (const set of byId.values()) n += set.size;
      out[service] = n;
    }
    return out;
  }

  /** Every tracked connection (a snapshot, safe to evict from while iterating). */
  all(): PinnedConnection[] {
    const out: PinnedConnection[] = [];
    for (const byId of this.#byService.values()) for (const set of byId.values()) out.push(...set);
    return out;
  }

  /**
   * Evicts every connection pinned to an instance.
   * @returns how many were evicted.
   */
  evictInstance(service: string, instanceId: string, reason: EvictionReason): number {
    const set = this.#byService.get(service)?.get(instanceId);
    if (set === undefined) return 0;
    const victims = [...set];
    for (const conn of victims) conn.evict(reason);
    return victims.length;
  }

  /** Follows `registry`'s changes (one registry at a time; calling again switches). */
  follow(registry: RegistryApi): void {
    this.#registry?.off('change', this.#onChange);
    this.#registry = registry;
    registry.on('change', this.#onChange);
  }

  /** Stops following the registry. Tracked connections are left to their owners. Idempotent. */
  async close(): Promise<void> {
    this.#registry?.off('change', this.#onChange);
    this.#registry = undefined;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #apply(change: RegistryChange): void {
    switch (change.type) {
      case 'deregister':
      case 'expire':
        if (change.service !== undefined && change.instanceId !== undefined) {
          this.evictInstance(change.service, change.instanceId, change.type);
        }
        break;
      case 'status':
        if (change.instance?.status === 'DOWN') {
          this.evictInstance(change.instance.service, change.instance.instanceId, 'down');
        }
        break;
      case 'resync': {
        // A full re-list may have dropped instances without one event each.
        const registry = this.#registry;
        if (registry === undefined) break;
        for (const [service, byId] of [...this.#byService]) {
          for (const id of [...byId.keys()]) {
            const inst = registry.get(service, id);
            if (inst === undefined) this.evictInstance(service, id, 'gone');
            else if (inst.status === 'DOWN') this.evictInstance(service, id, 'down');
          }
        }
        break;
      }
      default:
        break;
    }
  }
}

const zero = (): number => 0;
