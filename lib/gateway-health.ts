/**
 * The gateway's active health checking, configured from the environment: the furt ladder
 * (`HEALTH_*`), and, when the registry lives in Redis or etcd, a lease in that store so that each
 * instance is probed by one gateway at a time while every gateway sees the shared verdict.
 */
import type { Clock } from './clock.js';
import type { FleetgateEnv } from './config/env.js';
import type { CheckLease } from './health/check-lease.js';
import type { HealthCheckerOptions } from './health/health-check-options.js';
import { HealthChecker } from './health/health-checker.js';
import type { Logger } from './logger.js';
import type { RegistryApi } from './registry/registry-api.js';

/** A started health checker and what must be closed with it. */
export interface GatewayHealth extends AsyncDisposable {
  readonly checker: HealthChecker;
  close(): Promise<void>;
}

/**
 * Starts the checker for a gateway.
 * @example const health = await startGatewayHealth(parseEnv(), registry, { logger, clock });
 */
export async function startGatewayHealth(
  env: FleetgateEnv,
  registry: RegistryApi,
  deps: { logger: Logger; clock: Clock; overrides?: Partial<HealthCheckerOptions> },
): Promise<GatewayHealth> {
  let lease: CheckLease | undefined;
  let closeLease: () => Promise<void> = async () => {};
  if (env.registryType === 'ETCD' && deps.overrides?.lease === undefined) {
    // Loaded only here, so in-memory gateways never load etcd3.
    const [{ createEtcdClient }, { EtcdCheckLease }] = await Promise.all([
      import('./registry/backends/etcd-values.js'),
      import('./health/etcd-check-lease.js'),
    ]);
    const client = createEtcdClient(env.etcdEndpoints);
    lease = new EtcdCheckLease(client);
    closeLease = async () => client.close();
  } else if (
    (env.registryType === 'REDIS' || env.registryType === 'REDIS_CLUSTER') &&
    deps.overrides?.lease === undefined
  ) {
    // Loaded only here, so in-memory gateways never load ioredis.
    const [{ createRedisClient }, { RedisCheckLease }] = await Promise.all([
      import('./registry/backends/redis-connection.js'),
      import('./health/check-lease.js'),
    ]);
    const client = createRedisClient(env.redisAddrs, { cluster: env.registryType === 'REDIS_CLUSTER' });
    lease = new RedisCheckLease(client);
    closeLease = async () => {
      await client.quit().catch(() => client.disconnect());
    };
  }
  const checker = new HealthChecker({
    registry,
    intervalMs: env.healthIntervalMs,
    timeoutMs: env.healthTimeoutMs,
    maxFailures: env.healthMaxFailures,
    downIntervalMs: env.healthDownIntervalMs,
    stopAfter: env.healthStopAfter,
    logger: deps.logger,
    clock: deps.clock,
    ...(lease === undefined ? {} : { lease }),
    ...deps.overrides,
  });
  checker.start();
  const close = async (): Promise<void> => {
    await checker.close();
    await closeLease();
  };
  return { checker, close, [Symbol.asyncDispose]: close };
}
