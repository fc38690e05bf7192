/**
 * The registry data model and the {@link RegistryBackend} interface every store implements.
 * README "Registry backends"
 */
import type { RoutePredicates } from '../core/route-predicates.js';

/** An instance's routing status. Only `UP` (and `UNKNOWN` before the first health check) take traffic. */
export type InstanceStatus = 'UP' | 'DOWN' | 'UNKNOWN' | 'DRAINING';

/** All statuses, for validation. */
export const INSTANCE_STATUSES: readonly InstanceStatus[] = ['UP', 'DOWN', 'UNKNOWN', 'DRAINING'];

/** A route a service exposes through the gateway. */
export interface RouteSpec {
  /** HTTP method, upper case, or `*` for any. @default '*' */
  method: string;
  /** Path pattern: `*` one segment, `**` the rest, `:name` a named segment. */
  path: string;
  /** `http` for plain requests, `ws` for WebSocket message routes. @default 'http' */
  protocol?: 'http' | 'ws';
  /** WebSocket routes only: reachable from outside the gateway. @default false */
  public?: boolean;
  /** What a caller needs to use the route (furt: `comments:read`); enforced by `apiKeys()`, and by `jwtAuth()` when asked. */
  permission?: string;
  /** Per-route upstream response timeout in ms. */
  timeoutMs?: number;
  /** Host, header, query and claim conditions (docs/predicates.md). @default none */
  predicates?: RoutePredicates;
  /** The gateways (`GATEWAY_NAME`) that serve this route; others ignore it. @default every gateway */
  gateways?: string[];
}

/** One registered instance of a service. */
export interface ServiceInstance {
  service: string;
  instanceId: string;
  /** Base URL, `http(s)://host:port`. */
  url: string;
  healthEndpoint?: string;
  routes: RouteSpec[];
  /** Relative share for the weighted balancer. @default 1 */
  weight: number;
  version?: string;
  zone?: string;
  metadata: Record<string, unknown>;
  /** ms since epoch of the latest (re-)registration. */
  registeredAt: number;
  /** ms since epoch of the latest heartbeat (or registration). */
  lastHeartbeat: number;
  /** ms since epoch after which the instance is out of routing unless renewed. */
  expiresAt: number;
  status: InstanceStatus;
  /** Bumped by every re-registration of the same `(service, instanceId)`. Starts at 1. */
  epoch: number;
}

/** What a caller gives to register an instance. */
export interface RegistrationInput {
  service: string;
  /** Generated when absent, returned in the result. */
  instanceId?: string;
  url: string;
  healthEndpoint?: string;
  routes?: RouteSpec[];
  weight?: number;
  version?: string;
  zone?: string;
  metadata?: Record<string, unknown>;
  /** Initial status. @default 'UP' */
  status?: InstanceStatus;
  /**
   * This instance's own lease in ms (Eureka's `leaseInfo.durationInSecs`): clamped to
   * [{@link MIN_LEASE_MS}, the registry's TTL], kept by every heartbeat. @default the registry's TTL
   */
  leaseMs?: number;
}

/** The shortest lease an instance may ask for. */
export const MIN_LEASE_MS = 1000;

/**
 * What a caller presents to change a live instance (heartbeat, deregister, status): the SHA-256
 * of its instance token. Omitted entirely by trusted in-process callers (the health checker, the
 * sandbox), which skip the check; the HTTP API always passes one. An instance registered without
 * a token (in process) is unowned and accepts any proof.
 */
export interface OwnerProof {
  /** SHA-256 (hex) of the `X-Instance-Token` sent; absent when none was sent. */
  tokenHash?: string | undefined;
}

/**
 * Ownership given with a registration: the new token's hash to store, and how a caller that
 * lost the token may still take over a live instance id (README "Registry backends", Ownership).
 */
export interface RegisterOwnership extends OwnerProof {
  /** SHA-256 (hex) of the instance token issued for this registration; stored, never the token. */
  newTokenHash: string;
  /** The caller's source address, stored so a restarted instance can reclaim its id from there. */
  source?: string | undefined;
  /**
   * Without the current token a live instance id may be taken over: `key` always (the caller
   * holds a service key for the service), `source` when `source` equals the stored one, `none` never.
   */
  reclaim: 'key' | 'source' | 'none';
}

