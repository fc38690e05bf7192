/**
 * The Redis rate-limit store and check lease on a real Redis Cluster: the shared suites
 * (fleetgate/conformance) on the Cluster client, plus buckets spread over every master.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Cluster } from 'ioredis';
import { describeCheckLease, describeRateLimitStore } from '../lib/conformance/index.js';
import { RedisCheckLease } from '../lib/health/check-lease.js';
import { RedisStore } from '../lib/ratelimit/redis-store.js';
import { type RedisCluster, redisClusterSkipReason, startRedisCluster } from '../sandbox/servers/redis-cluster.js';

const skip = await redisClusterSkipReason();
let cluster: RedisCluster | undefined;
let client: Cluster | undefined;
before(async () => {
  if (skip !== undefined) return;
  cluster = await startRedisCluster({ nodes: 3 });
  client = new Cluster(
    cluster.addrs.map((a) => {
      const u = new URL(a);
      return { host: u.hostname, port: Number(u.port) };
    }),
  );
});
after(async () => {
  client?.disconnect();
  await cluster?.stop();
});

const prefix = () => `e2e:${randomUUID().slice(0, 8)}:`;
describeRateLimitStore('redis-cluster', () => new RedisStore(client!, { prefix: prefix() }), { skip });
describeCheckLease('redis-cluster', () => new RedisCheckLease(client!, { prefix: prefix() }), { skip });

describe('RedisStore on a Redis Cluster', { skip }, () => {
  it('spreads buckets over the masters, one budget per key', async () => {
    const store = new RedisStore(client!, { prefix: prefix() });
    const config = { capacity: 3, refillPerSecond: 0.001 };
    const masters = new Set<number>();
    for (let i = 0; i < 12; i++) {
      const key = `tenant-${i}`;
      const admitted: boolean[] = [];
      for (let n = 0; n < 5; n++) admitted.push((await store.take(key, config, 1)).allowed);
      assert.deepEqual(admitted, [true, true, true, false, false], key);
      masters.add((await cluster!.masterOf(store.keyFor(key))).port);
    }
    assert.ok(masters.size > 1, 'the buckets are spread over several masters');
  });
});
