/**
 * Runs the store through the test-server harness (local binaries or testcontainers) and adapts
 * its handles to {@link RunningStore}. Loaded lazily: the memory backend never imports it.
 */
import {
  type EtcdServer,
  type RedisCluster,
  type RedisServer,
  redisCommand,
  startEtcd,
  startRedis,
  startRedisCluster,
} from '../servers/index.js';
import type { SandboxBackend } from '../state-file.js';
import { REGISTRY_TYPE_OF, type RunningStore, type StoreProviderName } from './store.js';

type Handle = RedisServer | RedisCluster | EtcdServer;

/**
 * Starts the store and returns the sandbox's view of it.
 * @example const store = await startHarnessStore('redis', 'local'); // redis://127.0.0.1:<port>
 */
export async function startHarnessStore(
  backend: Exclude<SandboxBackend, 'memory'>,
  provider: Exclude<StoreProviderName, 'memory'>,
): Promise<RunningStore> {
  let handle: Handle;
  let url: string;
  let gatewayEnv: Record<string, string>;
  let flushTargets: Array<{ host: string; port: number }> = [];
  let etcdUrl: string | undefined;
  switch (backend) {
    case 'redis': {
      const h = await startRedis({ provider });
      handle = h;
      url = h.url;
      gatewayEnv = { REGISTRY_REDIS_ADDR: h.url };
      flushTargets = [{ host: h.host, port: h.port }];
      break;
    }
    case 'redis-cluster': {
      // A replica per master, so a primary can fail over (the cluster-failover drill).
      const h = await startRedisCluster({ nodes: 3, replicas: 1 });
      handle = h;
      url = h.addrs.join(',');
      gatewayEnv = { REGISTRY_REDIS_ADDR: url };
      flushTargets = h.nodes.map((n) => ({ host: '127.0.0.1', port: n.port }));
      break;
    }
    case 'etcd': {
      const h = await startEtcd({ provider });
      handle = h;
      url = h.endpoints.join(',');
      etcdUrl = h.url;
      gatewayEnv = { REGISTRY_ETCD_ENDPOINTS: url };
      break;
    }
  }
  let running = true;
  let closed = false;
  const server =
    backend === 'redis-cluster'
      ? 'redis cluster (3 masters, 3 replicas)'
      : backend === 'etcd'
        ? 'etcd'
        : 'redis-server';
  return {
    backend,
    provider: handle.provider,
    description: `${server} via ${handle.provider === 'local' ? 'local binary' : 'testcontainers'} at ${url}`,
    url,
    gatewayEnv: { REGISTRY_TYPE: REGISTRY_TYPE_OF[backend], ...gatewayEnv },
    // The harness does not expose pids; its processes share the supervisor's process group, so
    // `down` cleaning up after a dead supervisor reaches them through that group.
    pids: () => [],
    get running() {
      return running && !closed;
    },
    async stop() {
      await handle.kill();
      running = false;
    },
    async start() {
      await handle.restart();
      running = true;
    },
    async flush() {
      if (etcdUrl !== undefined) {
        // Deletes every key under /fleetgate/ (range end = prefix with its last byte + 1).
        const b64 = (s: string) => Buffer.from(s).toString('base64');
        const res = await fetch(`${etcdUrl}/v3/kv/deleterange`, {
          method: 'POST',
          body: JSON.stringify({ key: b64('/fleetgate/'), range_end: b64('/fleetgate0') }),
          signal: AbortSignal.timeout(3000),
        });
        if (!res.ok) throw new Error(`etcd deleterange answered ${res.status}`);
        return;
      }
      for (const t of flushTargets) {
        // Replicas refuse writes (READONLY); their masters' flush reaches them.
        await redisCommand(t.port, ['FLUSHALL'], { host: t.host, timeoutMs: 3000 }).catch((err: Error) => {
          if (!/READONLY/.test(err.message)) throw err;
        });
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await handle.stop();
    },
  };
}
