/**
 * The Registry: a backend plus a local cache fed by the backend's watch, so the request path
 * (`instances()`, `get()`, `services()`) is synchronous and never touches the store. Adds expiry
 * sweeps, self-preservation, route-conflict checks, events and diagnostics. README "Registry backends"
 */
import { EventEmitter } from 'node:events';
import type { TimerHandle } from '../clock.js';
import { mergeDefined } from '../core/options-merge.js';
import { registryChannel } from '../diagnostics.js';
import { FleetgateError } from '../errors.js';
import { LocalCache } from './local-cache.js';
import {
  type InstanceStatus,
  MIN_LEASE_MS,
  type OwnerProof,
  type RegisterOwnership,
  type RegistrationInput,
  type RegistryBackend,
  type RegistryEvent,
  type ServiceInstance,
} from './model.js';
import { PendingRegistrations } from './pending-registrations.js';
import type { RegistryApi, RegistryChange, RegistryEventMap, RegistryHealth } from './registry-api.js';
import { assertWithinLimits } from './registry-limits.js';
import {
  REGISTRY_DEFAULTS,
  type RegistryOptions,
  type ResolvedRegistryOptions,
  resolveRegistryOptions,
} from './registry-options.js';
import { isRoutineRenewal } from './renewal.js';
import { assertRoutesAdmissible, compileRoutes, nameShadowsOf } from './route-admission.js';
import { type ClaimRef, compileRoute, RouteClaims, type RouteShape } from './route-claims.js';
import { SelfPreservation } from './self-preservation.js';
import { StoreCalls } from './store-calls.js';
import { describeError } from './store-errors.js';
import type { StoreLivenessReport, StoreState } from './store-monitor.js';
import { StoreRelist } from './store-relist.js';

export { REGISTRY_DEFAULTS, type RegistryOptions } from './registry-options.js';

/**
 * The service registry with its local route cache.
 *
 * The initial fill (`backend.list()`) starts in the constructor; {@link Registry.ready} resolves
 * when it is done, or rejects with `ERR_FG_STORE_UNAVAILABLE` if the store was unreachable (the
 * registry then retries at every sweep and a later `ready()` resolves once a fill succeeds).
 * Backend failures never crash it: calls reject with `ERR_FG_STORE_UNAVAILABLE` and the cache
 * keeps serving the last-known state. A backend with `probe()` is probed every `probeIntervalMs`;
 * a probe unanswered within `probeTimeoutMs` makes the store `down` ({@link Registry.storeState},
 * the `store-state` event): writes then fail at once, and when the store answers again its
 * connections are renewed and the cache re-listed in full before it is `up`. Every store call
 * made for a client is bounded by `callTimeoutMs`, a full re-list by `listTimeoutMs`. Route conflicts (lib/registry/route-admission.ts) are
 * checked against this gateway's cache and its registrations in flight, and then, when the
 * backend has `claimRoutes` (Redis, etcd), claimed atomically in the shared store
 * (lib/registry/backends/store-route-claims.ts), so of two gateways registering colliding routes at
 * the same instant exactly one wins.
 *
 * @example
 * await using registry = new Registry({ backend: new MemoryBackend(), ownsBackend: true });
 * await registry.ready();
 * await registry.register({ service: 'sagjan', url: 'http://127.0.0.1:7812', routes: [{ method: 'GET', path: '/api/comments/*' }] });
 * registry.instances('sagjan'); // synchronous, from the cache
 */
export class Registry extends EventEmitter<RegistryEventMap> implements RegistryApi {
  readonly ttlMs: number;
  /** The store behind this registry. */
  readonly backend: RegistryBackend;
  readonly #opts: ResolvedRegistryOptions;
  readonly #preservation: SelfPreservation;
  readonly #cache: LocalCache;
  /** Route claims of registrations in flight, so two concurrent conflicting registrations cannot both pass. */
  readonly #pendingClaims = new RouteClaims();
  /** Claims of the static gateway routes: no registration may overlap them. */
  #staticClaims = new RouteClaims();
  /** New instances (ids not yet held) being registered, per service: they count against the limits. */
  readonly #pendingNew = new PendingRegistrations();
  readonly #unwatch: () => void;
  readonly #sweepTimer: TimerHandle;
  /** Store calls with deadlines, and the store's liveness (lib/registry/store-calls.ts). */
  readonly #store: StoreCalls;
  /** Full re-lists of the store into the cache (lib/registry/store-relist.ts). */
  readonly #relist: StoreRelist;
  #ready: Promise<void>;
  #closing: Promise<void> | undefined;
  /** The instance of the last watch event, applied already: a heartbeat answered with it skips the echo. */
  #lastWatched: ServiceInstance | undefined;

