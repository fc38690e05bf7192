/**
 * ioredis clients configured for a registry: commands fail fast while the store is down (the
 * gateway keeps serving from its cache and reports `degraded`) while the client keeps
 * reconnecting in the background, at most a second apart.
 */
import { Cluster, type ClusterNode, Redis, type RedisOptions } from 'ioredis';

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
  if (options.cluster !== true) return new Redis(addrs[0]!, connectionOptions(commandTimeoutMs));
  return new Cluster(addrs.map(parseRedisAddr), {
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
 * Opens the `attempt`-th subscriber connection for `client`. Standalone: a duplicate that
 * reconnects forever. Cluster: a plain connection to one node, rotating through the known nodes
 * (any node receives every PUBLISH) and giving up on a node after a few failed reconnects.
 */
export function openSubscriber(client: Redis | Cluster, attempt: number, commandTimeoutMs: number): Redis {
  const base: RedisOptions = { maxRetriesPerRequest: null, enableOfflineQueue: true, autoResubscribe: false };
  if (!isCluster(client)) return client.duplicate({ ...base, retryStrategy: reconnectDelay });
  const seen = new Set<string>();
  const nodes: { host: string; port: number }[] = [];
  const known = [
    ...client.nodes('all').map((n) => ({ host: n.options.host ?? '127.0.0.1', port: n.options.port ?? 6379 })),
    // The seed list is private in ioredis's typings but needed before the first slots refresh.
    ...((client as unknown as { startupNodes?: ClusterNode[] }).startupNodes ?? []).map((n) =>
      typeof n === 'object' ? n : parseRedisAddr(String(n)),
    ),
  ];
  if (known.length === 0) throw new TypeError('the cluster client knows no nodes to subscribe on');
  for (const n of known) {
    const key = `${n.host}:${n.port}`;
    if (n.port === undefined || seen.has(key)) continue;
    seen.add(key);
    nodes.push({ host: n.host ?? '127.0.0.1', port: Number(n.port) });
  }
  const node = nodes[attempt % nodes.length]!;
  return new Redis({
    ...connectionOptions(commandTimeoutMs),
    ...client.options.redisOptions,
    ...base,
    host: node.host,
    port: node.port,
    // Give this node three tries, then 'end' makes the link move on to the next node.
    retryStrategy: (times: number) => (times > 3 ? null : reconnectDelay(times)),
  });
}
