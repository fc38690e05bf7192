/**
 * Builds the registry backend selected by `REGISTRY_TYPE` (README "Registry backends").
 */
import type { Clock } from '../../clock.js';
import type { FleetgateEnv } from '../../config/env.js';
import type { Logger } from '../../logger.js';
import type { RegistryBackend } from '../model.js';
import { MemoryBackend } from './memory.js';

/** Options for {@link backendFromEnv}. */
export interface BackendFromEnvOptions {
  clock?: Clock;
  /** Receives the store backends' warnings (reaper, watch). @default silent */
  logger?: Logger;
}

/**
 * Creates the backend the environment asks for. The Redis and etcd backends (and their
 * clients, ioredis and etcd3) are loaded only when selected.
 * @example const backend = await backendFromEnv(parseEnv());
 */
export async function backendFromEnv(
  env: Pick<FleetgateEnv, 'registryType' | 'redisAddrs' | 'etcdEndpoints'>,
  options: BackendFromEnvOptions = {},
): Promise<RegistryBackend> {
  const common = {
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  };
  switch (env.registryType) {
    case 'INMEMORY':
      return new MemoryBackend(options.clock === undefined ? {} : { clock: options.clock });
    case 'REDIS':
    case 'REDIS_CLUSTER': {
      const { RedisBackend } = await import('./redis.js');
      return RedisBackend.fromUrls(env.redisAddrs, { ...common, cluster: env.registryType === 'REDIS_CLUSTER' });
    }
    case 'ETCD': {
      const { EtcdBackend } = await import('./etcd.js');
      return EtcdBackend.fromEndpoints(env.etcdEndpoints, common);
    }
    default:
      throw new Error(`REGISTRY_TYPE=${String(env.registryType)} is not available in this build`);
  }
}
