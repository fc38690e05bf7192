/**
 * The registry's local cache: every instance the gateway knows, indexed by service, read
 * synchronously on the request path. Instances are deep-frozen so readers can share them.
 *
 * A heartbeat or status change of the same registration (same `registeredAt` and `epoch`: only a
 * (re-)registration changes the registration data, and it bumps both) keeps the frozen routes and
 * metadata of the entry it replaces: a renewal copies four fields instead of cloning and freezing
 * the whole instance, and the route claims are left alone. A new registration whose routes (or
 * metadata) equal those last stored for its service shares that frozen copy: the instances of one
 * service usually register the same routes, and at 10,000 instances the copies add up.
 *
 * Every entry also sits in an expiry wheel by the time its lease ends (at once when lost), so the
 * eviction sweep takes only the entries that expired ({@link InstanceCache.takeExpired}).
 */
import { ExpiryWheel } from './expiry-wheel.js';
import { frozenCopy } from './frozen-data.js';
import type { ServiceInstance } from './model.js';
import { RouteClaims } from './route-claims.js';
import { SharedRegistrationData } from './shared-registration-data.js';

/** One cached instance. */
export interface CacheEntry {
  readonly key: string;
  /** Deep-frozen. */
  instance: ServiceInstance;
  /** The store said the lease expired (or lost it) although `expiresAt` may still be ahead. */
  lost: boolean;
}

/** The cache key of an instance. */
export function instanceKey(service: string, instanceId: string): string {
  return `${service}\u0000${instanceId}`;
}

/**
 * Orders two versions of one instance: by `registeredAt`, then `epoch`, then `lastHeartbeat`.
 * Negative when `a` is older. Used to drop watch events that arrive after a newer direct update.
 */
export function compareVersions(a: ServiceInstance, b: ServiceInstance): number {
  return a.registeredAt - b.registeredAt || a.epoch - b.epoch || a.lastHeartbeat - b.lastHeartbeat;
}

/** What {@link InstanceCache.upsert} changed. */
export interface UpsertResult {
  previous: ServiceInstance | undefined;
  /** The previous entry's lease had expired or been lost. */
  previousExpired: boolean;
}

/** Width of one slot of the cache's expiry wheel: the registry sweeps about once a second. */
const EXPIRY_SLOT_MS = 1000;

/** Instances by key and by service. */
export class InstanceCache {
  readonly #entries = new Map<string, CacheEntry>();
  /** Entry keys by the time their lease ends (`-Infinity` once lost). */
  readonly #leases = new ExpiryWheel<string>(EXPIRY_SLOT_MS);
  readonly #byService = new Map<string, Map<string, CacheEntry>>();
  /** The frozen routes and metadata last stored per service, shared by registrations that equal them. */
  readonly #shared = new SharedRegistrationData();
  /** Routes claimed by the cached instances, for conflict checks. */
  readonly routeClaims = new RouteClaims();

  get size(): number {
    return this.#entries.size;
  }

  get(service: string, instanceId: string): CacheEntry | undefined {
    return this.#byService.get(service)?.get(instanceId);
  }

  entry(key: string): CacheEntry | undefined {
    return this.#entries.get(key);
  }

  entries(): IterableIterator<CacheEntry> {
    return this.#entries.values();
  }

  /** Entries of one service (empty when unknown). */
  serviceEntries(service: string): Iterable<CacheEntry> {
    return this.#byService.get(service)?.values() ?? [];
  }

  /** Number of entries of one service. */
  serviceSize(service: string): number {
    return this.#byService.get(service)?.size ?? 0;
  }

  serviceNames(): IterableIterator<string> {
    return this.#byService.keys();
  }

  /**
   * Entries whose lease ended at or before `now` (or was lost) and that have not been taken
   * since; each is taken once until it is stored again. Costs what expired, not what is held.
   */
  takeExpired(now: number): CacheEntry[] {
    const out: CacheEntry[] = [];
    for (const key of this.#leases.takeDue(now)) {
      const entry = this.#entries.get(key);
      if (entry !== undefined && InstanceCache.expired(entry, now)) out.push(entry);
    }
    return out;
  }

  /** Whether the entry's lease is over at `now`. */
  static expired(entry: CacheEntry, now: number): boolean {
    return entry.lost || entry.instance.expiresAt <= now;
  }

