/**
 * The Redis registry backend, standalone (`REGISTRY_TYPE=REDIS`) and cluster
 * (`REGISTRY_TYPE=REDIS_CLUSTER`). Layout in redis-keys.ts, atomic scripts in redis-scripts.ts.
 *
 * - Writes are Lua scripts over one service's keys (one slot), each publishing its event on
 *   `<prefix>:events` in the same script, so every gateway's watch sees every change once.
 * - An instance is a hash (`doc` JSON plus the store-maintained fields as separate fields), so a
 *   heartbeat or status change updates two fields in Lua without re-encoding JSON there (cjson
 *   would turn `routes: []` into `{}`).
 * - Expiry: readers filter by `expiresAt`; a single reaper (whoever holds `<prefix>:reaper-lock`)
 *   removes expired instances and publishes one `expire` each, with the last known value (the
 *   instance hash outlives its TTL by `retainMs` for exactly that).
 * - Watch (redis-watch.ts): one subscriber connection (standalone) or one on every master
 *   (cluster, deduplicated: redis-cluster-subscriber.ts); after any reconnect it reports `resync`.
 * - Heartbeats arriving within `heartbeatBatchMs` (20 ms) go out in one turn, and commands of one
 *   turn as one pipeline per node (ioredis auto-pipelining on the clients built here), so a
 *   heartbeat does not pay a round trip and its wakeups alone (heartbeat-window.ts). The echo of
 *   our own heartbeat on the watch reuses the reply's instance (redis-heartbeat-echoes.ts).
 * - A down store makes operations reject with `ERR_FG_STORE_UNAVAILABLE` within about
 *   `commandTimeoutMs`, never hang; the client keeps reconnecting in the background.
 * - Liveness: `probe()` PINGs on connections of its own (redis-probe.ts); `reconnect()` renews
 *   the command and subscriber connections after a partition healed.
 */
import type { Cluster, Redis } from 'ioredis';
import type { TimerHandle } from '../../clock.js';
import { mergeDefined } from '../../core/options-merge.js';
import { FleetgateError } from '../../errors.js';
import type {
  InstanceStatus,
  LeaseOptions,
  OwnerProof,
  RegisterOwnership,
  RegistrationInput,
  RegistryBackend,
  RegistryWatcher,
  RouteSpec,
  ServiceInstance,
} from '../model.js';
import { HeartbeatWindow } from './heartbeat-window.js';
import { notOwner } from './owner-check.js';
import { RedisClaimStore } from './redis-claims.js';
import { defineRegistryCommands, type RegistryCommands } from './redis-commands.js';
import { createRedisClient, isCluster } from './redis-connection.js';
import { HeartbeatEchoes } from './redis-heartbeat-echoes.js';
import { type InstanceTuple, instanceFromTuple, RedisKeys } from './redis-keys.js';
import { REDIS_BACKEND_DEFAULTS, type RedisBackendOptions } from './redis-options.js';
import { RedisProbe } from './redis-probe.js';
import { RedisReaper } from './redis-reaper.js';
import { expiryArgs, instanceArgs, NOT_OWNER, proofArgs } from './redis-script-args.js';
import { RedisWatch } from './redis-watch.js';
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

export { REDIS_BACKEND_DEFAULTS, type RedisBackendOptions } from './redis-options.js';

/**
 * Registry backend on Redis or Redis Cluster.
 * @example
 * await using backend = RedisBackend.fromUrls(['redis://127.0.0.1:6379']);
 * @example
 * const backend = new RedisBackend({ client: new Cluster([{ host: '10.0.0.5', port: 7000 }], { scaleReads: 'master' }) });
 */
