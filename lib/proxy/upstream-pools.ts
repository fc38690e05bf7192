/**
 * One undici `Pool` per upstream origin, with keep-alive, created on first use and closed when
 * the last instance behind it leaves the registry.
 */
import type { ConnectionOptions } from 'node:tls';
import { Pool } from 'undici';
import { type Clock, realClock, type TimerHandle } from '../clock.js';
import { mergeDefined } from '../core/options-merge.js';
import { FleetgateError } from '../errors.js';
import { connectorWithDeadline } from './connect-deadline.js';

/** Connection options shared by every pool. */
export interface UpstreamPoolOptions {
  /** TCP (and TLS) connect timeout in ms. @default 2000 */
  connectTimeoutMs: number;
  /** How long an idle keep-alive connection is kept, in ms (shortened by the server's `Keep-Alive` hint). @default 4000 */
  keepAliveTimeoutMs: number;
  /** Connections per origin; `null` for no limit. @default null */
  connections: number | null;
  /** Times connects and the grace period of {@link UpstreamPools.close}. @default realClock */
  clock: Clock;
  /** TLS options for `https:` origins, checked by lib/upstream/upstream-tls.ts. @default undefined (Node's CA store) */
  tls: ConnectionOptions | undefined;
}

/** Defaults of {@link UpstreamPoolOptions}. Frozen. */
export const UPSTREAM_POOL_DEFAULTS: Readonly<UpstreamPoolOptions> = Object.freeze({
  connectTimeoutMs: 2000,
  keepAliveTimeoutMs: 4000,
  connections: null,
  clock: realClock,
  tls: undefined,
});

/** An instance URL resolved for forwarding. */
export interface Upstream {
  /** The instance URL as registered. */
  readonly url: string;
  /** `protocol://host:port`. */
  readonly origin: string;
  /** A path prefix from the URL (`http://h/base` → `/base`), or `''`. */
  readonly basePath: string;
  readonly pool: Pool;
}

/**
 * The pools, by instance URL.
 * @example
 * await using pools = new UpstreamPools();
 * const up = pools.get('http://127.0.0.1:7812');
 * up.pool.dispatch({ path: '/x', method: 'GET' }, handler);
 */
export class UpstreamPools implements AsyncDisposable {
  readonly #opts: UpstreamPoolOptions;
  readonly #byUrl = new Map<string, Upstream>();
  readonly #byOrigin = new Map<string, { pool: Pool; users: number }>();
  #closed = false;

  constructor(options: Partial<UpstreamPoolOptions> = {}) {
    const opts: UpstreamPoolOptions = mergeDefined(UPSTREAM_POOL_DEFAULTS, options);
    if (!(opts.connectTimeoutMs > 0)) throw new FleetgateError('ERR_FG_INVALID_CONFIG', 'connectTimeoutMs must be > 0');
    this.#opts = opts;
  }

  /** Number of open pools. */
  get size(): number {
    return this.#byOrigin.size;
  }

  /** The upstream for an instance URL, creating its pool on first use. Throws `ERR_FG_CLOSED` after close. */
  get(url: string): Upstream {
    const known = this.#byUrl.get(url);
    if (known !== undefined) return known;
    if (this.#closed) throw new FleetgateError('ERR_FG_CLOSED', 'upstream pools are closed');
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch (cause) {
      throw new FleetgateError('ERR_FG_INVALID_CONFIG', `instance URL "${url}" is not a URL`, { cause });
    }
    let shared = this.#byOrigin.get(parsed.origin);
    if (shared === undefined) {
      shared = {
        pool: new Pool(parsed.origin, {
          connections: this.#opts.connections,
          connect: connectorWithDeadline(this.#opts.connectTimeoutMs, this.#opts.clock, this.#opts.tls),
          keepAliveTimeout: this.#opts.keepAliveTimeoutMs,
          // Streams such as SSE may stay quiet for long; idle limits belong to the route, not the socket.
          bodyTimeout: 0,
          pipelining: 1,
        }),
        users: 0,
      };
      this.#byOrigin.set(parsed.origin, shared);
    }
    shared.users++;
    const basePath = parsed.pathname === '/' ? '' : parsed.pathname.replace(/\/+$/, '');
    const upstream: Upstream = { url, origin: parsed.origin, basePath, pool: shared.pool };
    this.#byUrl.set(url, upstream);
    return upstream;
  }

  /**
   * Forgets an instance URL; when no other URL uses its origin the pool closes gracefully
   * (requests in flight finish, idle sockets go).
   */
  release(url: string): void {
    const upstream = this.#byUrl.get(url);
    if (upstream === undefined) return;
    this.#byUrl.delete(url);
    const shared = this.#byOrigin.get(upstream.origin);
    if (shared === undefined || --shared.users > 0) return;
    this.#byOrigin.delete(upstream.origin);
    shared.pool.close().catch(() => {});
  }

  /** Whether the URL is in use (its origin's pool is open). */
  has(url: string): boolean {
    return this.#byUrl.has(url);
  }

  /** The instance URLs in use. */
  urls(): string[] {
    return [...this.#byUrl.keys()];
  }

  /**
   * Closes every pool: requests in flight may finish for up to `graceMs`, then sockets are destroyed.
   * Idempotent.
   */
  async close(graceMs = 1000): Promise<void> {
    this.#closed = true;
    const pools = [...this.#byOrigin.values()].map((s) => s.pool);
    this.#byOrigin.clear();
    this.#byUrl.clear();
    await Promise.all(
      pools.map(async (pool) => {
        let timer: TimerHandle | undefined;
        const forced = new Promise<void>((resolve) => {
          timer = this.#opts.clock.setTimeout(() => {
            pool.destroy().then(resolve, resolve);
          }, graceMs);
        });
        await Promise.race([pool.close().catch(() => {}), forced]);
        timer?.cancel();
      }),
    );
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
