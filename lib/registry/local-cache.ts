/**
 * The registry's local view of the fleet: the instance cache plus the rules applied to it
 * (stale-event filtering, expiry on read, sweeps under self-preservation, status overrides).
 * Synchronous throughout; the Registry feeds it from the backend and turns its changes into events.
 */
import type { Clock } from '../clock.js';
import { rebuildCache } from './cache-rebuild.js';
import { sweepExpired } from './expiry-sweep.js';
import { InstanceCache, instanceKey } from './instance-cache.js';
import type { InstanceStatus, RegistryEvent, ServiceInstance } from './model.js';
import type { RegistryChange } from './registry-api.js';
import type { RouteClaims } from './route-claims.js';
import type { SelfPreservation } from './self-preservation.js';

/** Receives every change the cache applies. */
export interface LocalCacheListener {
  /** `cameBack` is true when the previous version's lease had expired (a heartbeat revived it). */
  change(change: RegistryChange, cameBack: boolean): void;
  /** Self-preservation froze or thawed. */
  preservation(transition: 'freeze' | 'thaw', evicted: number): void;
}

/** What a full re-list changed. */
export interface RelistOutcome {
  /** Cached instances the store no longer had (kept as lost leases for the sweep to judge). */
  lost: number;
}

/** The local cache. The request path reads it; nothing here waits on the store. */
export class LocalCache {
  #cache = new InstanceCache();
  readonly #clock: Clock;
  readonly #preservation: SelfPreservation;
  readonly #listener: LocalCacheListener;
  readonly #storeHealthy: () => boolean;
  /** Status verdicts kept locally because the backend has no `setStatus`; they survive heartbeats. */
  readonly #localStatus = new Map<string, InstanceStatus>();
  /** Events that arrive while a re-list runs; replayed onto the listing. */
  #buffer: RegistryEvent[] | undefined;

  /**
   * @param storeHealthy whether the store answers. While it does not, reads keep expired leases:
   * the next sweep would freeze eviction anyway (any expiry does while the store is unreachable),
   * and until it runs the routes must not go dark.
   */
  constructor(
    clock: Clock,
    preservation: SelfPreservation,
    listener: LocalCacheListener,
    storeHealthy: () => boolean = () => true,
  ) {
    this.#clock = clock;
    this.#preservation = preservation;
    this.#listener = listener;
    this.#storeHealthy = storeHealthy;
  }

  /** Live instances: not expired, or anything while self-preservation holds eviction or the store is unreachable. */
  instances(service?: string): ServiceInstance[] {
    const now = this.#clock.now();
    const frozen = this.#preservation.active || !this.#storeHealthy();
    const out: ServiceInstance[] = [];
    const entries = service === undefined ? this.#cache.entries() : this.#cache.serviceEntries(service);
    for (const entry of entries) if (frozen || !InstanceCache.expired(entry, now)) out.push(entry.instance);
    return out;
  }

