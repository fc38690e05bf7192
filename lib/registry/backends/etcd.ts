/**
 * The etcd registry backend (`REGISTRY_TYPE=ETCD`). Layout and values in etcd-values.ts.
 *
 * - Every write is a compare-and-swap on the key's `mod_revision` (retried on contention), so
 *   concurrent gateways never lose an update; `epoch` comes from the value read.
 * - TTL = a lease of `ceil(ttlMs / 1000)` s (etcd may raise it to its minimum); `expiresAt` is
 *   computed from the granted TTL, so it never outlives the lease.
 * - Register and heartbeat grant a fresh lease (in parallel with reading the key), put the new
 *   value on it in the CAS, then revoke the old lease. A heartbeat thus works from any gateway
 *   (the lease id is in the value; etcd3's Lease objects only renew leases their own client
 *   granted, and a keepalive could not change the TTL), at the cost of a grant and a revoke.
 * - Deregister: write a `deregister` tombstone on the same lease, then revoke the lease. Watchers
 *   see the DELETE with the tombstone as previous value → `deregister`; a DELETE whose previous
 *   value is a live record can only come from lease expiry → `expire`.
 * - Watch: one prefix watch with previous values, from the revision current when watching began
 *   (+1); operations wait until it is established, so no change after watch() is missed. etcd3
 *   resumes it from the last seen revision after a disconnect; a `resync` is reported then, and
 *   when the watch is cancelled (compaction) it is recreated from the current revision.
 * - Liveness: `probe()` reads on a client of its own (etcd-probe.ts); `reconnect()` redials the
 *   command client after a partition healed.
 */
import type { Etcd3 } from 'etcd3';
import { mergeDefined } from '../../core/options-merge.js';
import { FleetgateError, isFleetgateError } from '../../errors.js';
import type {
  InstanceStatus,
  LeaseOptions,
  OwnerProof,
  RegisterOwnership,
  RegistrationInput,
  RegistryBackend,
  RegistryEvent,
  RegistryWatcher,
  RouteSpec,
  ServiceInstance,
} from '../model.js';
import { EtcdClaimStore } from './etcd-claims.js';
import { ETCD_BACKEND_DEFAULTS, type EtcdBackendOptions } from './etcd-options.js';
import { EtcdProbe, redialEtcd } from './etcd-probe.js';
import { type CasDecide, EtcdRecords } from './etcd-records.js';
import { createEtcdClient, decodeEnvelope, type EtcdEnvelope, EtcdKeys, prefixEnd } from './etcd-values.js';
import { EtcdWatch } from './etcd-watch.js';
import { notOwner, ownerRecordOf, proofAccepted, reRegistrationAccepted } from './owner-check.js';
import {
  instanceDoc,
  instanceIdFor,
  unknownInstance,
  validateLease,
  validateRegistration,
  validateStatus,
} from './registration-input.js';
import { storeCall } from './store-call.js';
import { ClaimBook } from './store-claim-book.js';
import { ClaimQueue } from './store-claim-queue.js';
import { ClaimTouches, claimRoutesOf } from './store-route-claims.js';

export { ETCD_BACKEND_DEFAULTS, type EtcdBackendOptions } from './etcd-options.js';
/**
 * Registry backend on etcd v3.
 * @example
 * await using backend = EtcdBackend.fromEndpoints(['127.0.0.1:2379']);
 */
export class EtcdBackend implements RegistryBackend {
  readonly type = 'ETCD';
  /** The etcd3 client. */
  readonly client: Etcd3;
  readonly #opts: EtcdBackendOptions;
  readonly #keys: EtcdKeys;
  readonly #owns: boolean;
  readonly #watchers = new Set<RegistryWatcher>();
  readonly #touches = new ClaimTouches();
  readonly #claims: ClaimQueue;
  readonly #records: EtcdRecords;
  #watch: EtcdWatch | undefined;
  #probe: EtcdProbe | undefined;
  #callsFailing = false;
  #closed = false;
  #closing: Promise<void> | undefined;

  /**
   * Builds a backend (and its client) from `REGISTRY_ETCD_ENDPOINTS`-style endpoints.
   * @example EtcdBackend.fromEndpoints(['10.0.0.5:2379', '10.0.0.6:2379'])
   */
  static fromEndpoints(
    endpoints: readonly string[],
    options: Partial<Omit<EtcdBackendOptions, 'client' | 'endpoints'>> = {},
  ): EtcdBackend {
    return new EtcdBackend({ ...options, endpoints });
  }

