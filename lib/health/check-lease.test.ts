import { randomUUID } from 'node:crypto';
import { after, before } from 'node:test';
import { Redis } from 'ioredis';
import { type RedisServer, redisSkipReason, startRedis } from '../../sandbox/servers/index.js';
import { describeCheckLease } from '../conformance/index.js';
import { MemoryCheckLease, RedisCheckLease } from './check-lease.js';

// The shared lease suite (lib/conformance/check-lease-cases.ts) on each implementation in this
// file; etcd: etcd-check-lease.test.ts; Redis Cluster: e2e/redis-cluster-stores.test.ts.
describeCheckLease('memory', () => new MemoryCheckLease());

const skip = await redisSkipReason();
let redis: RedisServer | undefined;
let client: Redis | undefined;
before(async () => {
  if (skip !== undefined) return;
  redis = await startRedis();
  client = new Redis(redis.url);
});
after(async () => {
  client?.disconnect();
  await redis?.stop();
});

describeCheckLease('redis', () => new RedisCheckLease(client!, { prefix: `t-${randomUUID().slice(0, 8)}:` }), { skip });
