import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { type RedisServer, redisCommand, redisSkipReason, startRedis } from '../../../sandbox/servers/index.js';
import { describeRegistryBackend, waitFor } from '../../conformance/index.js';
import { isFleetgateError } from '../../errors.js';
import type { RegistryEvent } from '../model.js';
import { REDIS_BACKEND_DEFAULTS, RedisBackend } from './redis.js';
import { eventFromMessage, RedisKeys } from './redis-keys.js';

const skip = await redisSkipReason();
let redis: RedisServer;

before(async () => {
  if (skip === undefined) redis = await startRedis();
});
after(async () => {
  await redis?.stop();
});

/** EVALSHA calls the server has run so far (the registry's scripts). */
async function evalshaCalls(): Promise<number> {
  const info = String(await redisCommand(redis.port, ['INFO', 'commandstats']));
  return Number(/cmdstat_evalsha:calls=(\d+)/.exec(info)?.[1] ?? 0);
}

/** Each test gets its own key prefix (and so its own channel and reaper lock) on the shared server. */
function backend(prefix: string, extra: Partial<ConstructorParameters<typeof RedisBackend>[0]> = {}): RedisBackend {
  return RedisBackend.fromUrls([redis.url], { keyPrefix: prefix, reaperIntervalMs: 200, ...extra });
}

function prefix(): string {
  return `t-${randomUUID().slice(0, 8)}`;
}

describe('Redis key layout and wire format', () => {
  it('hash-tags service keys and refuses prefixes that would break the tag', () => {
    const keys = new RedisKeys('fg');
    assert.equal(keys.instance('sagjan', 'a1'), 'fg:{sagjan}:inst:a1');
    assert.equal(keys.expiry('sagjan'), 'fg:{sagjan}:expiry');
    assert.deepEqual([keys.services, keys.reaperLock, keys.channel], ['fg:services', 'fg:reaper-lock', 'fg:events']);
    assert.throws(
      () => new RedisKeys('a{b}'),
      (err) => isFleetgateError(err, 'ERR_FG_INVALID_CONFIG'),
    );
  });

  it('has frozen defaults and validates its options up front', () => {
    assert.ok(Object.isFrozen(REDIS_BACKEND_DEFAULTS));
    assert.throws(
      () => new RedisBackend({}),
      (err) => isFleetgateError(err, 'ERR_FG_INVALID_CONFIG'),
    );
    assert.throws(
      () => RedisBackend.fromUrls(['redis://127.0.0.1:1'], { reaperIntervalMs: 0 }),
      (err) => isFleetgateError(err, 'ERR_FG_INVALID_CONFIG'),
    );
  });

  it('ignores messages that are not registry events', () => {
    for (const m of ['', 'nope', '{}', '{"t":"boom","s":"x","i":"y"}', '{"t":"register","s":1,"i":"y"}', 'null']) {
      assert.equal(eventFromMessage(m), undefined, m);
    }
    assert.deepEqual(eventFromMessage('{"t":"expire","s":"svc","i":"i-1"}'), {
      type: 'expire',
      service: 'svc',
      instanceId: 'i-1',
    });
  });
});

describeRegistryBackend('redis', () => backend('fleetgate-conformance'), { skip, expiryGraceMs: 2500 });

