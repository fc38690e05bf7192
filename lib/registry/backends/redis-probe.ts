/**
 * The liveness probe of the Redis registry backend: PING on a connection of its own to the
 * server (standalone) or to every master (cluster). A connection that failed a probe is dropped
 * and the next probe opens a fresh one: after a partition the command connections may sit in
 * TCP retransmission backoff for seconds, while a new handshake answers as soon as the link is
 * back. Each PING's deadline is decided after the event loop turned (lib/registry/store-deadline.ts),
 * not by an ioredis timer that fires before a stalled loop reads the PONG already waiting in the
 * socket. lib/registry/store-liveness.ts runs it.
 */
import { type Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Clock } from '../../clock.js';
import { withDeadline } from '../store-deadline.js';
import { describeError } from '../store-errors.js';
import { isCluster } from './redis-connection.js';

/** PINGs a Redis deployment on dedicated connections. */
export class RedisProbe {
  readonly #client: Redis | Cluster;
  readonly #timeoutMs: number;
  readonly #clock: Clock;
  readonly #conns = new Map<string, Redis>();
  /** PINGs not yet settled, per connection. */
  readonly #pending = new WeakMap<Redis, number>();
  #closed = false;

  /**
   * @param client the backend's command client (its options and, for a cluster, its masters).
   * @param timeoutMs bound on connecting and answering each PING; a slower answer is a failure.
   * @param clock the deadlines' time source.
   */
  constructor(client: Redis | Cluster, timeoutMs: number, clock: Clock) {
    this.#client = client;
    this.#timeoutMs = timeoutMs;
    this.#clock = clock;
  }

  /** Resolves when every target answered PING; rejects naming the first one that did not. */
  async ping(): Promise<void> {
    if (this.#closed) throw new Error('the probe is closed');
    try {
      await Promise.all(this.#targets().map((t) => this.#pingOne(t)));
    } catch (err) {
      // A cluster master that does not answer may have been replaced already (failover): re-read
      // the slots now rather than at the next periodic refresh (2 s), so the next probe targets
      // the masters that serve the slots and the store counts as up as soon as writes work.
      const c = this.#client;
      if (isCluster(c)) c.refreshSlotsCache(() => {});
      throw err;
    }
  }

  /** Closes the probe connections. Idempotent. */
  close(): void {
    this.#closed = true;
    for (const conn of this.#conns.values()) conn.disconnect();
    this.#conns.clear();
  }

  #targets(): { host: string; port: number }[] {
    const c = this.#client;
    if (!isCluster(c)) return [{ host: c.options.host ?? '127.0.0.1', port: c.options.port ?? 6379 }];
    const masters = c
      .nodes('master')
      .map((n) => ({ host: n.options.host ?? '127.0.0.1', port: n.options.port ?? 6379 }));
    if (masters.length > 0) return masters;
    // Before the first slots refresh the client knows only its seed nodes.
    return c.nodes('all').map((n) => ({ host: n.options.host ?? '127.0.0.1', port: n.options.port ?? 6379 }));
  }

  async #pingOne(target: { host: string; port: number }): Promise<void> {
    const key = `${target.host}:${target.port}`;
    let conn = this.#conns.get(key);
    // A connection still waiting on an earlier PING may be stuck behind a lost handshake or in
    // retransmission backoff: a fresh one answers as soon as the store can.
    if (conn !== undefined && (this.#pending.get(conn) ?? 0) > 0) conn = undefined;
    if (conn === undefined) {
      conn = new Redis({ ...this.#auth(), ...target, ...this.#connectionOptions() });
      conn.on('error', () => {}); // failures surface as rejected PINGs
      this.#conns.set(key, conn);
    }
    this.#pending.set(conn, (this.#pending.get(conn) ?? 0) + 1);
    try {
      const c = conn;
      await withDeadline(this.#clock, this.#timeoutMs, () => c.ping(), 'PING');
    } catch (err) {
      conn.disconnect();
      if (this.#conns.get(key) === conn) this.#conns.delete(key);
      throw new Error(`${key}: ${describeError(err)}`);
    } finally {
      this.#pending.set(conn, (this.#pending.get(conn) ?? 1) - 1);
    }
  }

  #connectionOptions(): RedisOptions {
    return {
      // The PING's deadline (connecting included) is withDeadline's; ioredis's own timers would fire
      // before a stalled loop reads the answer. This one only bounds a connection nobody waits for.
      connectTimeout: 10 * this.#timeoutMs,
      // One connection attempt: a failed probe connection is replaced, never retried.
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      enableReadyCheck: false,
      enableOfflineQueue: true,
      lazyConnect: false,
    };
  }

  /** Credentials and TLS of the command client, so the probe reaches what it reaches. */
  #auth(): RedisOptions {
    const c = this.#client;
    const o: RedisOptions = isCluster(c) ? (c.options.redisOptions ?? {}) : c.options;
    return {
      ...(o.username === undefined ? {} : { username: o.username }),
      ...(o.password === undefined ? {} : { password: o.password }),
      ...(o.tls === undefined ? {} : { tls: o.tls }),
      ...(o.family === undefined ? {} : { family: o.family }),
    };
  }
}
