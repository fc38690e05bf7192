/**
 * With several gateways, each instance should be probed by one gateway at a time. A lease per
 * instance decides which: the holder renews it on every probe, the others skip while it lives,
 * and one of them takes over when the holder stops renewing (crash, shutdown). The verdict itself
 * is shared through `registry.setStatus`, which every gateway sees through its watch.
 */
import type { Cluster, Redis } from 'ioredis';
import { type Clock, realClock } from '../clock.js';

/** Who probes which instance. */
export interface CheckLease {
  /** Takes the lease `key` for `holder` for `ttlMs`, or renews it when `holder` already has it. */
  tryAcquire(key: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up early when `holder` has it (graceful shutdown), so another gateway takes over at once. */
  release?(key: string, holder: string): Promise<void>;
}

/**
 * The single-process lease: the default, and enough for one gateway (or several checkers in one
 * process sharing an instance of it).
 */
export class MemoryCheckLease implements CheckLease {
  readonly #clock: Clock;
  readonly #leases = new Map<string, { holder: string; expiresAt: number }>();

  /** @param options.clock @default realClock */
  constructor(options: { clock?: Clock } = {}) {
    this.#clock = options.clock ?? realClock;
  }

  async tryAcquire(key: string, holder: string, ttlMs: number): Promise<boolean> {
    const now = this.#clock.now();
    const cur = this.#leases.get(key);
    if (cur !== undefined && cur.holder !== holder && cur.expiresAt > now) return false;
    this.#leases.set(key, { holder, expiresAt: now + ttlMs });
    if (this.#leases.size > 1024) this.#prune(now);
    return true;
  }

  async release(key: string, holder: string): Promise<void> {
    if (this.#leases.get(key)?.holder === holder) this.#leases.delete(key);
  }

  #prune(now: number): void {
    for (const [k, v] of this.#leases) if (v.expiresAt <= now) this.#leases.delete(k);
  }
}

// Compare-and-act scripts, so a holder never extends or deletes a lease another gateway took over.
const RENEW_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
const RELEASE_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

type LeaseCommand = (key: string, holder: string, ...args: (string | number)[]) => Promise<number>;

/**
 * Leases in Redis: `SET key holder NX PX ttl`, renewed by the holder through a compare-and-PEXPIRE
 * script. Keys are `<prefix>{<key>}` (hash-tagged for Cluster). The client is injected and not closed.
 * @example new HealthChecker({ registry, lease: new RedisCheckLease(redis) })
 */
export class RedisCheckLease implements CheckLease {
  readonly #client: Redis | Cluster;
  readonly #prefix: string;
  readonly #renew: LeaseCommand;
  readonly #release: LeaseCommand;

  /** @param options.prefix @default 'fleetgate:hc:' */
  constructor(client: Redis | Cluster, options: { prefix?: string } = {}) {
    this.#client = client;
    this.#prefix = options.prefix ?? 'fleetgate:hc:';
    const commands = client as unknown as Record<string, LeaseCommand | undefined>;
    if (typeof commands.fleetgateLeaseRenew !== 'function') {
      client.defineCommand('fleetgateLeaseRenew', { numberOfKeys: 1, lua: RENEW_LUA });
      client.defineCommand('fleetgateLeaseRelease', { numberOfKeys: 1, lua: RELEASE_LUA });
    }
    this.#renew = (commands.fleetgateLeaseRenew as LeaseCommand).bind(client);
    this.#release = (commands.fleetgateLeaseRelease as LeaseCommand).bind(client);
  }

  async tryAcquire(key: string, holder: string, ttlMs: number): Promise<boolean> {
    const k = this.#key(key);
    const ttl = Math.max(1, Math.ceil(ttlMs));
    if ((await this.#client.set(k, holder, 'PX', ttl, 'NX')) === 'OK') return true;
    return (await this.#renew(k, holder, ttl)) === 1;
  }

  async release(key: string, holder: string): Promise<void> {
    await this.#release(this.#key(key), holder);
  }

  #key(key: string): string {
    return `${this.#prefix}{${key}}`;
  }
}