  constructor(options: Partial<EtcdBackendOptions>) {
    const opts = mergeDefined(ETCD_BACKEND_DEFAULTS, options);
    if (!(opts.operationTimeoutMs > 0) || !(opts.maxAttempts >= 1)) {
      throw new FleetgateError('ERR_FG_INVALID_CONFIG', 'operationTimeoutMs must be > 0 and maxAttempts >= 1');
    }
    let client = opts.client;
    let owns = opts.ownsClient;
    if (client === undefined) {
      if (opts.endpoints === undefined || opts.endpoints.length === 0) {
        throw new FleetgateError('ERR_FG_INVALID_CONFIG', 'EtcdBackend needs a client or endpoints');
      }
      client = createEtcdClient(opts.endpoints);
      owns = true;
    }
    this.client = client;
    this.#owns = owns;
    this.#opts = opts;
    this.#keys = new EtcdKeys(opts.root);
    this.#records = new EtcdRecords(client, opts.maxAttempts);
    this.#claims = new ClaimQueue({
      store: new EtcdClaimStore(client, this.#keys),
      book: new ClaimBook(),
      clock: opts.clock,
      maxBatch: CLAIM_BATCH,
      onClaimed: (service, now) => this.#touches.noted(service, now),
    });
  }

  async register(input: RegistrationInput, lease: LeaseOptions, owner?: RegisterOwnership): Promise<ServiceInstance> {
    validateRegistration(input, lease);
    const instanceId = instanceIdFor(input);
    const doc = instanceDoc(input, instanceId);
    const key = this.#keys.instance(input.service, instanceId);
    const record = ownerRecordOf(owner);
    return this.#cas(
      key,
      async (cur, grant) => {
        const { now, id, ttlMs } = grant!;
        const live = cur !== undefined && this.#isLive(cur.env, now) ? cur.env.instance : undefined;
        if (live !== undefined && !reRegistrationAccepted(cur?.env.owner, owner))
          throw notOwner(input.service, instanceId);
        const instance: ServiceInstance = {
          ...structuredClone(doc),
          registeredAt: now,
          lastHeartbeat: now,
          expiresAt: now + ttlMs,
          status: input.status ?? 'UP',
          epoch: (live?.epoch ?? 0) + 1,
        };
        const put = {
          event: 'register' as const,
          lease: id,
          instance,
          ...(record === undefined ? {} : { owner: record }),
        };
        return { put, result: instance };
      },
      lease,
    );
  }

  async heartbeat(
    service: string,
    instanceId: string,
    lease: LeaseOptions,
    proof?: OwnerProof,
  ): Promise<ServiceInstance> {
    validateLease(lease);
    return this.#cas(
      this.#keys.instance(service, instanceId),
      async (cur, grant) => {
        const { now, id, ttlMs } = grant!;
        if (cur === undefined || !this.#isLive(cur.env, now)) throw unknownInstance(service, instanceId);
        if (!proofAccepted(cur.env.owner, proof)) throw notOwner(service, instanceId);
        const instance = { ...cur.env.instance, lastHeartbeat: now, expiresAt: now + ttlMs };
        return { put: { ...cur.env, event: 'heartbeat', lease: id, instance }, result: instance };
      },
      lease,
    ).then((instance) => {
      if (instance.routes.length > 0 && this.#touches.due(service, this.#opts.clock.now(), lease.ttlMs)) {
        // Lazily keeps the service's route claim alive; a failure here must not fail the heartbeat.
        this.#claims.claim(service, claimRoutesOf(instance.routes), lease.ttlMs, false).catch(() => {});
      }
      return instance;
    });
  }

  /** Claims `routes` for `service` under the claims prefix (see store-claim-queue.ts and etcd-claims.ts). */
  async claimRoutes(service: string, routes: readonly RouteSpec[], lease: LeaseOptions): Promise<void> {
    validateLease(lease);
    if (routes.length === 0) return;
    await this.#call(() => this.#claims.claim(service, claimRoutesOf(routes), lease.ttlMs, true));
  }

  async deregister(service: string, instanceId: string, proof?: OwnerProof): Promise<boolean> {
    const key = this.#keys.instance(service, instanceId);
    const lease = await this.#cas<string | undefined>(key, async (cur) => {
      if (cur === undefined || !this.#isLive(cur.env, this.#opts.clock.now())) return { result: undefined };
      if (!proofAccepted(cur.env.owner, proof)) throw notOwner(service, instanceId);
      return { put: { ...cur.env, event: 'deregister' }, result: cur.env.lease };
    });
    if (lease === undefined) return false;
    // Revoking deletes the key; its DELETE event carries the tombstone as previous value.
    await this.#call(() => this.client.leaseClient.leaseRevoke({ ID: lease }).catch(ignoreLeaseNotFound));
    return true;
  }

  async setStatus(
    service: string,
    instanceId: string,
    status: InstanceStatus,
    proof?: OwnerProof,
  ): Promise<ServiceInstance | undefined> {
    validateStatus(status);
    return this.#cas(this.#keys.instance(service, instanceId), async (cur) => {
      if (cur === undefined || !this.#isLive(cur.env, this.#opts.clock.now())) return { result: undefined };
      if (!proofAccepted(cur.env.owner, proof)) throw notOwner(service, instanceId);
      if (cur.env.instance.status === status) return { result: cur.env.instance };
      const instance = { ...cur.env.instance, status };
      return { put: { ...cur.env, event: 'status', lease: cur.env.lease, instance }, result: instance };
    });
  }

  async get(service: string, instanceId: string): Promise<ServiceInstance | undefined> {
    const cur = await this.#call(() => this.#records.read(this.#keys.instance(service, instanceId)));
    return cur !== undefined && this.#isLive(cur.env, this.#opts.clock.now()) ? cur.env.instance : undefined;
  }

  async list(service?: string): Promise<ServiceInstance[]> {
    const prefix = service === undefined ? this.#keys.services : this.#keys.service(service);
    const res = await this.#call(() =>
      this.client.kv.range({ key: Buffer.from(prefix), range_end: prefixEnd(prefix) }),
    );
    const now = this.#opts.clock.now();
    const out: ServiceInstance[] = [];
    for (const kv of res.kvs) {
      const env = decodeEnvelope(kv.value);
      if (env === undefined || !this.#isLive(env, now)) continue;
      if (service !== undefined && env.instance.service !== service) continue;
      out.push(env.instance);
    }
    return out;
  }

  /** A count-only range read on a probe client of its own (dialled on first use); rejects when etcd does not answer. */
  probe(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('the etcd backend is closed'));
    this.#probe ??= new EtcdProbe(this.#opts.endpoints, this.client, this.#keys.services, this.#opts.probeTimeoutMs);
    return this.#probe.ping();
  }

  /** Redials the command client (when owned): its channel may sit in TCP backoff after a partition. */
  reconnect(): void {
    if (this.#closed || !this.#owns) return;
    redialEtcd(this.client);
  }

  /** Subscribes to changes from every gateway on this etcd. Returns the unsubscribe function. */
  watch(onEvent: RegistryWatcher): () => void {
    if (this.#closed) return () => {};
    const watcher: RegistryWatcher = (event) => onEvent(event);
    this.#watchers.add(watcher);
    this.#watch ??= new EtcdWatch({
      client: this.client,
      keys: this.#keys,
      clock: this.#opts.clock,
      logger: this.#opts.logger,
      onEvent: (event) => this.#emit(event),
    });
    return () => {
      this.#watchers.delete(watcher);
    };
  }

  /** Whether etcd answered the latest call and, when watching, the watch stream is up. */
  isConnected(): boolean {
    return !this.#closed && !this.#callsFailing && (this.#watch?.connected ?? true);
  }

  /** The revision of the latest watched change (diagnostics, tests). */
  get watchRevision(): string | undefined {
    return this.#watch?.lastRevision;
  }

  async close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #close(): Promise<void> {
    this.#closed = true;
    this.#probe?.close();
    this.#watchers.clear();
    await this.#watch?.close();
    await Promise.race([this.#records.drain(), this.#sleep(1000)]);
    if (this.#owns) this.client.close();
  }

  #isLive(env: EtcdEnvelope, now: number): boolean {
    return env.event !== 'deregister' && env.instance.expiresAt > now;
  }

  #emit(event: RegistryEvent | { type: 'resync' }): void {
    if (event.type === 'resync') this.#claims.invalidate();
    for (const watcher of [...this.#watchers]) {
      try {
        watcher(event);
      } catch (err) {
        this.#opts.logger.warn(`[fleetgate] registry watcher threw: ${String(err)}`);
      }
    }
  }

  /** {@link EtcdRecords.cas} inside the bounded, error-mapped call wrapper. */
  #cas<T>(key: string, decide: CasDecide<T>, lease?: LeaseOptions): Promise<T> {
    return this.#call(() => this.#records.cas(key, decide, lease, this.#opts.clock));
  }

  /** Runs an operation: closed check, watch gate, time bound, error mapping, health tracking. */
  async #call<T>(op: () => Promise<T>): Promise<T> {
    // Wait (briefly) for a watch being set up: writes after watch() must reach the watcher.
    const watch = this.#watch;
    const gate = watch === undefined ? undefined : Promise.race([watch.established(), this.#sleep(WATCH_GATE_MS)]);
    const o = this.#opts;
    try {
      const result = await storeCall(
        {
          clock: o.clock,
          limitMs: o.operationTimeoutMs,
          type: this.type,
          store: 'etcd',
          isClosed: () => this.#closed,
          gate,
        },
        op,
      );
      this.#callsFailing = false;
      return result;
    } catch (err) {
      if (isFleetgateError(err, 'ERR_FG_STORE_UNAVAILABLE') && err.cause !== undefined) this.#callsFailing = true;
      throw err;
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.#opts.clock.setTimeout(resolve, ms));
  }
}

/** Most claims written in one transaction (etcd's default limit is 128 operations, the version key is one). */
const CLAIM_BATCH = 100;

/** The longest an operation waits for a watch being set up before going ahead anyway. */
const WATCH_GATE_MS = 1000;

/** Revoking a lease that already expired or was revoked is fine. */
function ignoreLeaseNotFound(err: unknown): void {
  if (err instanceof Error && /lease not found/i.test(err.message)) return;
  throw err;
}

export { createEtcdClient, type EtcdClientOptions } from './etcd-values.js';