export class RedisBackend implements RegistryBackend {
  /** `REDIS` or `REDIS_CLUSTER`. */
  readonly type: 'REDIS' | 'REDIS_CLUSTER';
  /** The command client. */
  readonly client: Redis | Cluster;
  readonly #keys: RedisKeys;
  readonly #commands: RegistryCommands;
  readonly #opts: RedisBackendOptions;
  readonly #owns: boolean;
  readonly #watch: RedisWatch;
  readonly #touches = new ClaimTouches();
  readonly #claims: ClaimQueue;
  readonly #reaper: RedisReaper;
  readonly #reaperTimer: TimerHandle;
  readonly #probe: RedisProbe;
  #closed = false;
  #closing: Promise<void> | undefined;
  /** Heartbeats arriving within `heartbeatBatchMs` go out together. */
  readonly #beats: HeartbeatWindow;
  /** Instances our heartbeats renewed, for their echoes on the watch (redis-heartbeat-echoes.ts). */
  readonly #echoes: HeartbeatEchoes;

  /**
   * Builds a backend (and its client) from `REGISTRY_REDIS_ADDR`-style addresses.
   * @example RedisBackend.fromUrls(['redis://a:7000', 'redis://b:7001'], { cluster: true })
   */
  static fromUrls(
    addrs: readonly string[],
    options: Partial<Omit<RedisBackendOptions, 'client' | 'addrs'>> = {},
  ): RedisBackend {
    return new RedisBackend({ ...options, addrs });
  }

