/**
 * The "one gateway probes each instance" lease on a real Redis: SET NX PX, holder-only renew and
 * release, real expiry, and two checkers sharing it.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { RedisCheckLease } from '../lib/health/check-lease.js';
import { HealthChecker } from '../lib/health/health-checker.js';
import type { Probe } from '../lib/health/probes.js';
import { MemoryBackend } from '../lib/registry/backends/memory.js';
import { Registry } from '../lib/registry/registry.js';
import { type RedisServer, redisSkipReason, startRedis } from '../sandbox/servers/redis-server.js';
import { waitUntil } from '../sandbox/servers/wait.js';

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

  it('one holder at a time; renew and release by the holder only; expires on its own', async () => {
    const lease = new RedisCheckLease(client, { prefix: `e2e:${randomUUID()}:` });
    assert.equal(await lease.tryAcquire('svc/a/1', 'gw1', 300), true);
    assert.equal(await lease.tryAcquire('svc/a/1', 'gw2', 300), false);
    assert.equal(await lease.tryAcquire('svc/a/1', 'gw1', 60_000), true, 'renewed with a longer TTL');
    await lease.release('svc/a/1', 'gw2');
    assert.equal(await lease.tryAcquire('svc/a/1', 'gw2', 300), false, 'only the holder releases');
    await lease.release('svc/a/1', 'gw1');
    assert.equal(await lease.tryAcquire('svc/a/1', 'gw2', 200), true);
    await waitUntil(() => lease.tryAcquire('svc/a/1', 'gw1', 200), {
      description: 'the lease to expire',
      timeoutMs: 3000,
    });
  });

  it('two checkers sharing the lease: one probes, the other takes over when it leaves', async () => {
    const registry = new Registry({ backend: new MemoryBackend(), ownsBackend: true });
    await registry.ready();
    await registry.register({ service: 'svc', instanceId: 'x', url: 'http://127.0.0.1:1', healthEndpoint: '/health' });
    const lease = new RedisCheckLease(client, { prefix: `e2e:${randomUUID()}:` });
    const probes: string[] = [];
    const probe =
      (name: string): Probe =>
      async () => {
        probes.push(name);
        return { healthy: true, responseTimeMs: 0 };
      };
    const opts = { registry, lease, intervalMs: 50, timeoutMs: 50 };
    const a = new HealthChecker({ ...opts, probe: probe('a'), holderId: 'a', random: () => 0 });
    const b = new HealthChecker({ ...opts, probe: probe('b'), holderId: 'b', random: () => 0.5 });
    try {
      a.start();
      b.start();
      await waitUntil(() => probes.length >= 6, { description: 'six probes', timeoutMs: 5000, intervalMs: 10 });
      assert.deepEqual(new Set(probes), new Set(['a']), `probes: ${probes.join('')}`);
      await a.close(); // releases its lease
      const before = probes.length;
      await waitUntil(() => probes.slice(before).includes('b'), {
        description: 'b to take over',
        timeoutMs: 5000,
        intervalMs: 10,
      });
    } finally {
      await a.close();
      await b.close();
      await registry.close();
    }
  });
});