describe('RedisBackend (standalone)', { skip }, () => {
  it('is typed REDIS, reports connected, and keeps every key of a service under its hash tag', async () => {
    const p = prefix();
    await using b = backend(p);
    assert.equal(b.type, 'REDIS');
    await b.register({ service: 'sagjan', instanceId: 'a1', url: 'http://127.0.0.1:7812' }, { ttlMs: 60_000 });
    assert.equal(b.isConnected(), true);
    const keys = (await redisCommand(redis.port, ['KEYS', `${p}:*`])) as string[];
    assert.deepEqual(keys.sort(), [`${p}:services`, `${p}:{sagjan}:expiry`, `${p}:{sagjan}:inst:a1`].sort());
    // The instance hash outlives the TTL (retainMs) so the reaper can report its last value.
    const pttl = Number(await redisCommand(redis.port, ['PTTL', `${p}:{sagjan}:inst:a1`]));
    assert.ok(pttl > 60_000, `pttl ${pttl}`);
  });

  it("registers in one round trip: the script adds the service's name to the set itself", async () => {
    const p = prefix();
    await using b = backend(p, { reaperIntervalMs: 3_600_000 });
    const stats = new Redis(redis.url, { lazyConnect: true });
    await stats.connect();
    try {
      // One connection of our own: each INFO on it is exactly one read for the server.
      const reads = async () => Number(/total_reads_processed:(\d+)/.exec(await stats.info('stats'))?.[1]);
      await b.register({ service: 'warm', instanceId: 'w', url: 'http://127.0.0.1:1' }, { ttlMs: 60_000 });
      const r0 = await reads();
      for (const service of ['one', 'two', 'three'])
        await b.register({ service, instanceId: 'a', url: 'http://127.0.0.1:1' }, { ttlMs: 60_000 });
      const r1 = await reads();
      assert.equal(r1 - r0 - 1, 3, 'one read per registration (less the INFO)');
      const names = (await redisCommand(redis.port, ['SMEMBERS', `${p}:services`])) as string[];
      assert.deepEqual(names.sort(), ['one', 'three', 'two', 'warm']);
    } finally {
      stats.disconnect();
    }
  });

  it('delivers a register made through backend A to backend B’s watch, with the instance', async () => {
    const p = prefix();
    await using a = backend(p);
    await using b = backend(p);
    const events: RegistryEvent[] = [];
    b.watch((e) => {
      if (e.type !== 'resync') events.push(e);
    });
    await b.list(); // waits for B's subscription
    const inst = await a.register(
      { service: 'obr', instanceId: 'o1', url: 'http://127.0.0.1:7900' },
      { ttlMs: 60_000 },
    );
    await waitFor(() => events.length >= 1, { timeoutMs: 3000, description: 'B to see the register' });
    assert.equal(events[0]?.type, 'register');
    assert.deepEqual(events[0]?.instance, inst);
  });

  it('reaps with exactly one lock holder: two backends, one expire per instance', async () => {
    const p = prefix();
    await using a = backend(p);
    await using b = backend(p);
    await using watcher = backend(p);
    const expires: string[] = [];
    watcher.watch((e) => {
      if (e.type === 'expire') expires.push(e.instanceId);
    });
    await watcher.list();
    const ids = ['e1', 'e2', 'e3', 'e4', 'e5'];
    for (const id of ids)
      await a.register({ service: 'reap', instanceId: id, url: 'http://127.0.0.1:1' }, { ttlMs: 300 });
    await waitFor(() => expires.length >= ids.length, { timeoutMs: 5000, description: '5 expire events' });
    // More rounds on both backends (and the watcher) find nothing left to reap.
    for (let i = 0; i < 3; i++) await Promise.all([a.reap(), b.reap(), watcher.reap()]);
    assert.deepEqual([...expires].sort(), ids);
    assert.equal([a, b, watcher].filter((x) => x.isReaper).length, 1, 'exactly one lock holder');
    assert.deepEqual(await a.list('reap'), []);
    // The empty service is forgotten.
    assert.deepEqual(await redisCommand(redis.port, ['SMEMBERS', `${p}:services`]), []);
  });

  it('visits only services whose earliest expiry is due, and one registered since at once', async () => {
    const p = prefix();
    await using a = backend(p, { reaperIntervalMs: 60_000 });
    const expires: string[] = [];
    a.watch((e) => {
      if (e.type === 'expire') expires.push(e.instanceId);
    });
    await a.list();
    for (let i = 0; i < 50; i++) {
      await a.register({ service: `long${i}`, instanceId: `l${i}`, url: 'http://127.0.0.1:1' }, { ttlMs: 60_000 });
    }
    await a.reap(); // schedules every service at its expiry, a minute away
    const before = await evalshaCalls();
    for (let i = 0; i < 5; i++) await a.reap();
    // Each round renews the lock (one script); visiting the 50 services would be 50 more.
    assert.ok((await evalshaCalls()) - before <= 5, 'no service visited before it is due');
    // A shorter lease registered into a scheduled service is still reaped on time.
    await a.register({ service: 'long7', instanceId: 'short', url: 'http://127.0.0.1:1' }, { ttlMs: 300 });
    await waitFor(
      async () => {
        await a.reap();
        return expires.includes('short');
      },
      { timeoutMs: 3000, description: 'the short lease reaped' },
    );
    assert.deepEqual(expires, ['short']);
  });

  it('hands the reaper lock over when the holder closes', async () => {
    const p = prefix();
    const a = backend(p);
    await using b = backend(p);
    await a.reap();
    await b.reap();
    assert.equal(a.isReaper, true);
    assert.equal(b.isReaper, false);
    await a.close();
    await b.reap();
    assert.equal(b.isReaper, true);
  });

  it('expire events carry the last known instance even after its TTL passed', async () => {
    const p = prefix();
    await using a = backend(p);
    const events: RegistryEvent[] = [];
    a.watch((e) => {
      if (e.type === 'expire') events.push(e);
    });
    const inst = await a.register(
      { service: 'last', instanceId: 'l1', url: 'http://127.0.0.1:2', metadata: { k: 'v' } },
      { ttlMs: 200 },
    );
    await waitFor(() => events.length === 1, { timeoutMs: 3000, description: 'the expire event' });
    assert.deepEqual(events[0]?.instance, inst);
  });

  it('works with an injected client and subscriber, and leaves them open on close', async () => {
    const client = new Redis(redis.url);
    const subscriber = new Redis(redis.url);
    try {
      const b = new RedisBackend({ client, subscriber, keyPrefix: prefix(), reaperIntervalMs: 200 });
      const seen: string[] = [];
      b.watch((e) => seen.push(e.type));
      await b.register({ service: 'inj', instanceId: 'i1', url: 'http://127.0.0.1:3' }, { ttlMs: 60_000 });
      await waitFor(() => seen.includes('register'), { timeoutMs: 3000, description: 'register event' });
      await b.close();
      assert.equal(await client.ping(), 'PONG');
      assert.equal(subscriber.status, 'ready');
    } finally {
      client.disconnect();
      subscriber.disconnect();
    }
  });

  it('rejects with ERR_FG_STORE_UNAVAILABLE while Redis is down (no hang), then resyncs after restart', async () => {
    // Its own server: killing the shared one would disturb the other tests.
    await using own = await startRedis();
    await using b = RedisBackend.fromUrls([own.url], { keyPrefix: prefix(), reaperIntervalMs: 200 });
    const seen: string[] = [];
    b.watch((e) => seen.push(e.type));
    await b.register({ service: 'down', instanceId: 'd1', url: 'http://127.0.0.1:4' }, { ttlMs: 60_000 });
    await own.kill();
    await waitFor(() => !b.isConnected(), { timeoutMs: 3000, description: 'isConnected() to turn false' });
    const ops = [
      () => b.register({ service: 'down', instanceId: 'd2', url: 'http://127.0.0.1:4' }, { ttlMs: 60_000 }),
      () => b.heartbeat('down', 'd1', { ttlMs: 60_000 }),
      () => b.get('down', 'd1'),
      () => b.list(),
    ];
    for (const op of ops) {
      const started = Date.now();
      await assert.rejects(op(), (err) => isFleetgateError(err, 'ERR_FG_STORE_UNAVAILABLE'));
      // Bounded by commandTimeoutMs (+1 s guard): a down store never makes a caller hang.
      assert.ok(Date.now() - started < 3000, `rejected after ${Date.now() - started} ms`);
    }
    await own.restart();
    await waitFor(() => seen.includes('resync'), { timeoutMs: 5000, description: 'a resync after reconnect' });
    await waitFor(() => b.isConnected(), { timeoutMs: 5000, description: 'isConnected() to turn true' });
    // The data died with the server: the client is told to re-register, and can.
    await assert.rejects(b.heartbeat('down', 'd1', { ttlMs: 60_000 }), (err) =>
      isFleetgateError(err, 'ERR_FG_UNKNOWN_INSTANCE'),
    );
    await b.register({ service: 'down', instanceId: 'd1', url: 'http://127.0.0.1:4' }, { ttlMs: 60_000 });
    assert.equal((await b.list('down')).length, 1);
  });
});
