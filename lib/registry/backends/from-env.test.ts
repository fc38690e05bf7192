import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { redisSkipReason, startRedis } from '../../../sandbox/servers/index.js';
import { backendFromEnv } from './from-env.js';

const run = promisify(execFile);
const redisSkip = await redisSkipReason();

describe('backendFromEnv', () => {
  it('does not load ioredis or etcd3 for INMEMORY', async () => {
    const fromEnv = fileURLToPath(new URL('./from-env.ts', import.meta.url));
    const script = `
      import { createRequire } from 'node:module';
      const { backendFromEnv } = await import(${JSON.stringify(fromEnv)});
      const b = await backendFromEnv({ registryType: 'INMEMORY', redisAddrs: [], etcdEndpoints: [] });
      await b.close();
      const loaded = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify({ type: b.type, ioredis: loaded.some((p) => p.includes('/ioredis/')), etcd3: loaded.some((p) => p.includes('/etcd3/')) }));
    `;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]);
    assert.deepEqual(JSON.parse(stdout.trim().split('\n').pop()!), { type: 'INMEMORY', ioredis: false, etcd3: false });
  });

  it('builds REDIS_CLUSTER and ETCD backends from addresses (clients connect lazily)', async () => {
    const cluster = await backendFromEnv({
      registryType: 'REDIS_CLUSTER',
      redisAddrs: ['redis://127.0.0.1:1', 'redis://127.0.0.1:2'],
      etcdEndpoints: [],
    });
    assert.equal(cluster.type, 'REDIS_CLUSTER');
    assert.equal(cluster.isConnected?.(), false);
    await cluster.close();
    const etcd = await backendFromEnv({ registryType: 'ETCD', redisAddrs: [], etcdEndpoints: ['127.0.0.1:1'] });
    assert.equal(etcd.type, 'ETCD');
    await etcd.close();
  });

  it('builds a working REDIS backend', { skip: redisSkip }, async () => {
    await using redis = await startRedis();
    await using backend = await backendFromEnv({ registryType: 'REDIS', redisAddrs: [redis.url], etcdEndpoints: [] });
    assert.equal(backend.type, 'REDIS');
    const inst = await backend.register({ service: 'env', url: 'http://127.0.0.1:1' }, { ttlMs: 60_000 });
    assert.deepEqual(await backend.list('env'), [inst]);
  });
});