/** A change delivered by {@link RegistryBackend.watch}. */
export interface RegistryEvent {
  type: 'register' | 'heartbeat' | 'deregister' | 'expire' | 'status';
  service: string;
  instanceId: string;
  /** The instance after the change; for `deregister`/`expire` the last known value if the store had it. */
  instance?: ServiceInstance;
}

/** Called for every change; `resync` tells the watcher to re-list everything (after reconnect or compaction). */
export type RegistryWatcher = (event: RegistryEvent | { type: 'resync' }) => void;

/** Options every backend's register/heartbeat take. */
export interface LeaseOptions {
  /** The instance's TTL in ms. */
  ttlMs: number;
}

/**
 * The store behind a registry. One file per implementation in `backends/`; the in-memory
 * backend is the reference. Every backend passes `describeRegistryBackend` (fleetgate/conformance).
 *
 * Expiry is the backend's job: an instance not renewed within its TTL disappears from
 * `get`/`list` and one `expire` event is delivered to watchers.
 */
export interface RegistryBackend extends AsyncDisposable {
  /** Short name for health output, e.g. `INMEMORY`, `REDIS`. */
  readonly type: string;
  /**
   * Registers or re-registers (idempotent per `(service, instanceId)`; re-registering bumps `epoch`).
   * With `owner`, re-registering a live owned instance needs its token (or `owner.reclaim`), else
   * `ERR_FG_NOT_OWNER`; the check and the write are one atomic step in the store.
   */
  register(input: RegistrationInput, lease: LeaseOptions, owner?: RegisterOwnership): Promise<ServiceInstance>;
  /**
   * Renews the TTL. Throws `ERR_FG_UNKNOWN_INSTANCE` when the instance is not registered, and
   * `ERR_FG_NOT_OWNER` when `proof` is given and does not match the stored token hash.
   */
  heartbeat(service: string, instanceId: string, lease: LeaseOptions, proof?: OwnerProof): Promise<ServiceInstance>;
  /** Removes the instance; resolves `false` when it was not registered. `ERR_FG_NOT_OWNER` as for heartbeat. */
  deregister(service: string, instanceId: string, proof?: OwnerProof): Promise<boolean>;
  /** One live instance, or `undefined`. */
  get(service: string, instanceId: string): Promise<ServiceInstance | undefined>;
  /** Live instances of one service, or of all services. */
  list(service?: string): Promise<ServiceInstance[]>;
  /** Subscribes to changes; returns the unsubscribe function. */
  watch(onEvent: RegistryWatcher): () => void;
  /** Optional capability: records a status verdict (health checks) visible to every gateway. */
  setStatus?(
    service: string,
    instanceId: string,
    status: InstanceStatus,
    proof?: OwnerProof,
  ): Promise<ServiceInstance | undefined>;
  /**
   * Optional capability: claims `routes` for `service` in the shared store, atomically against
   * every other gateway (throws `ERR_FG_ROUTE_CONFLICT` when one overlaps another service's live
   * claim). Called by the Registry before the instance is written. The claim lasts `lease.ttlMs`
   * and is renewed by the service's heartbeats.
   */
  claimRoutes?(service: string, routes: readonly RouteSpec[], lease: LeaseOptions): Promise<void>;
  /** Optional capability: whether the store is reachable right now. */
  isConnected?(): boolean;
  /**
   * Optional capability: one cheap round trip to the store (Redis PING, an etcd range read),
   * resolving when it answered. The registry calls it every ~250 ms with its own deadline, so a
   * store that stops answering without closing its sockets is known within a second. It should
   * not reuse a socket that failed a probe: a fresh one answers as soon as a partition heals.
   */
  probe?(): Promise<void>;
  /**
   * Optional capability: drop and reopen the store connections (the registry calls it when the
   * store answers again after being down: sockets from before a partition may sit in TCP
   * retransmission backoff for seconds). Watches resume and report `resync`.
   */
  reconnect?(): void;
  /** Releases every handle (timers, sockets). Idempotent. */
  close(): Promise<void>;
}
