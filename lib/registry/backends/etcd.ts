/**
 * The etcd registry backend (`REGISTRY_TYPE=ETCD`). Layout and values in etcd-values.ts.
 *
 * - Every write is a compare-and-swap on the key's `mod_revision` (retried on contention), so
 *   concurrent gateways never lose an update; `epoch` comes from the value read.
 * - TTL: the record holds its own `expiresAt` (now + the instance's lease); the key sits on this
 *   gateway's lease for that TTL in whole seconds, one lease per gateway and duration, kept alive
 *   by the gateway (etcd-lease-buckets.ts). Register and heartbeat read the key and put the new
 *   value on this gateway's bucket, so a heartbeat works from any gateway and moves the key there.
 * - Expiry: readers filter by `expiresAt`; the gateway that wrote a record last deletes it once
 *   expired (etcd-expiry-sweep.ts); a gateway that dies takes its bucket lease, and so its
 *   records, with it within one TTL.
 * - Deregister: write a `deregister` tombstone, then delete it. Watchers see the DELETE with the
 *   tombstone as previous value → `deregister`; a DELETE whose previous value is a live record
 *   comes from the sweep or a lease that ended → `expire`.
 * - Heartbeats arriving within `heartbeatBatchMs` (20 ms) go out in one turn, so their reads and
 *   guarded writes batch into one transaction each (heartbeat-window.ts, etcd-batcher.ts).
 * - Listing: pages at one revision (etcd-listing.ts).
 * - Watch: one prefix watch with previous values, from the revision current when watching began
 *   (+1); operations wait until it is established, so no change after watch() is missed. etcd3
 *   resumes it from the last seen revision after a disconnect; a `resync` is reported then, and
 *   when the watch is cancelled (compaction) it is recreated from the current revision.
 * - Liveness: `probe()` reads on a client of its own (etcd-probe.ts); `reconnect()` redials the
 *   command client after a partition healed.
 */
