/**
 * A gateway process for the `shared-rate-limit` drill: the `fleetgate` bin's gateway
 * (`createGateway()`, configured from the environment like the bin) plus `rateLimit()` with the
 * Redis store, one bucket shared by every process that runs this file against the same Redis.
 *
 * Environment: the bin's variables, plus `DRILL_RL_REDIS` (redis://host:port), `DRILL_RL_PATH`
 * (the limited route pattern), `DRILL_RL_CAPACITY` and `DRILL_RL_REFILL` (tokens per second).
 * Prints `fleetgate listening on http://host:port` like the bin.
 */
import { Redis } from 'ioredis';
import { createGateway } from '../../lib/gateway.js';
import { rateLimit } from '../../lib/ratelimit/rate-limit.js';
import { RedisStore } from '../../lib/ratelimit/redis-store.js';

const env = process.env;
const redis = new Redis(env.DRILL_RL_REDIS ?? 'redis://127.0.0.1:6379', {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
});
const limiter = rateLimit({
  routes: [
    {
      method: 'GET',
      path: env.DRILL_RL_PATH ?? '/**',
      capacity: Number(env.DRILL_RL_CAPACITY ?? 50),
      refillPerSecond: Number(env.DRILL_RL_REFILL ?? 20),
      // Stable across the gateways, so all three take from one bucket.
      id: 'drill-shared-rate-limit',
    },
  ],
  store: new RedisStore(redis),
  // A busy 2-core machine: a store answer later than the default 100 ms would fail open and count as admitted.
  storeTimeoutMs: 1000,
  failMode: 'closed',
});
const gateway = await createGateway({ env, middlewares: [limiter] });
const address = await gateway.listen(Number(env.PORT ?? 0), env.HOST ?? '127.0.0.1');
process.stdout.write(`fleetgate listening on http://${address.address}:${address.port}\n`);
const stop = (): void => {
  void gateway
    .close({ graceMs: 1000 })
    .then(() => redis.quit())
    .finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
