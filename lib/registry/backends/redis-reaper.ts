/**
 * The single reaper of a Redis registry: every gateway runs one, only the holder of
 * `<prefix>:reaper-lock` (SET NX PX, renewed by compare-and-set) does any work. It removes
 * expired instances service by service and publishes one `expire` each.
 *
 * A service is visited only when its earliest expiry is due (the script reports it), when an
 * instance of it was registered since (`noteRegistered`: a shorter lease may end sooner), or
 * every `recheckMs` in any case: visiting all 1,000 services of a fleet every second, one round
 * trip each, cost an idle gateway 6–8 % of a core.
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
  /** Longest a service goes unvisited, whatever its reported expiry. */
  recheckMs: number;
}

/** Lock-guarded expiry sweeps over every service's sorted set. */
export class RedisReaper {
  readonly #o: RedisReaperOptions;
  readonly #token = randomUUID();
  readonly #batch: number;
  #held = false;
  /** service → when to visit it next (absent: at the next round). */
  #due = new Map<string, number>();
  /** Services registered since the current round began. */
  readonly #noted = new Set<string>();
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

  /** An instance of `service` was registered: visit it at the next round. */
  noteRegistered(service: string): void {
    this.#due.delete(service);
    this.#noted.add(service);
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
      this.#noted.clear();
      const next = new Map<string, number>();
      for (const service of services) {
        if (this.#closed) return;
        const at = this.#due.get(service);
        next.set(service, at !== undefined && at > this.#o.clock.now() ? at : await this.#reapService(service));
      }
      // Services gone from the set are forgotten; ones registered during the round stay due now.
      for (const service of this.#noted) next.delete(service);
      this.#due = next;
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

  /** Reaps one service; returns when to visit it next. */
  async #reapService(service: string): Promise<number> {
    const { client, commands, keys } = this.#o;
    for (;;) {
      const now = String(this.#o.clock.now());
      const [, examined, left, first] = await commands.fgReap(
        keys.expiry(service),
        keys.channel,
        service,
        keys.instancePrefix(service),
        now,
        String(this.#batch),
      );
      if (examined >= this.#batch) continue;
      if (left === 0 && (await commands.fgUnlist(keys.expiry(service), keys.listed(service))) === 1) {
        // The service's `listed` mark is gone (a cluster's registrations add the name again);
        // register() adds the name in its script, or after it: a register racing this cleanup
        // either re-adds the name after our SREM or has filled the sorted set before our check.
        await client.srem(keys.services, service);
        if ((await client.exists(keys.expiry(service))) === 1) await client.sadd(keys.services, service);
      }
      const recheck = Number(now) + this.#o.recheckMs;
      return first === '' ? recheck : Math.min(Number(first), recheck);
    }
  }
}