  constructor(options: Partial<RegistryOptions> & Pick<RegistryOptions, 'backend'>) {
    super();
    const opts = resolveRegistryOptions(mergeDefined(REGISTRY_DEFAULTS, options));
    this.#opts = opts;
    this.ttlMs = opts.ttlMs;
    this.backend = opts.backend;
    this.#preservation = new SelfPreservation({
      threshold: opts.preserveThreshold,
      maxMs: opts.preserveMaxMs,
      minExpired: opts.preserveMinExpired,
    });
    this.#staticClaims.add(undefined, opts.staticRoutes);
    this.#cache = new LocalCache(
      opts.clock,
      this.#preservation,
      {
        change: (change, cameBack) => this.#announce(change, cameBack),
        preservation: (_transition, evicted) => this.#announcePreservation(evicted),
      },
      () => this.#storeHealthy(),
    );
    this.#relist = new StoreRelist({
      type: this.backend.type,
      list: () => this.backend.list(),
      cache: this.#cache,
      clock: opts.clock,
      logger: opts.logger,
      timeoutMs: opts.listTimeoutMs,
      closing: () => this.#closing !== undefined,
      onListed: () => {
        this.#ready = Promise.resolve(); // a later ready() succeeds even if the first fill failed
      },
    });
    this.#store = new StoreCalls({
      backend: this.backend,
      clock: opts.clock,
      logger: opts.logger,
      probeIntervalMs: opts.probeIntervalMs,
      probeTimeoutMs: opts.probeTimeoutMs,
      callTimeoutMs: opts.callTimeoutMs,
      relist: () => this.#relist.run(),
      onStateChange: (state) => this.#emitSafely('store-state', state),
    });
    this.#unwatch = this.backend.watch((event) => this.#onWatch(event));
    this.#ready = this.#relist.run();
    this.#ready.catch(() => {});
    this.#sweepTimer = opts.clock.setInterval(() => this.#sweep(), opts.sweepIntervalMs);
    this.#store.start();
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  async register(input: RegistrationInput, owner?: RegisterOwnership): Promise<ServiceInstance> {
    this.#assertOpen();
    await this.#ready.catch(() => {}); // conflicts are judged against a filled cache
    const routes = input.routes ?? [];
    // Compiled once for the limits, the admission and the in-flight claims (undefined: invalid, refused below).
    const compiled = routes.map((route) => compileRoute(route));
    const held = input.instanceId === undefined ? undefined : this.#cache.cached(input.service, input.instanceId);
    assertWithinLimits(
      input.service,
      compiled,
      {
        total: this.#cache.held() + this.#pendingNew.count(this.#isCached),
        inService: this.#cache.held(input.service) + this.#pendingNew.count(this.#isCached, input.service),
        known: held !== undefined,
        previousRoutes: held?.routes,
        claims: this.#cache.routeClaims,
      },
      this.#opts,
    );
    const claimed = compileRoutes(routes, compiled);
    assertRoutesAdmissible(input.service, claimed, {
      claims: [this.#cache.routeClaims, this.#pendingClaims],
      staticClaims: this.#staticClaims,
      isLiveService: (name) => this.#cache.hasLive(name),
      liveServices: () => this.#cache.services(),
    });
    const { leaseMs, ...rest } = input;
    const lease = { ttlMs: this.#leaseOf(leaseMs) };
    // Claimed and counted before the first await, so a concurrent registration sees it.
    this.#pendingClaims.addCompiled(input.service, claimed);
    const isNew = held === undefined;
    const pendingHandle = isNew ? this.#pendingNew.add(input.service, input.instanceId) : undefined;
    try {
      // The local check above sees this gateway only; the store's claim is the cross-gateway one.
      const claimRoutes = this.backend.claimRoutes?.bind(this.backend);
      if (claimRoutes !== undefined && routes.length > 0) {
        await this.#store.call(() => claimRoutes(input.service, routes, { ttlMs: this.ttlMs }));
      }
      const instance = await this.#store.call(() => this.backend.register(rest, lease, owner));
      this.#ingest({ type: 'register', service: instance.service, instanceId: instance.instanceId, instance });
      return instance;
    } finally {
      this.#pendingClaims.removeCompiled(input.service, claimed);
      if (pendingHandle !== undefined) this.#pendingNew.remove(input.service, pendingHandle);
    }
  }

  readonly #isCached = (service: string, instanceId: string): boolean =>
    this.#cache.cached(service, instanceId) !== undefined;

  /** The lease a registration gets: its own `leaseMs` within [MIN_LEASE_MS, ttlMs], else ttlMs. */
  #leaseOf(leaseMs: number | undefined): number {
    if (leaseMs === undefined || !Number.isFinite(leaseMs)) return this.ttlMs;
    return Math.min(this.ttlMs, Math.max(MIN_LEASE_MS, Math.round(leaseMs)));
  }

  /**
   * The lease a heartbeat renews: the one the instance was registered with, read from the stored
   * instance (its expiry minus its last renewal), so every gateway of a fleet renews it alike.
   */
  #leaseOfLive(service: string, instanceId: string): number {
    const known = this.#cache.get(service, instanceId);
    return known === undefined ? this.ttlMs : this.#leaseOf(known.expiresAt - known.lastHeartbeat);
  }

  async heartbeat(service: string, instanceId: string, proof?: OwnerProof): Promise<ServiceInstance> {
    this.#assertOpen();
    const lease = { ttlMs: this.#leaseOfLive(service, instanceId) };
    const instance = await this.#store.call(() => this.backend.heartbeat(service, instanceId, lease, proof));
    // The in-memory backend hands its watch event and its answer the same copy: applied already.
    if (instance !== this.#lastWatched) this.#ingest({ type: 'heartbeat', service, instanceId, instance });
    return instance;
  }

  async deregister(service: string, instanceId: string, proof?: OwnerProof): Promise<boolean> {
    this.#assertOpen();
    const removed = await this.#store.call(() => this.backend.deregister(service, instanceId, proof));
    // Also drop it locally when the store no longer had it (e.g. a preserved instance).
    this.#ingest({ type: 'deregister', service, instanceId });
    return removed;
  }

  async setStatus(
    service: string,
    instanceId: string,
    status: InstanceStatus,
    proof?: OwnerProof,
  ): Promise<ServiceInstance | undefined> {
    this.#assertOpen();
    if (this.backend.setStatus !== undefined) {
      const setStatus = this.backend.setStatus.bind(this.backend);
      const instance = await this.#store.call(() => setStatus(service, instanceId, status, proof));
      if (instance !== undefined) this.#ingest({ type: 'status', service, instanceId, instance });
      return instance;
    }
    // Without the capability the verdict stays local to this gateway and survives heartbeats.
    const instance = this.#cache.setLocalStatus(service, instanceId, status);
    return instance === undefined ? undefined : structuredClone(instance);
  }

  /**
   * Replaces the static gateway routes that registrations may not overlap (a configuration
   * reload). Registrations already accepted stay; new ones are judged against the new set.
   */
  setStaticRoutes(staticRoutes: readonly RouteShape[]): void {
    const next = new RouteClaims();
    next.add(undefined, staticRoutes);
    this.#staticClaims = next;
  }

  /**
   * Explicit routes of other services (or static gateway routes) that take some of `service`'s
   * `/{service}/…` name-fallback paths first. A registration is accepted anyway; the answer says so.
   */
  nameFallbackShadows(service: string): ClaimRef[] {
    return nameShadowsOf(service, [this.#staticClaims, this.#cache.routeClaims]);
  }

  instances(service?: string): ServiceInstance[] {
    return this.#cache.instances(service);
  }

  get(service: string, instanceId: string): ServiceInstance | undefined {
    return this.#cache.get(service, instanceId);
  }

  services(): string[] {
    return this.#cache.services();
  }

  /**
   * Whether the store answers: `up`, `down` (a liveness probe went unanswered; writes fail at
   * once with `ERR_FG_STORE_UNAVAILABLE`) or `resyncing` (answering again, full re-list under
   * way). Readiness checks use it; the `store-state` event reports every transition.
   * @example if (registry.storeState().state !== 'up') res.statusCode = 503;
   */
  storeState(): StoreState {
    return this.#store.state();
  }

  /**
   * The store's liveness figures for metrics: live, the last probe's round trip and the age of
   * the store's last answer (probe or call). docs/metrics.md
   */
  storeLiveness(): StoreLivenessReport {
    return this.#store.liveness();
  }

  health(): RegistryHealth {
    const store = this.#store.state();
    const failing = this.#relist.failure !== undefined || this.#store.failure !== undefined;
    const connected =
      store.state === 'up' && this.#relist.failure === undefined && (this.backend.isConnected?.() ?? !failing);
    const degradedReason =
      store.reason ??
      this.#relist.failure ??
      this.#store.failure ??
      (connected ? undefined : `${this.backend.type} store disconnected; serving the last-known routes`);
    return {
      type: this.backend.type,
      connected,
      ...(degradedReason === undefined ? {} : { degradedReason }),
      selfPreservation: this.#preservation.state(),
    };
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#store.close();
      this.#sweepTimer.cancel();
      this.#unwatch();
      if (this.#opts.ownsBackend) await this.backend.close();
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #onWatch(event: RegistryEvent | { type: 'resync' }): void {
    if (this.#closing !== undefined) return;
    if (event.type === 'resync') {
      this.#relist.run().catch(() => {});
      return;
    }
    this.#lastWatched = event.instance;
    this.#ingest(event);
  }

  #emitSafely<K extends keyof RegistryEventMap>(event: K, ...args: RegistryEventMap[K]): void {
    try {
      (this.emit as (e: K, ...a: RegistryEventMap[K]) => boolean)(event, ...args);
    } catch (err) {
      // A listener's bug must not break the cache or the sweep.
      this.#opts.logger.error(`fleetgate registry: a '${event}' listener threw: ${describeError(err)}`);
    }
  }

  #assertOpen(): void {
    if (this.#closing !== undefined) throw new FleetgateError('ERR_FG_CLOSED', 'the registry is closed');
  }

  #ingest(event: RegistryEvent): void {
    if (!this.#cache.apply(event)) this.#fetch(event.type, event.service, event.instanceId);
  }

  #fetch(type: RegistryEvent['type'], service: string, instanceId: string): void {
    this.backend.get(service, instanceId).then(
      (instance) => {
        if (instance !== undefined && this.#closing === undefined)
          this.#ingest({ type, service, instanceId, instance });
      },
      (err: unknown) => this.#store.noteFailure(err),
    );
  }

  #announce(change: RegistryChange, cameBack = false): void {
    if (!cameBack && isRoutineRenewal(change)) {
      // Neither logged nor published, and only listeners that want renewals are woken.
      this.#emitSafely('renew', change);
      return;
    }
    this.#emitSafely('change', change);
    if (change.type === 'register' && change.instance) this.#emitSafely('registered', change.instance);
    if (change.type === 'deregister' && change.previous) this.#emitSafely('deregistered', change.previous);
    if (change.type === 'expire' && change.previous) this.#emitSafely('expired', change.previous);
    if (change.type !== 'resync') {
      this.#opts.logger.info(`fleetgate registry: ${change.type} ${change.service}/${change.instanceId}`);
    }
    if (registryChannel.hasSubscribers) registryChannel.publish(change);
  }

  #sweep(): void {
    if (this.#closing !== undefined) return;
    if (this.#relist.needed) this.#relist.run().catch(() => {});
    this.#cache.sweep(this.#storeHealthy());
  }

  /** Whether the store answers: probed up, no failed re-list or call since the last success, and connected. */
  #storeHealthy(): boolean {
    return (
      this.#store.state().state === 'up' &&
      this.#relist.failure === undefined &&
      this.#store.failure === undefined &&
      this.backend.isConnected?.() !== false
    );
  }

  #announcePreservation(evicted: number): void {
    const state = this.#preservation.state();
    if (state.active) this.#opts.logger.warn(`fleetgate registry: self-preservation on: ${state.reason}`);
    else this.#opts.logger.info(`fleetgate registry: self-preservation off (${evicted} evicted)`);
    this.#emitSafely('self-preservation', state);
    if (registryChannel.hasSubscribers) registryChannel.publish({ type: 'self-preservation', state });
  }
}
