import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import RedisMock from 'ioredis-mock';
import { type RedisServer, redisSkipReason, startRedis } from '../../sandbox/servers/index.js';
import { FakeClock } from '../clock.js';
import { describeRateLimitStore } from '../conformance/index.js';
import { RedisStore } from './redis-store.js';
import { type BucketState, takeToken } from './token-bucket.js';

const skip = await redisSkipReason();
let redis: RedisServer | undefined;
let real: Redis | undefined;
before(async () => {
  if (skip !== undefined) return;
  redis = await startRedis();
  real = new Redis(redis.url);
});
after(async () => {
  real?.disconnect();
  await redis?.stop();
});

// The shared suite on a real redis-server (Redis Cluster: e2e/redis-cluster-stores.test.ts).
describeRateLimitStore('redis', () => new RedisStore(real!, { prefix: `t-${randomUUID().slice(0, 8)}:` }), { skip });

// The Lua script must compute exactly what the reference takeToken() computes. ioredis-mock runs
// the script in an embedded Lua; e2e/ratelimit-redis.test.ts runs it against a real redis-server.
describe('RedisStore (script semantics, ioredis-mock)', () => {
  it('matches takeToken() step for step on a passed-in clock', async () => {
    const client = new RedisMock() as unknown as Redis;
    const clock = new FakeClock(1_700_000_000_000);
    const store = new RedisStore(client, { clock });
    const config = { capacity: 4, refillPerSecond: 3 };
    let state: BucketState | undefined;
    const steps = [0, 0, 0, 0, 0, 0, 150, 200, 333, 0, 0, 1000, 5000, 1, 1];
    for (const [i, dt] of steps.entries()) {
      await clock.advance(dt);
      const expected = takeToken(state, config, clock.now());
      state = expected.state;
      const got = await store.take('client-1', config, 1);
      const { state: _s, ...decision } = expected;
      assert.deepEqual(got, decision, `step ${i}`);
    }
    client.disconnect();
  });

  it('hash-tags keys and lets idle buckets expire once they would be full', async () => {
    const client = new RedisMock() as unknown as Redis;
    const clock = new FakeClock(1_700_000_000_000);
    const store = new RedisStore(client, { clock, prefix: 'test:rl:' });
    assert.equal(store.keyFor('default|ip:1.2.3.4'), 'test:rl:{default|ip:1.2.3.4}');
    await store.take('k', { capacity: 10, refillPerSecond: 2 }, 1);
    await store.take('k', { capacity: 10, refillPerSecond: 2 }, 1);
    const ttl = await client.pttl('test:rl:{k}');
    // Two tokens short at 2/s: full in 1000 ms, kept 1 s longer.
    assert.ok(ttl > 1000 && ttl <= 2000, `pttl ${ttl}`);
    // A second store on the same client reuses the defined command.
    const again = new RedisStore(client, { clock, prefix: 'test:rl:' });
    assert.equal((await again.take('k', { capacity: 10, refillPerSecond: 2 }, 1)).remaining, 7);
    client.disconnect();
  });

  it('uses the server TIME when no clock is given', async () => {
    const client = new RedisMock() as unknown as Redis;
    const store = new RedisStore(client);
    const cfg = { capacity: 2, refillPerSecond: 0.001 };
    const results = [await store.take('t', cfg, 1), await store.take('t', cfg, 1), await store.take('t', cfg, 1)];
    assert.deepEqual(
      results.map((r) => r.allowed),
      [true, true, false],
    );
    assert.ok(results[2]!.retryAfterMs > 0);
    client.disconnect();
  });
});
