/**
 * The public surface of a {@link import('./registry.js').Registry}, as consumed by the HTTP API,
 * the proxy, the health checker and the sandbox. Kept as an interface so those parts depend on
 * the contract, not on the class.
 */
import type { InstanceStatus, OwnerProof, RegisterOwnership, RegistrationInput, ServiceInstance } from './model.js';
import type { ClaimRef } from './route-claims.js';
import type { StoreLivenessReport, StoreState } from './store-monitor.js';

export type { StoreCondition, StoreLivenessReport, StoreState } from './store-monitor.js';

/** A change applied to the local cache; the route table and health checker follow these. */
export interface RegistryChange {
  type: 'register' | 'heartbeat' | 'deregister' | 'expire' | 'status' | 'resync';
  service?: string;
  instanceId?: string;
  /** The instance after the change (absent for removals and resync). */
  instance?: ServiceInstance;
  /** The instance before the change, when the cache had it. */
  previous?: ServiceInstance;
}

/** Self-preservation state (Eureka's safety valve), shown by `/health`. */
export interface SelfPreservationState {
  active: boolean;
  /** Why it froze eviction, e.g. "6 of 10 instances (60%) expired in one sweep". */
  reason?: string;
  /** ms since epoch when it froze. */
  since?: number;
  /** Instances kept in routing although their lease expired. */
  preserved: number;
}

/** The registry's own health, shown by `/health`. */
export interface RegistryHealth {
  /** Backend type, e.g. `INMEMORY`. */
  type: string;
  connected: boolean;
  /** Why the registry is degraded, when it is. */
  degradedReason?: string;
  selfPreservation: SelfPreservationState;
}

/** Events emitted by the registry. */
export interface RegistryEventMap {
  /**
   * Every change to the cache except a routine renewal (see `renew`): registrations, status
   * changes, removals, expiries, re-lists, and heartbeats that revive an expired lease, change a
   * status or bring a registration the cache had not seen.
   */
  change: [RegistryChange];
  /**
   * A routine renewal (a `heartbeat` change): the same registration, same status, lease still
   * live; only `lastHeartbeat` and `expiresAt` moved. Apart from `change` so that listeners that
   * ignore renewals are not woken by every heartbeat of the fleet.
   */
  renew: [RegistryChange];
  registered: [ServiceInstance];
  deregistered: [ServiceInstance];
  expired: [ServiceInstance];
  'self-preservation': [SelfPreservationState];
  /** The store went `down`, started `resyncing` or came back `up` (see {@link RegistryApi.storeState}). */
  'store-state': [StoreState];
}

/** What every consumer of a registry may use. */
export interface RegistryApi extends AsyncDisposable {
  /** The default TTL for registrations, in ms. */
  readonly ttlMs: number;
  /** Resolves once the local cache has been filled from the backend and the watch is live. */
  ready(): Promise<void>;
  /**
   * Registers through the backend. Throws `ERR_FG_INVALID_ROUTE` for a pattern that can never
   * match, `ERR_FG_ROUTE_CONFLICT` for one that overlaps a route it may not claim, and
   * `ERR_FG_NOT_OWNER` when `owner` is given and a live instance with that id belongs to another
   * registration (see {@link RegisterOwnership}). Without `owner` the instance is unowned.
   */
  register(input: RegistrationInput, owner?: RegisterOwnership): Promise<ServiceInstance>;
  /** Renews the lease. Throws `ERR_FG_UNKNOWN_INSTANCE` when unknown, `ERR_FG_NOT_OWNER` for a wrong `proof`. */
  heartbeat(service: string, instanceId: string, proof?: OwnerProof): Promise<ServiceInstance>;
  /** Removes an instance; `false` when it was unknown. `ERR_FG_NOT_OWNER` for a wrong `proof`. */
  deregister(service: string, instanceId: string, proof?: OwnerProof): Promise<boolean>;
  /** Sets a status verdict (health checks, draining). `ERR_FG_NOT_OWNER` for a wrong `proof`; trusted callers pass none. */
  setStatus(
    service: string,
    instanceId: string,
    status: InstanceStatus,
    proof?: OwnerProof,
  ): Promise<ServiceInstance | undefined>;
  /**
   * Optional: explicit routes of other services that shadow `service`'s `/{service}/…` name
   * fallback (shown in the registration answer as `warnings`).
   */
  nameFallbackShadows?(service: string): ClaimRef[];
  /** From the local cache, synchronously: live instances (not expired, or kept by self-preservation). */
  instances(service?: string): ServiceInstance[];
  /** From the local cache: one live instance. */
  get(service: string, instanceId: string): ServiceInstance | undefined;
  /** From the local cache: names of services with at least one live instance. */
  services(): string[];
  /** The registry's own health. */
  health(): RegistryHealth;
  /**
   * Optional: whether the store answers (`up`, `down`, `resyncing`), for readiness checks.
   * {@link import('./registry.js').Registry} implements it; absent means "assume `up`".
   */
  storeState?(): StoreState;
  /** Optional: the store's liveness figures for metrics (lib/registry/store-monitor.ts). */
  storeLiveness?(): StoreLivenessReport;
  on<K extends keyof RegistryEventMap>(event: K, listener: (...args: RegistryEventMap[K]) => void): this;
  off<K extends keyof RegistryEventMap>(event: K, listener: (...args: RegistryEventMap[K]) => void): this;
  /** Stops timers and watches; closes the backend when the registry created it. */
  close(): Promise<void>;
}