import type { Etcd3 } from 'etcd3';
import { mergeDefined } from '../../core/options-merge.js';
import { FleetgateError } from '../../errors.js';
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
import { EchoBook } from './echo-book.js';
import { EtcdCalls } from './etcd-calls.js';
import { EtcdClaimStore } from './etcd-claims.js';
import { EtcdExpirySweep } from './etcd-expiry-sweep.js';
import { LeaseBuckets } from './etcd-lease-buckets.js';
import { isLiveRecord, listLive } from './etcd-listing.js';
import { ETCD_BACKEND_DEFAULTS, type EtcdBackendOptions } from './etcd-options.js';
import { EtcdProbe, redialEtcd } from './etcd-probe.js';
import { type CasDecide, EtcdRecords } from './etcd-records.js';
import { createEtcdClient, type EtcdEnvelope, EtcdKeys } from './etcd-values.js';
import { EtcdWatch, echoKey } from './etcd-watch.js';
import { HeartbeatWindow } from './heartbeat-window.js';
import { notOwner, ownerRecordOf, proofAccepted, reRegistrationAccepted } from './owner-check.js';
import {
  instanceDoc,
  instanceIdFor,
  unknownInstance,
  validateLease,
  validateRegistration,
  validateStatus,
} from './registration-input.js';
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
  /** Heartbeats arriving within `heartbeatBatchMs` go out together. */
  readonly #beats: HeartbeatWindow;
  readonly #owns: boolean;
  readonly #watchers = new Set<RegistryWatcher>();
  /** Our renewals, for their echoes on the watch (echo-book.ts). */
  readonly #echoes: EchoBook<EtcdEnvelope>;
  readonly #touches = new ClaimTouches();
  readonly #claims: ClaimQueue;
  readonly #records: EtcdRecords;
  readonly #buckets: LeaseBuckets;
  readonly #sweep: EtcdExpirySweep;
  #watch: EtcdWatch | undefined;
  #probe: EtcdProbe | undefined;
  readonly #calls: EtcdCalls;
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
    if (
      !(opts.operationTimeoutMs > 0) ||
      !(opts.maxAttempts >= 1) ||
      !(opts.sweepIntervalMs > 0) ||
      !(opts.listPageSize >= 1) ||
      !(opts.heartbeatBatchMs >= 0)
    ) {
      throw new FleetgateError(
        'ERR_FG_INVALID_CONFIG',
        'operationTimeoutMs and sweepIntervalMs must be > 0, maxAttempts and listPageSize >= 1, heartbeatBatchMs >= 0',
      );
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
    this.#beats = new HeartbeatWindow(opts.heartbeatBatchMs);
    this.#echoes = new EchoBook(opts.clock);
    this.#calls = new EtcdCalls({
      clock: opts.clock,
      limitMs: opts.operationTimeoutMs,
      isClosed: () => this.#closed,
      watch: () => this.#watch,
    });
    this.#records = new EtcdRecords(client, opts.maxAttempts);
    this.#buckets = new LeaseBuckets(client, opts.logger);
    this.#sweep = new EtcdExpirySweep({
      records: this.#records,
      clock: opts.clock,
      intervalMs: opts.sweepIntervalMs,
      logger: opts.logger,
    });
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
        const { now, id } = grant!;
        const live = cur !== undefined && isLiveRecord(cur.env, now) ? cur.env.instance : undefined;
        if (live !== undefined && !reRegistrationAccepted(cur?.env.owner, owner))
          throw notOwner(input.service, instanceId);
        const instance: ServiceInstance = {
          ...structuredClone(doc),
          registeredAt: now,
          lastHeartbeat: now,
          expiresAt: now + lease.ttlMs,
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
    await this.#beats.wait();
    return this.#cas(
      this.#keys.instance(service, instanceId),
      async (cur, grant) => {
        const { now, id } = grant!;
        if (cur === undefined || !isLiveRecord(cur.env, now)) throw unknownInstance(service, instanceId);
        if (!proofAccepted(cur.env.owner, proof)) throw notOwner(service, instanceId);
        const instance = { ...cur.env.instance, lastHeartbeat: now, expiresAt: now + lease.ttlMs };
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
    let tombstone: string | undefined;
    const removed = await this.#cas<boolean>(
      key,
      async (cur) => {
        if (cur === undefined || !isLiveRecord(cur.env, this.#opts.clock.now())) return { result: false };
        if (!proofAccepted(cur.env.owner, proof)) throw notOwner(service, instanceId);
        return { put: { ...cur.env, event: 'deregister' }, result: true };
      },
      (revision) => {
        tombstone = revision;
      },
    );
    // The DELETE's previous value is the tombstone: watchers report `deregister`. A record written
    // again in between (a re-registration) is left alone.
    if (removed && tombstone !== undefined) await this.#call(() => this.#records.deleteAt(key, tombstone!));
    return removed;
  }

  async setStatus(
    service: string,
    instanceId: string,
    status: InstanceStatus,
    proof?: OwnerProof,
  ): Promise<ServiceInstance | undefined> {
    validateStatus(status);
    return this.#cas(this.#keys.instance(service, instanceId), async (cur) => {
      if (cur === undefined || !isLiveRecord(cur.env, this.#opts.clock.now())) return { result: undefined };
      if (!proofAccepted(cur.env.owner, proof)) throw notOwner(service, instanceId);
      if (cur.env.instance.status === status) return { result: cur.env.instance };
      const instance = { ...cur.env.instance, status };
      return { put: { ...cur.env, event: 'status', lease: cur.env.lease, instance }, result: instance };
    });
  }

  async get(service: string, instanceId: string): Promise<ServiceInstance | undefined> {
    const cur = await this.#call(() => this.#records.read(this.#keys.instance(service, instanceId)));
    return cur !== undefined && isLiveRecord(cur.env, this.#opts.clock.now()) ? cur.env.instance : undefined;
  }

  /**
   * Every live instance (of `service`): range reads of `listPageSize` keys, all at the revision
   * of the first page, so the pages form one snapshot and no reply nears gRPC's 4 MB message limit
   * (10,000 instances are ~6 MB).
   */
  async list(service?: string): Promise<ServiceInstance[]> {
    const prefix = service === undefined ? this.#keys.services : this.#keys.service(service);
    const o = this.#opts;
    return this.#call(() => listLive(this.client, prefix, service, o.listPageSize, () => o.clock.now()));
  }

  /** A count-only range read on a probe client of its own (dialled on first use); rejects when etcd does not answer. */
  probe(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('the etcd backend is closed'));
    this.#probe ??= new EtcdProbe(
      this.#opts.endpoints,
      this.client,
      this.#keys.services,
      this.#opts.probeTimeoutMs,
      this.#opts.clock,
    );
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
      echoes: this.#echoes,
    });
    return () => {
      this.#watchers.delete(watcher);
    };
  }

  /** Whether etcd answered the latest call and, when watching, the watch stream is up. */
  isConnected(): boolean {
    return !this.#closed && !this.#calls.failing && (this.#watch?.connected ?? true);
  }

  /** Runs one expiry sweep now (normally timer-driven every `sweepIntervalMs`): deletes the expired records this gateway wrote last. */
  reap(): Promise<void> {
    return this.#sweep.sweep();
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
    await Promise.race([this.#sweep.close(), this.#sleep(1000)]);
    this.#buckets.close();
    if (this.#owns) this.client.close();
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
  #cas<T>(key: string, decide: CasDecide<T>, lease?: LeaseOptions | ((revision: string) => void)): Promise<T> {
    const o = this.#opts;
    const onWritten = (written: string, put: EtcdEnvelope, revision: string): void => {
      this.#sweep.noted(written, put.event === 'deregister' ? undefined : put.instance.expiresAt, revision);
      // The watch hands our renewal's echo the value we wrote instead of decoding it again.
      if (put.event === 'heartbeat' && this.#watch?.delivered(revision) === false)
        this.#echoes.remember(echoKey(written, revision), put);
      if (typeof lease === 'function') lease(revision);
    };
    const withLease =
      typeof lease === 'object'
        ? {
            leaseFor: () => this.#buckets.leaseFor(lease.ttlMs),
            leaseLost: (id: string) => void this.#buckets.forget(id),
          }
        : {};
    return this.#call(() => this.#records.cas(key, decide, { clock: o.clock, onWritten, ...withLease }));
  }

  /** Runs an operation through {@link EtcdCalls}: closed check, watch gate, time bound, error mapping. */
  #call<T>(op: () => Promise<T>): Promise<T> {
    return this.#calls.run(op);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.#opts.clock.setTimeout(resolve, ms));
  }
}

/** Most claims written in one transaction (etcd's default limit is 128 operations, the version key is one). */
const CLAIM_BATCH = 100;

export { createEtcdClient, type EtcdClientOptions } from './etcd-values.js';