  /**
   * Stores `instance` unless the cache already holds a newer version, or the very same state
   * (a watch event echoing a direct update). Returns `undefined` when nothing changed.
   */
  upsert(instance: ServiceInstance, now: number): UpsertResult | undefined {
    const key = instanceKey(instance.service, instance.instanceId);
    const current = this.#entries.get(key);
    if (current !== undefined) {
      const order = compareVersions(instance, current.instance);
      if (order < 0) return undefined;
      if (order === 0 && !current.lost && sameState(instance, current.instance)) return undefined;
    }
    const stored =
      current !== undefined && sameRegistration(instance, current.instance)
        ? renewal(current.instance, instance)
        : this.#frozen(instance);
    this.#set({ key, instance: stored, lost: false });
    return {
      previous: current?.instance,
      previousExpired: current === undefined ? false : InstanceCache.expired(current, now),
    };
  }

  /** Puts an entry back as is (used when rebuilding the cache after a re-list). */
  restore(entry: CacheEntry): void {
    this.#set({ ...entry });
  }

  /**
   * Removes an instance unless the cache holds a newer version than `seen` (the store's last
   * known value). Returns the removed instance.
   */
  remove(service: string, instanceId: string, seen?: ServiceInstance): ServiceInstance | undefined {
    const entry = this.get(service, instanceId);
    if (entry === undefined) return undefined;
    if (seen !== undefined && compareVersions(entry.instance, seen) > 0) return undefined;
    this.#entries.delete(entry.key);
    this.#leases.cancel(entry.key);
    this.routeClaims.remove(service, entry.instance.routes);
    const bucket = this.#byService.get(service);
    bucket?.delete(instanceId);
    if (bucket?.size === 0) {
      this.#byService.delete(service);
      this.#shared.forget(service);
    }
    return entry.instance;
  }

  /** Marks the lease as lost (store said `expire`) unless the cache holds a newer version than `seen`. */
  markLost(service: string, instanceId: string, seen?: ServiceInstance): boolean {
    const entry = this.get(service, instanceId);
    if (entry === undefined || entry.lost) return false;
    if (seen !== undefined && compareVersions(entry.instance, seen) > 0) return false;
    entry.lost = true;
    this.#leases.schedule(entry.key, Number.NEGATIVE_INFINITY);
    return true;
  }

  /** A frozen copy of a new registration, sharing its service's routes and metadata when equal. */
  #frozen(instance: ServiceInstance): ServiceInstance {
    const { routes, metadata } = this.#shared.of(instance.service, instance.routes, instance.metadata);
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(instance)) {
      out[key] = key === 'routes' ? routes : key === 'metadata' ? metadata : frozenCopy(value);
    }
    return Object.freeze(out) as unknown as ServiceInstance;
  }

  #set(entry: CacheEntry): void {
    const previous = this.#entries.get(entry.key);
    // A renewal shares the frozen route list: its claims are already counted.
    if (previous?.instance.routes !== entry.instance.routes) {
      if (previous !== undefined) this.routeClaims.remove(previous.instance.service, previous.instance.routes);
      this.routeClaims.add(entry.instance.service, entry.instance.routes);
    }
    this.#entries.set(entry.key, entry);
    this.#leases.schedule(entry.key, entry.lost ? Number.NEGATIVE_INFINITY : entry.instance.expiresAt);
    let bucket = this.#byService.get(entry.instance.service);
    if (bucket === undefined) {
      bucket = new Map();
      this.#byService.set(entry.instance.service, bucket);
    }
    bucket.set(entry.instance.instanceId, entry);
  }
}

/** Two versions of one registration: they differ at most in lease, heartbeat time and status. */
function sameRegistration(a: ServiceInstance, b: ServiceInstance): boolean {
  return a.registeredAt === b.registeredAt && a.epoch === b.epoch;
}

/** `held` with the lease, heartbeat time and status of `next`; the frozen registration data is shared. */
function renewal(held: ServiceInstance, next: ServiceInstance): ServiceInstance {
  return Object.freeze({
    ...held,
    lastHeartbeat: next.lastHeartbeat,
    expiresAt: next.expiresAt,
    status: next.status,
  });
}

/** Same lease, status and registration data (the version fields are compared separately). */
function sameState(a: ServiceInstance, b: ServiceInstance): boolean {
  return a.expiresAt === b.expiresAt && a.status === b.status;
}
