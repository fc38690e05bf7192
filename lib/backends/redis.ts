/**
 * The `fleetgate/backends/redis` entry point: the Redis and Redis Cluster registry backend. The
 * Redis check lease and rate-limit store come from the main entry (`RedisCheckLease`, `RedisStore`).
 */
export { REDIS_BACKEND_DEFAULTS, RedisBackend, type RedisBackendOptions } from '../registry/backends/redis.js';
