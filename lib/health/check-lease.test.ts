import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import RedisMock from 'ioredis-mock';
import { FakeClock } from '../clock.js';
import { type CheckLease, MemoryCheckLease, RedisCheckLease } from './check-lease.js';

// One scenario, run against both implementations (real Redis expiry is exercised in e2e/health-lease.test.ts).
async function contract(lease: CheckLease, expire: (ms: number) => Promise<void>) {
  assert.equal(await lease.tryAcquire('svc/a/1', 'gw1', 1000), true);
  assert.equal(await lease.tryAcquire('svc/a/1', 'gw2', 1000), false, 'held by gw1');
  assert.equal(await lease.tryAcquire('svc/a/1', 'gw1', 1000), true, 'the holder renews');
  assert.equal(await lease.tryAcquire('svc/b/1', 'gw2', 1000), true, 'leases are per key');
  await lease.release?.('svc/a/1', 'gw2'); // not the holder: no effect
  assert.equal(await lease.tryAcquire('svc/a/1', 'gw2', 1000), false);
  await lease.release?.('svc/a/1', 'gw1');
  assert.equal(await lease.tryAcquire('svc/a/1', 'gw2', 1000), true, 'released');
  await expire(1001);
  assert.equal(await lease.tryAcquire('svc/a/1', 'gw1', 1000), true, 'expired');
}

describe('CheckLease', () => {
  it('MemoryCheckLease: one holder at a time, renew, release, expiry on the clock', async () => {
    const clock = new FakeClock(0);
    await contract(new MemoryCheckLease({ clock }), (ms) => clock.advance(ms));
  });

  it('RedisCheckLease: the same contract over SET NX PX and compare-and-act scripts', async () => {
    const client = new RedisMock() as unknown as Redis;
    const lease = new RedisCheckLease(client, { prefix: 't:hc:' });
    // ioredis-mock keeps PX expiry on wall time, so expiry is forced by deleting the key.
    await contract(lease, async () => {
      await client.del('t:hc:{svc/a/1}');
    });
    const ttl = await client.pttl('t:hc:{svc/a/1}');
    assert.ok(ttl > 0 && ttl <= 1000, `pttl ${ttl}`);
    client.disconnect();
  });
});
