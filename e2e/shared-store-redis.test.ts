/**
 * Two `fleetgate` processes on one real Redis (`REGISTRY_TYPE=REDIS`): cross-gateway
 * propagation, expiry of a crashed service, and a Redis outage under load. The scenario is
 * shared with etcd: e2e/support/shared-store-scenario.ts. Redis runs without persistence, so
 * its restart loses every key and recovery goes through the clients' re-registration.
 */
import { redisSkipReason, startRedis } from '../sandbox/servers/index.js';
import { describeSharedStoreScenario } from './support/shared-store-scenario.js';

describeSharedStoreScenario({
  name: 'redis',
  skip: await redisSkipReason(),
  async start() {
    const redis = await startRedis();
    return {
      env: { REGISTRY_TYPE: 'REDIS', REGISTRY_REDIS_ADDR: redis.url },
      kill: () => redis.kill(),
      restart: () => redis.restart(),
      stop: () => redis.stop(),
    };
  },
});
