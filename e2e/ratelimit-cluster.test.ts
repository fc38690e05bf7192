/**
 * The Redis rate-limit store and check lease on a real Redis Cluster: hash-tagged keys, the script
 * defined on the Cluster client, buckets spread over every master, budgets kept per key.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Cluster } from 'ioredis';
import { RedisCheckLease } from '../lib/health/check-lease.js';
import { RedisStore } from '../lib/ratelimit/redis-store.js';
import { type RedisCluster, redisClusterSkipReason, startRedisCluster } from '../sandbox/servers/redis-cluster.js';

const skip = await redisClusterSkipReason();

describe('rate limit on a real Redis Cluster', { skip }, () => {
  let cluster: RedisCluster;
  let client: Cluster;
  before(async () => {
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

  it('keeps one budget per key whichever master holds it', async () => {
    const store = new RedisStore(client, { prefix: `e2e:${randomUUID()}:` });
    const config = { capacity: 3, refillPerSecond: 0.001 };
    const keys = Array.from({ length: 12 }, (_, i) => `tenant-${i}`);
    const masters = new Set<number>();
    for (const key of keys) {
      const admitted: boolean[] = [];
      for (let i = 0; i < 5; i++) admitted.push((await store.take(key, config, 1)).allowed);
      assert.deepEqual(admitted, [true, true, true, false, false], key);
      masters.add((await cluster.masterOf(store.keyFor(key))).port);
    }
    assert.ok(masters.size > 1, 'the buckets are spread over several masters');
  });

  it('the check lease works on the Cluster client too', async () => {
    const lease = new RedisCheckLease(client, { prefix: `e2e:${randomUUID()}:` });
    assert.equal(await lease.tryAcquire('svc/a/1', 'gw1', 5000), true);
    assert.equal(await lease.tryAcquire('svc/a/1', 'gw2', 5000), false);
    assert.equal(await lease.tryAcquire('svc/a/1', 'gw1', 5000), true);
    await lease.release('svc/a/1', 'gw1');
    assert.equal(await lease.tryAcquire('svc/a/1', 'gw2', 5000), true);
  });
});
