/**
 * The test-server harness: real Redis, Redis Cluster and etcd for tests, from a container
 * runtime (testcontainers) when one answers or from local binaries otherwise.
 *
 * @example
 * import { redisSkipReason, startRedis } from '../sandbox/servers/index.js'; // from e2e/
 * const skip = await redisSkipReason(); // a reason on a laptop without redis; throws in CI
 * describe('redis backend', { skip }, () => {
 *   let redis: RedisServer;
 *   before(async () => { redis = await startRedis(); });
 *   after(() => redis.stop());
 * });
 */
export { findBinary, inCi, requireBinary, skipOrThrow } from './binaries.js';
export {
  type ContainerRuntimeStatus,
  chooseProvider,
  containerRuntime,
  type ProviderChoice,
  RUNTIME_DETECT_TIMEOUT_MS,
} from './container-runtime.js';
export { ETCD_IMAGE, type EtcdServer, etcdSkipReason, type StartEtcdOptions, startEtcd } from './etcd-server.js';
export { type FreePortOptions, freePort, isPortFree, releasePorts } from './free-port.js';
export { ManagedProcess, type ManagedProcessOptions, removeOnExit, removeTempDir } from './managed-process.js';
export { createNetns, type NetnsLink, netnsSkipReason } from './netns.js';
export {
  type RedisCluster,
  type RedisClusterNode,
  redisClusterSkipReason,
  type StartRedisClusterOptions,
  startRedisCluster,
} from './redis-cluster.js';
export { parseInfo, RespError, type RespValue, redisCommand } from './redis-protocol.js';
export {
  LocalRedisNode,
  type RedisServer,
  redisSkipReason,
  type StartRedisOptions,
  startRedis,
} from './redis-server.js';
export { startTcpProxy, type TcpProxy } from './tcp-proxy.js';
export type { HarnessProvider, TestServer } from './test-server.js';
export { type WaitUntilOptions, waitUntil } from './wait.js';
