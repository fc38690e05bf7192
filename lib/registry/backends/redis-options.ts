/**
 * Options of the Redis registry backend.
 */
import type { Cluster, Redis } from 'ioredis';
import { type Clock, realClock } from '../../clock.js';
import { type Logger, noopLogger } from '../../logger.js';

/** Options for {@link RedisBackend}. Give `client`, or `addrs` to have one built. */
export interface RedisBackendOptions {
  /** An ioredis `Redis` or `Cluster` client. Not closed by the backend unless `ownsClient`. */
  client: Redis | Cluster | undefined;
  /** Build a client for these `redis://host:port` addresses when no `client` is given (owned). */
  addrs: readonly string[] | undefined;
  /** With `addrs`: build a `Cluster` client. @default false */
  cluster: boolean;
  /** A connection for pub/sub. @default a duplicate of `client` (standalone) or a rotating node connection (cluster) */
  subscriber: Redis | undefined;
  /** Close `client` (and the subscriber we created) on close(). @default false, true when built from `addrs` */
  ownsClient: boolean;
  /** Prefix of every key and of the channel. @default 'fleetgate' */
  keyPrefix: string;
  /** Time source for `registeredAt`/`expiresAt` and for the reaper's timer. @default realClock */
  clock: Clock;
  /** How often the reaper runs; its lock lives 3× this. @default 1000 */
  reaperIntervalMs: number;
  /** How long an instance's hash outlives its TTL so the reaper can report its last value. @default 60000 */
  retainMs: number;
  /** Bound on each command of clients we build, and (plus 1 s) on each whole operation. @default 1000 */
  commandTimeoutMs: number;
  /** Bound on connecting and answering for each liveness probe (PING on a connection of its own). @default 450 */
  probeTimeoutMs: number;
  /**
   * Heartbeats arriving within this many ms of each other renew in one pipeline (one write and
   * one read on the store connection for all of them, and their events arrive together), at the
   * price of up to this much added latency on a heartbeat's answer (lease renewals on a 30 s
   * interval); 0 batches only what one event-loop turn renews (lib/registry/backends/heartbeat-window.ts).
   * @default 20
   */
  heartbeatBatchMs: number;
  /** @default noopLogger */
  logger: Logger;
}

/** Defaults for {@link RedisBackendOptions}. Frozen. */
export const REDIS_BACKEND_DEFAULTS: Readonly<RedisBackendOptions> = Object.freeze({
  client: undefined,
  addrs: undefined,
  cluster: false,
  subscriber: undefined,
  ownsClient: false,
  keyPrefix: 'fleetgate',
  clock: realClock,
  reaperIntervalMs: 1000,
  retainMs: 60_000,
  commandTimeoutMs: 1000,
  probeTimeoutMs: 450,
  heartbeatBatchMs: 20,
  logger: noopLogger,
});
