/**
 * ioredis clients configured for a registry: commands fail fast while the store is down (the
 * gateway keeps serving from its cache and reports `degraded`) while the client keeps
 * reconnecting in the background, at most a second apart.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';

/** Options for {@link createRedisClient}. */
export interface RedisClientOptions {
  /** Build a `Cluster` client (the addresses are seed nodes). @default false */
  cluster?: boolean;
  /** A command not answered within this bound rejects. @default 1000 */
  commandTimeoutMs?: number;
}

/** The most a reconnect waits, in ms. */
export const MAX_RECONNECT_DELAY_MS = 1000;

/** Reconnect backoff: 100 ms, 200 ms, … capped at {@link MAX_RECONNECT_DELAY_MS}, forever. */
export function reconnectDelay(times: number): number {
  return Math.min(100 * times, MAX_RECONNECT_DELAY_MS);
}

/** Per-connection options shared by standalone connections and cluster node connections. */
export function connectionOptions(commandTimeoutMs: number): RedisOptions {
  return {
    // One retry after a reconnect, then reject: a queued command must not wait for a store
    // that may stay down for minutes. commandTimeout bounds commands that were sent.
    maxRetriesPerRequest: 1,
    commandTimeout: commandTimeoutMs,
    connectTimeout: Math.max(commandTimeoutMs, 1000),
    retryStrategy: reconnectDelay,
    enableOfflineQueue: true,
  };
}

/** `redis://host:port` → `{ host, port }` (defaults 127.0.0.1:6379). */
export function parseRedisAddr(addr: string): { host: string; port: number } {
  const url = new URL(addr.includes('://') ? addr : `redis://${addr}`);
  return { host: url.hostname === '' ? '127.0.0.1' : url.hostname, port: url.port === '' ? 6379 : Number(url.port) };
}

/**
 * A standalone or cluster client for `REGISTRY_REDIS_ADDR`.
 * @example const client = createRedisClient(['redis://127.0.0.1:7000', 'redis://127.0.0.1:7001'], { cluster: true });
 */
export function createRedisClient(addrs: readonly string[], options: RedisClientOptions = {}): Redis | Cluster {
  if (addrs.length === 0) throw new TypeError('at least one Redis address is required');
  const commandTimeoutMs = options.commandTimeoutMs ?? 1000;
  // Commands issued in one turn of the event loop (heartbeats that came together, a batch of
  // registrations) go out as one pipeline per node: one write and one read for all of them.
  if (options.cluster !== true) {
    return new Redis(addrs[0]!, { ...connectionOptions(commandTimeoutMs), enableAutoPipelining: true });
  }
  return new Cluster(addrs.map(parseRedisAddr), {
    enableAutoPipelining: true,
    // Registry reads must see the latest writes: never read from a lagging replica.
    scaleReads: 'master',
    clusterRetryStrategy: reconnectDelay,
    enableOfflineQueue: true,
    // Failover takes about cluster-node-timeout; retry redirected or refused commands meanwhile.
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    maxRedirections: 16,
    slotsRefreshTimeout: Math.max(commandTimeoutMs, 1000),
    // Picks up a promoted replica even when no command hit a MOVED yet.
    slotsRefreshInterval: 2000,
    redisOptions: connectionOptions(commandTimeoutMs),
  });
}

/** True for an ioredis `Cluster` client. */
export function isCluster(client: Redis | Cluster): client is Cluster {
  return (client as { isCluster?: boolean }).isCluster === true;
}

/**
 * The subscriber connection of a standalone server: a duplicate of the command client that
 * reconnects forever (a cluster has one per master: {@link openNodeSubscriber}).
 */
export function openSubscriber(client: Redis, commandTimeoutMs: number): Redis {
  return client.duplicate({
    enableAutoPipelining: false,
    commandTimeout: commandTimeoutMs,
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    autoResubscribe: false,
    retryStrategy: reconnectDelay,
  });
}

/**
 * A subscriber connection to one cluster node (lib/registry/backends/redis-cluster-subscriber.ts
 * keeps one on every master): the cluster client's credentials and TLS, reconnecting until the
 * node stops being a master and the link is closed.
 */
export function openNodeSubscriber(
  client: Cluster,
  node: { host: string; port: number },
  commandTimeoutMs: number,
): Redis {
  return new Redis({
    ...connectionOptions(commandTimeoutMs),
    ...client.options.redisOptions,
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    autoResubscribe: false,
    retryStrategy: reconnectDelay,
    host: node.host,
    port: node.port,
  });
}
