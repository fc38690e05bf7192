import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { skipOrThrow } from './binaries.js';
import { etcdSkipReason, startEtcd } from './etcd-server.js';
import { freePort, isPortFree, releasePorts } from './free-port.js';
import { ManagedProcess } from './managed-process.js';
import { redisClusterSkipReason, startRedisCluster } from './redis-cluster.js';
import { parseInfo, redisCommand } from './redis-protocol.js';
import { redisSkipReason, startRedis } from './redis-server.js';
import { startTcpProxy } from './tcp-proxy.js';

const run = promisify(execFile);
const redisSkip = await redisSkipReason();
const clusterSkip = await redisClusterSkipReason();
const etcdSkip = await etcdSkipReason();

async function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

describe('harness basics', () => {
  it('hands out distinct free ports below the ephemeral range, with free bus ports', async () => {
    const a = await freePort({ alsoFree: [10000] });
    const b = await freePort({ alsoFree: [10000] });
    assert.notEqual(a, b);
    for (const p of [a, b]) {
      assert.ok(p >= 12000 && p <= 21000 && p + 10000 < 32768, `port ${p}`);
      assert.ok(await isPortFree(p + 10000));
    }
    releasePorts(a, b, a + 10000, b + 10000);
  });

  it('turns a missing prerequisite into a skip reason, or an error in CI', () => {
    const saved = process.env.CI;
    try {
      process.env.CI = 'false';
      assert.equal(skipOrThrow(undefined), undefined);
      assert.equal(skipOrThrow('no redis'), 'no redis');
      process.env.CI = 'true';
      assert.throws(() => skipOrThrow('no redis'), /CI=true/);
    } finally {
      if (saved === undefined) delete process.env.CI;
      else process.env.CI = saved;
    }
  });

  it('stops a process that ignores SIGTERM with SIGKILL after the bound', async () => {
    const proc = new ManagedProcess({
      name: 'stubborn',
      command: process.execPath,
      args: ['-e', "process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000)"],
    });
    const deadline = Date.now() + 5000;
    while (!proc.output().includes('up') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await proc.stop(200);
    assert.equal(proc.running, false);
    assert.equal(await proc.exited, 'SIGKILL');
  });
});

describe('startRedis', { skip: redisSkip }, () => {
  it('starts, survives kill + restart on the same port, and removes its data dir on stop', async () => {
    const redis = await startRedis();
    try {
      assert.equal(await redisCommand(redis.port, ['PING']), 'PONG');
      await redisCommand(redis.port, ['SET', 'k', 'v']);
      await redis.kill();
      assert.ok(await refused(redis.port));
      await redis.restart();
      assert.equal(await redisCommand(redis.port, ['PING']), 'PONG');
      // --save '' and no AOF: a restart loses the data, like a store crash.
      assert.equal(await redisCommand(redis.port, ['GET', 'k']), null);
    } finally {
      await redis.stop();
    }
    assert.ok(await refused(redis.port));
  });
});

describe('crash cleanup', { skip: redisSkip }, () => {
  it('kills servers and deletes their data dirs when the test process dies without stopping them', async () => {
    const harness = fileURLToPath(new URL('./index.ts', import.meta.url));
    const script = `
      const { startRedis, redisCommand } = await import(${JSON.stringify(harness)});
      const redis = await startRedis();
      const dir = (await redisCommand(redis.port, ['CONFIG', 'GET', 'dir']))[1];
      console.log(JSON.stringify({ port: redis.port, dir }));
      process.exit(3); // no stop(): the exit hook must clean up
    `;
    const child = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]).catch(
      (err: { stdout: string; code: number }) => err,
    );
    assert.equal((child as { code?: number }).code, 3);
    const { port, dir } = JSON.parse(child.stdout.trim().split('\n').pop()!) as { port: number; dir: string };
    assert.ok(await refused(port), 'redis-server was killed');
    assert.equal(existsSync(dir), false, 'its data dir was removed');
  });
});

describe('startRedisCluster', { skip: clusterSkip }, () => {
  it('returns only once every node reports cluster_state:ok with all slots, and finds slot owners', async () => {
    await using cluster = await startRedisCluster({ nodes: 3 });
    assert.equal(cluster.addrs.length, 3);
    for (const node of cluster.nodes) {
      const info = parseInfo(await redisCommand(node.port, ['CLUSTER', 'INFO']));
      assert.equal(info.get('cluster_state'), 'ok');
      assert.equal(info.get('cluster_slots_ok'), '16384');
      assert.ok(node.port + 10000 < 32768);
    }
    const owner = await cluster.masterOf('{sagjan}');
    // The owner accepts the key; another master answers MOVED.
    assert.equal(await redisCommand(owner.port, ['SET', '{sagjan}:x', '1']), 'OK');
    const other = cluster.nodes.find((n) => n !== owner)!;
    await assert.rejects(redisCommand(other.port, ['GET', '{sagjan}:x']), /MOVED/);
  });
});

describe('startEtcd', { skip: etcdSkip }, () => {
  it('starts without ETCD_* variables leaking in, and keeps data across kill + restart', async () => {
    process.env.ETCD_NAME = 'leaked-into-the-test-env';
    let etcd: Awaited<ReturnType<typeof startEtcd>> | undefined;
    try {
      etcd = await startEtcd();
    } finally {
      delete process.env.ETCD_NAME;
    }
    try {
      const put = await fetch(`${etcd.url}/v3/kv/put`, {
        method: 'POST',
        body: JSON.stringify({ key: Buffer.from('k').toString('base64'), value: Buffer.from('v').toString('base64') }),
      });
      assert.equal(put.status, 200);
      await etcd.kill();
      assert.ok(await refused(etcd.port));
      await etcd.restart();
      const range = await fetch(`${etcd.url}/v3/kv/range`, {
        method: 'POST',
        body: JSON.stringify({ key: Buffer.from('k').toString('base64') }),
      });
      const body = (await range.json()) as { kvs?: { value: string }[] };
      assert.equal(Buffer.from(body.kvs![0]!.value, 'base64').toString(), 'v');
    } finally {
      await etcd.stop();
    }
    assert.ok(await refused(etcd.port));
  });
});

describe('startTcpProxy', { skip: redisSkip }, () => {
  it('forwards, cuts and restores connections', async () => {
    await using redis = await startRedis();
    await using proxy = await startTcpProxy(redis.port);
    assert.equal(await redisCommand(proxy.port, ['PING']), 'PONG');
    proxy.cut();
    await assert.rejects(redisCommand(proxy.port, ['PING'], { timeoutMs: 500 }));
    proxy.restore();
    assert.equal(await redisCommand(proxy.port, ['PING']), 'PONG');
  });
});

describe('temp data dirs', { skip: redisSkip }, () => {
  it('are removed on stop', async () => {
    const redis = await startRedis();
    const dir = (await redisCommand(redis.port, ['CONFIG', 'GET', 'dir'])) as string[];
    assert.ok(existsSync(dir[1]!));
    await redis.stop();
    assert.equal(existsSync(dir[1]!), false);
  });
});
