import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import RedisMock from 'ioredis-mock';
import { type RedisServer, redisSkipReason, startRedis } from '../../sandbox/servers/index.js';
import { FakeClock } from '../clock.js';
import { hashApiKey, toApiKeyRecord } from './api-key-spec.js';
import { apiKeys } from './api-keys.js';
import { describeKeyStore } from './key-store.test-kit.js';
import { RedisKeyStore } from './redis-key-store.js';

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

// The shared suite on a real redis-server.
describeKeyStore('redis', () => new RedisKeyStore(real!, { prefix: `t-${randomUUID().slice(0, 8)}:`, cacheTtlMs: 0 }), {
  skip,
});

describe('RedisKeyStore', { skip }, () => {
  it('stores digests only, hash-tagged for Redis Cluster; the clear key is never written', async () => {
    const prefix = `t-${randomUUID().slice(0, 8)}:`;
    const store = new RedisKeyStore(real!, { prefix });
    const secret = 'clear-key-0123456789abcdef';
    await store.add({ name: 'mobile', key: secret, permissions: ['comments:read'] });
    const keys = (await real!.keys(`${prefix}*`)).sort();
    assert.deepEqual(keys, [`${prefix}{apikeys}:d:${hashApiKey(secret)}`, `${prefix}{apikeys}:n:mobile`]);
    for (const k of keys) assert.ok(!(await real!.get(k))!.includes(secret));
  });

  it('serves hits from its cache for cacheTtlMs (injected clock), then asks Redis again', async () => {
    const clock = new FakeClock();
    const prefix = `t-${randomUUID().slice(0, 8)}:`;
    const writer = new RedisKeyStore(real!, { prefix });
    const reader = new RedisKeyStore(real!, { prefix, clock, cacheTtlMs: 5000 });
    const record = await writer.add({ name: 'a', key: 'a-key-0123456789abcdef' });
    assert.equal((await reader.lookup(record.sha256))?.name, 'a');
    await writer.remove('a');
    assert.equal((await reader.lookup(record.sha256))?.name, 'a', 'cached on this gateway');
    await clock.advance(5000);
    assert.equal(await reader.lookup(record.sha256), undefined, 'revoked once the cache entry lapsed');
  });

  it('ignores records that are not what it wrote', async () => {
    const prefix = `t-${randomUUID().slice(0, 8)}:`;
    const store = new RedisKeyStore(real!, { prefix, cacheTtlMs: 0 });
    const digest = hashApiKey('x-key-0123456789abcdef');
    for (const raw of [
      'not json',
      'null',
      '{"name":1}',
      JSON.stringify({ name: 'x', sha256: 'other', permissions: [] }),
    ]) {
      await real!.set(`${prefix}{apikeys}:d:${digest}`, raw);
      assert.equal(await store.lookup(digest), undefined, raw);
    }
  });

  it('backs apiKeys() for a fleet: a key added through one gateway store works through another', async () => {
    const prefix = `t-${randomUUID().slice(0, 8)}:`;
    await new RedisKeyStore(real!, { prefix }).put(
      toApiKeyRecord({ name: 'fleet', key: 'fleet-key-0123456789abcdef' }),
    );
    const mw = apiKeys({ store: new RedisKeyStore(real!, { prefix }) });
    const req = {
      method: 'GET',
      url: '/',
      headers: { 'x-api-key': 'fleet-key-0123456789abcdef' },
      rawHeaders: ['x-api-key', 'fleet-key-0123456789abcdef'],
      socket: { remoteAddress: '127.0.0.1' },
    };
    await new Promise<void>((resolve) => mw(req as never, {} as never, () => resolve()));
    assert.equal((req.headers as Record<string, string>)['x-api-key-name'], 'fleet');
    await mw.close();
  });
});

describe('RedisKeyStore (ioredis-mock)', () => {
  it('round-trips a record', async () => {
    const client = new RedisMock() as unknown as Redis;
    const store = new RedisKeyStore(client, { prefix: `m-${randomUUID().slice(0, 8)}:` });
    const r = await store.add({ name: 'm', key: 'm-key-0123456789abcdef', rateLimitClass: 'free' });
    assert.equal((await store.lookup(r.sha256))?.rateLimitClass, 'free');
    client.disconnect();
  });
});
