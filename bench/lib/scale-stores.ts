/**
 * The stores bench/scale.ts runs a gateway on: in-memory (inside the gateway), Redis, Redis
 * Cluster and etcd, their servers started by the test harness (sandbox/servers). A store whose
 * server cannot start here is skipped with the harness's reason.
 */
import { EtcdBackend } from '../../lib/registry/backends/etcd.js';
import { RedisBackend } from '../../lib/registry/backends/redis.js';
import type { RegistryBackend } from '../../lib/registry/model.js';
import {
  etcdSkipReason,
  redisClusterSkipReason,
  redisSkipReason,
  startEtcd,
  startRedis,
  startRedisCluster,
} from '../../sandbox/servers/index.js';

/** A running store: the gateway's env for it, a backend on it, and how to stop it. */
export interface ScaleStore {
  env: Record<string, string>;
  /** A backend on the same store, for the resync measurement (undefined: memory lives in the gateway). */
  backend: () => RegistryBackend | undefined;
  stop: () => Promise<void>;
}

/**
 * Starts the store `name` (memory, redis, redis-cluster, etcd), or says why it is skipped.
 * @example const store = await startStore('redis'); if (typeof store !== 'string') await store.stop();
 */
export async function startStore(name: string): Promise<ScaleStore | string> {
  switch (name) {
    case 'memory':
      return { env: { REGISTRY_TYPE: 'INMEMORY' }, backend: () => undefined, stop: async () => {} };
    case 'redis': {
      const skip = await redisSkipReason();
      if (skip !== undefined) return skip;
      const s = await startRedis();
      return {
        env: { REGISTRY_TYPE: 'REDIS', REGISTRY_REDIS_ADDR: s.url },
        backend: () => RedisBackend.fromUrls([s.url]),
        stop: () => s.stop(),
      };
    }
    case 'redis-cluster': {
      const skip = await redisClusterSkipReason();
      if (skip !== undefined) return skip;
      const c = await startRedisCluster({ nodes: 3 });
      return {
        env: { REGISTRY_TYPE: 'REDIS_CLUSTER', REGISTRY_REDIS_ADDR: c.addrs.join(',') },
        backend: () => RedisBackend.fromUrls(c.addrs, { cluster: true }),
        stop: () => c.stop(),
      };
    }
    case 'etcd': {
      const skip = await etcdSkipReason();
      if (skip !== undefined) return skip;
      const e = await startEtcd();
      return {
        env: { REGISTRY_TYPE: 'ETCD', REGISTRY_ETCD_ENDPOINTS: e.endpoints.join(',') },
        backend: () => EtcdBackend.fromEndpoints(e.endpoints),
        stop: () => e.stop(),
      };
    }
    default:
      return `unknown backend "${name}"`;
  }
}
