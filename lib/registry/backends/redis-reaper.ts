/**
 * The single reaper of a Redis registry: every gateway runs one, only the holder of
 * `<prefix>:reaper-lock` (SET NX PX, renewed by compare-and-set) does any work. It removes
 * expired instances service by service and publishes one `expire` each.
 *
 * Exactly-once does not depend on the lock: each batch is one atomic script that deletes and
 * publishes together, so two reapers overlapping (a holder paused past its lock's TTL) find
 * nothing to do twice. The lock only saves the other gateways the work.
 */
import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { Clock } from '../../clock.js';
import type { Logger } from '../../logger.js';
import type { RegistryCommands } from './redis-commands.js';
import type { RedisKeys } from './redis-keys.js';

/** Options for {@link RedisReaper}. */
export interface RedisReaperOptions {
  client: Redis | Cluster;
  commands: RegistryCommands;
  keys: RedisKeys;
  clock: Clock;
  /** TTL of the lock; a dead holder is replaced after at most this long. */
  lockTtlMs: number;
  logger: Logger;
  /** Expired instances removed per script call. @default 100 */
  batchSize?: number;
}

/** Lock-guarded expiry sweeps over every service's sorted set. */
export class RedisReaper {
  readonly #o: RedisReaperOptions;
  readonly #token = randomUUID();
  readonly #batch: number;
  #held = false;
  #running: Promise<void> | undefined;
  #failing = false;
  #closed = false;

  constructor(options: RedisReaperOptions) {
    this.#o = options;
    this.#batch = options.batchSize ?? 100;
  }

  /** Whether this reaper held the lock at its latest round. */
  get holdsLock(): boolean {
    return this.#held;
  }

  /** One round: take or renew the lock, then reap if held. Concurrent calls share the round. Never rejects. */
  tick(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#running ??= this.#round().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** Stops reaping and releases the lock so another gateway takes over at its next round. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#running;
    if (!this.#held) return;
    this.#held = false;
    const { commands, keys } = this.#o;
    await Promise.race([
      commands.fgLockRelease(keys.reaperLock, this.#token).catch(() => 0),
      new Promise<void>((resolve) => this.#o.clock.setTimeout(resolve, 1000)),
    ]);
  }

  async #round(): Promise<void> {
    try {
      if (!(await this.#acquire())) return;
      const services = await this.#o.client.smembers(this.#o.keys.services);
      for (const service of services) {
        if (this.#closed) return;
        await this.#reapService(service);
      }
      if (this.#failing) this.#o.logger.info('[fleetgate] redis registry reaper recovered');
      this.#failing = false;
    } catch (err) {
      if (!this.#failing) this.#o.logger.warn(`[fleetgate] redis registry reaper failed: ${String(err)}`);
      this.#failing = true;
    }
  }

  async #acquire(): Promise<boolean> {
    const { client, commands, keys, lockTtlMs } = this.#o;
    if (this.#held) {
      this.#held = (await commands.fgLockRenew(keys.reaperLock, this.#token, String(lockTtlMs))) === 1;
      if (this.#held) return true;
    }
    this.#held = (await client.set(keys.reaperLock, this.#token, 'PX', lockTtlMs, 'NX')) === 'OK';
    return this.#held;
  }

  async #reapService(service: string): Promise<void> {
    const { client, commands, keys } = this.#o;
    for (;;) {
      const now = String(this.#o.clock.now());
      const [, examined, left] = await commands.fgReap(
        keys.expiry(service),
        keys.channel,
        service,
        keys.instancePrefix(service),
        now,
        String(this.#batch),
      );
      if (examined >= this.#batch) continue;
      if (left === 0) {
        // register() runs its script before its SADD: a register racing this cleanup either
        // re-adds the name after our SREM or has filled the sorted set before our check.
        await client.srem(keys.services, service);
        if ((await client.exists(keys.expiry(service))) === 1) await client.sadd(keys.services, service);
      }
      return;
    }
  }
}