  /** One live instance. */
  get(service: string, instanceId: string): ServiceInstance | undefined {
    const entry = this.#cache.get(service, instanceId);
    if (entry === undefined) return undefined;
    const frozen = this.#preservation.active || !this.#storeHealthy();
    return frozen || !InstanceCache.expired(entry, this.#clock.now()) ? entry.instance : undefined;
  }

  /** Instances held, live or awaiting the sweep, of one service or in total. O(1). */
  held(service?: string): number {
    return service === undefined ? this.#cache.size : this.#cache.serviceSize(service);
  }

  /** Whether `service` has a live instance; stops at the first one found. */
  hasLive(service: string): boolean {
    const now = this.#clock.now();
    const frozen = this.#preservation.active || !this.#storeHealthy();
    for (const entry of this.#cache.serviceEntries(service))
      if (frozen || !InstanceCache.expired(entry, now)) return true;
    return false;
  }

  /** Names of services with at least one live instance. */
  services(): string[] {
    const out: string[] = [];
    for (const name of this.#cache.serviceNames()) if (this.hasLive(name)) out.push(name);
    return out;
  }

  /** Routes claimed by every cached instance (held and not-yet-swept ones included). */
  get routeClaims(): RouteClaims {
    return this.#cache.routeClaims;
  }

  /** The cached instance whatever its lease (for local status updates). */
  cached(service: string, instanceId: string): ServiceInstance | undefined {
    return this.#cache.get(service, instanceId)?.instance;
  }

  /**
   * Applies one store event. Returns `false` when the event carries no instance and the caller
   * must fetch it. Events older than the cached version, or echoing it, change nothing.
   */
  apply(event: RegistryEvent): boolean {
    if (this.#buffer !== undefined) {
      this.#buffer.push(event);
      return true;
    }
    const { service, instanceId } = event;
    if (event.type === 'deregister') {
      const removed = this.#cache.remove(service, instanceId, event.instance);
      if (removed === undefined) return true;
      const key = instanceKey(service, instanceId);
      this.#preservation.release(key);
      this.#localStatus.delete(key);
      this.#listener.change({ type: 'deregister', service, instanceId, previous: removed }, false);
      return true;
    }
    if (event.type === 'expire') {
      // A lease the store expired is judged by the next sweep, under self-preservation rules.
      this.#cache.markLost(service, instanceId, event.instance);
      return true;
    }
    if (event.instance === undefined) return false;
    // Local verdicts exist only on a backend without `setStatus`: most caches hold none, and a
    // heartbeat then needs no key for them.
    let local: InstanceStatus | undefined;
    if (this.#localStatus.size > 0) {
      const key = instanceKey(service, instanceId);
      if (event.type === 'register') this.#localStatus.delete(key);
      local = this.#localStatus.get(key);
    }
    const instance = local === undefined ? event.instance : { ...event.instance, status: local };
    const result = this.#cache.upsert(instance, this.#clock.now());
    if (result === undefined) return true;
    const cached = this.#cache.get(service, instanceId)!.instance;
    const type = result.previous === undefined ? 'register' : event.type;
    this.#listener.change(
      { type, service, instanceId, instance: cached, previous: result.previous },
      result.previousExpired,
    );
    return true;
  }

  /** Records a status verdict that only this gateway knows (backend without `setStatus`). */
  setLocalStatus(service: string, instanceId: string, status: InstanceStatus): ServiceInstance | undefined {
    const current = this.cached(service, instanceId);
    if (current === undefined) return undefined;
    this.#localStatus.set(instanceKey(service, instanceId), status);
    this.apply({ type: 'status', service, instanceId, instance: { ...current, status } });
    return this.cached(service, instanceId);
  }

  /** A full re-list started: queue events until {@link relisted} or {@link relistFailed}. */
  relistStarted(): void {
    this.#buffer ??= [];
  }

  /** The re-list failed: apply what was queued to the last-known cache. */
  relistFailed(): void {
    const buffered = this.#buffer ?? [];
    this.#buffer = undefined;
    for (const event of buffered) this.apply(event);
  }

  /** Replaces the cache with a full listing plus the events queued meanwhile, announcing differences. */
  relisted(listed: readonly ServiceInstance[]): RelistOutcome {
    const buffered = this.#buffer ?? [];
    this.#buffer = undefined;
    const firstFill = this.#cache.size === 0;
    const rebuilt = rebuildCache(this.#cache, listed, buffered, this.#clock.now());
    this.#cache = rebuilt.cache;
    if (firstFill) this.#preservation.baseline(listed.length);
    for (const diff of rebuilt.differences) {
      if (diff.type === 'deregister' || diff.type === 'register')
        this.#localStatus.delete(`${diff.service}\u0000${diff.instanceId}`);
      this.#listener.change(diff, false);
    }
    this.#listener.change({ type: 'resync' }, false);
    return { lost: rebuilt.lost };
  }

  /** Evicts expired leases (subject to self-preservation), announcing each. */
  sweep(storeHealthy: boolean): void {
    if (this.#buffer !== undefined) return; // the rebuilt cache is swept next time
    const { evicted, transition } = sweepExpired(this.#cache, this.#preservation, this.#clock.now(), storeHealthy);
    for (const inst of evicted) {
      const { service, instanceId } = inst;
      this.#localStatus.delete(instanceKey(service, instanceId));
      this.#listener.change({ type: 'expire', service, instanceId, previous: inst }, false);
    }
    if (transition !== undefined) this.#listener.preservation(transition, evicted.length);
  }
}
