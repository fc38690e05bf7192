/**
 * The "one gateway probes each instance" lease on a real Redis: SET NX PX, holder-only renew and
 * release, real expiry, and two checkers sharing it.
 */
import { randomUUID } from 'node:crypto';
import { after, before, describe } from 'node:test';
import { Redis } from 'ioredis';
import { RedisCheckLease } from '../lib/health/check-lease.js';
import { type RedisServer, redisSkipReason, startRedis } from '../sandbox/servers/redis-server.js';
import { checkLeaseScenarios } from './support/check-lease-scenarios.js';

const skip = await redisSkipReason();

describe('RedisCheckLease on a real Redis', { skip }, () => {
  let redis: RedisServer;
  let client: Redis;
  before(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
  });
  after(async () => {
    client?.disconnect();
    await redis?.stop();
  });

  checkLeaseScenarios(() => new RedisCheckLease(client, { prefix: `e2e:${randomUUID()}:` }), { expiryTimeoutMs: 3000 });
});