  constructor(options: Partial<RedisBackendOptions>) {
    const opts = mergeDefined(REDIS_BACKEND_DEFAULTS, options);
    if (
      !(opts.reaperIntervalMs > 0) ||
      !(opts.retainMs >= 0) ||
      !(opts.commandTimeoutMs > 0) ||
      !(opts.heartbeatBatchMs >= 0)
    ) {
      throw new FleetgateError(
        'ERR_FG_INVALID_CONFIG',
        'reaperIntervalMs and commandTimeoutMs must be > 0, retainMs and heartbeatBatchMs >= 0',
      );
    }
    this.#keys = new RedisKeys(opts.keyPrefix);
    let client = opts.client;
    let owns = opts.ownsClient;
    if (client === undefined) {
      if (opts.addrs === undefined || opts.addrs.length === 0) {
        throw new FleetgateError('ERR_FG_INVALID_CONFIG', 'RedisBackend needs a client or addrs');
      }
      client = createRedisClient(opts.addrs, { cluster: opts.cluster, commandTimeoutMs: opts.commandTimeoutMs });
      owns = true;
    }
    this.client = client;
    this.#owns = owns;
    this.#opts = opts;
    this.type = isCluster(client) ? 'REDIS_CLUSTER' : 'REDIS';
    // Without a listener ioredis prints every connection error; reconnects are reported by isConnected().
    if (owns) client.on('error', () => {});
    this.#commands = defineRegistryCommands(client);
    this.#reaper = new RedisReaper({
      client,
      commands: this.#commands,
      keys: this.#keys,
      clock: opts.clock,
      lockTtlMs: 3 * opts.reaperIntervalMs,
      recheckMs: 10 * opts.reaperIntervalMs,
      logger: opts.logger,
    });
    this.#reaperTimer = opts.clock.setInterval(() => void this.#reaper.tick(), opts.reaperIntervalMs);
    this.#beats = new HeartbeatWindow(opts.heartbeatBatchMs);
    this.#echoes = new HeartbeatEchoes(opts.clock);
    this.#watch = new RedisWatch({
      echoes: this.#echoes,
      client,
      subscriber: opts.subscriber,
      channel: this.#keys.channel,
      clock: opts.clock,
      commandTimeoutMs: opts.commandTimeoutMs,
      logger: opts.logger,
      // Another gateway's registration may end sooner than what the reaper scheduled.
      onEvent: (event) => {
        if (event.type === 'register') this.#reaper.noteRegistered(event.service);
      },
      // The store may have restarted empty: read the claims in full before the next decision.
      onResync: () => this.#claims.invalidate(),
    });
    this.#probe = new RedisProbe(client, opts.probeTimeoutMs, opts.clock);
    this.#claims = new ClaimQueue({
      store: new RedisClaimStore(this.#commands, this.#keys),
      book: new ClaimBook(),
      clock: opts.clock,
      maxBatch: CLAIM_BATCH,
      onClaimed: (service, now) => this.#touches.noted(service, now),
    });
  }

  /** PING on the probe connections (every master of a cluster); rejects when one does not answer. */
  probe(): Promise<void> {
    return this.#probe.ping();
  }

  /**
   * Drops and reopens the command connections (when owned) and the subscriber, which then
   * reports `resync`: sockets from before a partition may sit in TCP backoff for seconds.
   */
  reconnect(): void {
    if (this.#closed) return;
    if (this.#owns) this.client.disconnect(true);
    this.#watch.reconnect();
  }

  async register(input: RegistrationInput, lease: LeaseOptions, owner?: RegisterOwnership): Promise<ServiceInstance> {
    validateRegistration(input, lease);
    const instanceId = instanceIdFor(input);
    const doc = JSON.stringify(instanceDoc(input, instanceId));
    const status = input.status ?? 'UP';
    const ownership = [owner?.newTokenHash ?? '', owner?.source ?? '', ...proofArgs(owner), owner?.reclaim ?? 'none'];
    const service = input.service;
    const tuple = await this.#run(async () => {
      const now = this.#opts.clock.now();
      const [instanceKey, expiryKey, ...argv] = instanceArgs(this.#keys, service, instanceId, now);
      // One round trip: the script adds the service's name to the set itself, except on a cluster,
      // where the set is in another slot and only a service not yet marked listed costs two more.
      const cluster = this.type === 'REDIS_CLUSTER';
      const reply = await this.#commands.fgRegister(
        instanceKey,
        expiryKey,
        cluster ? this.#keys.listed(service) : this.#keys.services,
        ...argv,
        doc,
        ...expiryArgs(now, lease, this.#opts.retainMs),
        status,
        ...ownership,
        cluster ? 'mark' : 'add',
      );
      if (reply !== NOT_OWNER && (reply as string[])[6] === '0') {
        // After the script, never before (see RedisReaper's cleanup of empty services); the mark
        // only once the name is in the set.
        await this.client.sadd(this.#keys.services, service);
        await this.client.set(this.#keys.listed(service), '1');
      }
      this.#reaper.noteRegistered(service);
      return reply;
    });
    if (tuple === NOT_OWNER) throw notOwner(service, instanceId);
    return instanceFromTuple(tuple as InstanceTuple);
  }

  async heartbeat(
    service: string,
    instanceId: string,
    lease: LeaseOptions,
    proof?: OwnerProof,
  ): Promise<ServiceInstance> {
    validateLease(lease);
    await this.#beats.wait();
    const tuple = await this.#run(async () => {
      const now = this.#opts.clock.now();
      const args = instanceArgs(this.#keys, service, instanceId, now);
      return this.#commands.fgHeartbeat(...args, ...expiryArgs(now, lease, this.#opts.retainMs), ...proofArgs(proof));
    });
    if (tuple === null) throw unknownInstance(service, instanceId);
    if (tuple === NOT_OWNER) throw notOwner(service, instanceId);
    const instance = instanceFromTuple(tuple as InstanceTuple);
    if (this.#watch.watching) this.#echoes.renewed(instance);
    if (instance.routes.length > 0 && this.#touches.due(service, this.#opts.clock.now(), lease.ttlMs)) {
      // Lazily keeps the service's route claim alive; a failure here must not fail the heartbeat.
      this.#claims.claim(service, claimRoutesOf(instance.routes), lease.ttlMs, false).catch(() => {});
    }
    return instance;
  }

  /** Claims `routes` for `service` in the shared claims hash (see store-claim-queue.ts). */
  async claimRoutes(service: string, routes: readonly RouteSpec[], lease: LeaseOptions): Promise<void> {
    validateLease(lease);
    if (routes.length === 0) return;
    await this.#run(() => this.#claims.claim(service, claimRoutesOf(routes), lease.ttlMs, true));
  }

  async deregister(service: string, instanceId: string, proof?: OwnerProof): Promise<boolean> {
    const removed = await this.#run(() =>
      this.#commands.fgDeregister(
        ...instanceArgs(this.#keys, service, instanceId, this.#opts.clock.now()),
        ...proofArgs(proof),
      ),
    );
    if (removed === NOT_OWNER) throw notOwner(service, instanceId);
    return removed === 1;
  }

  async setStatus(
    service: string,
    instanceId: string,
    status: InstanceStatus,
    proof?: OwnerProof,
  ): Promise<ServiceInstance | undefined> {
    validateStatus(status);
    const tuple = await this.#run(() =>
      this.#commands.fgSetStatus(
        ...instanceArgs(this.#keys, service, instanceId, this.#opts.clock.now()),
        status,
        ...proofArgs(proof),
      ),
    );
    if (tuple === NOT_OWNER) throw notOwner(service, instanceId);
    return tuple === null ? undefined : instanceFromTuple(tuple as InstanceTuple);
  }

  async get(service: string, instanceId: string): Promise<ServiceInstance | undefined> {
    const tuple = await this.#run(() =>
      this.client.hmget(
        this.#keys.instance(service, instanceId),
        'doc',
        'registeredAt',
        'lastHeartbeat',
        'expiresAt',
        'status',
        'epoch',
      ),
    );
    if (tuple[0] === null) return undefined;
    const instance = instanceFromTuple(tuple as InstanceTuple);
    return instance.expiresAt > this.#opts.clock.now() ? instance : undefined;
  }

  async list(service?: string): Promise<ServiceInstance[]> {
    return this.#run(async () => {
      const services = service === undefined ? await this.client.smembers(this.#keys.services) : [service];
      const now = String(this.#opts.clock.now());
      const lists = await Promise.all(
        services.map((s) => this.#commands.fgList(this.#keys.expiry(s), this.#keys.instancePrefix(s), now)),
      );
      return lists.flat().map((t) => instanceFromTuple(t as InstanceTuple));
    });
  }

  /** Subscribes to changes from every gateway on this store (redis-watch.ts). Returns the unsubscribe function. */
  watch(onEvent: RegistryWatcher): () => void {
    if (this.#closed) return () => {};
    return this.#watch.add(onEvent);
  }

  /** Whether the command connection is up. */
  isConnected(): boolean {
    return !this.#closed && this.client.status === 'ready';
  }

  /** Whether this backend currently holds the reaper lock (for tests and diagnostics). */
  get isReaper(): boolean {
    return this.#reaper.holdsLock;
  }

  /**
   * `host:port` of every node the watch subscription listens on, once watching (diagnostics,
   * tests): the server, or on a cluster every master.
   */
  get subscriberAddresses(): string[] {
    return this.#watch.addresses;
  }

  /** Runs one reaper round now (normally timer-driven). */
  reap(): Promise<void> {
    return this.#reaper.tick();
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
    this.#reaperTimer.cancel();
    this.#probe.close();
    const watchClosed = this.#watch.close(); // no watcher sees an event from here on
    await this.#reaper.close();
    await watchClosed;
    if (this.#owns) {
      if (this.client.status === 'ready') await this.client.quit().catch(() => this.client.disconnect());
      else this.client.disconnect();
    }
  }

  /** Runs an operation: closed check, subscription gate, time bound, error mapping. */
  #run<T>(op: () => Promise<T>): Promise<T> {
    // A subscription that cannot complete (store down) must not eat the operation's own time.
    const subscribing = this.#watch.subscribing;
    const gate =
      subscribing === undefined
        ? undefined
        : Promise.race([
            subscribing,
            new Promise<void>((resolve) => this.#opts.clock.setTimeout(resolve, this.#opts.commandTimeoutMs)),
          ]);
    return storeCall(
      {
        clock: this.#opts.clock,
        limitMs: this.#opts.commandTimeoutMs + 1000,
        type: this.type,
        store: this.type === 'REDIS' ? 'redis' : 'redis cluster',
        isClosed: () => this.#closed,
        gate,
      },
      op,
    );
  }
}

/** Most claims written in one script (one gateway's registrations waiting together). */
const CLAIM_BATCH = 256;
