import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  type RedisCluster,
  redisClusterSkipReason,
  redisCommand,
  startRedisCluster,
} from '../../../sandbox/servers/index.js';
import { describeRegistryBackend, waitFor } from '../../conformance/index.js';
import type { RegistryEvent } from '../model.js';
import { race } from './claim-race.test-kit.js';
import { RedisBackend } from './redis.js';
import { RedisKeys } from './redis-keys.js';

const skip = await redisClusterSkipReason();
let cluster: RedisCluster;

// 3 masters with one replica each: the failover test (last) needs replicas to promote.
before(async () => {
  if (skip === undefined) cluster = await startRedisCluster({ nodes: 3, replicas: 1 });
});
after(async () => {
  await cluster?.stop();
});

function backend(prefix: string): RedisBackend {
  return RedisBackend.fromUrls(cluster.addrs, { cluster: true, keyPrefix: prefix, reaperIntervalMs: 200 });
}

describeRegistryBackend('redis-cluster', () => backend('fleetgate-conformance'), { skip, expiryGraceMs: 2500 });

describe('RedisBackend (cluster)', { skip }, () => {
  it('is typed REDIS_CLUSTER and puts every key of a service in one slot', async () => {
    await using b = backend(`t-${randomUUID().slice(0, 8)}`);
    assert.equal(b.type, 'REDIS_CLUSTER');
    const keys = new RedisKeys('fleetgate');
    const port = cluster.nodes[0]!.port;
    for (const service of ['sagjan', 'obr', 'weird}name{x', 'a:b']) {
      const slots = new Set<number>();
      for (const key of [
        keys.instance(service, 'i-1'),
        keys.instance(service, 'other'),
        keys.expiry(service),
        keys.listed(service),
      ]) {
        slots.add(Number(await redisCommand(port, ['CLUSTER', 'KEYSLOT', key])));
      }
      assert.equal(slots.size, 1, `keys of ${service} share one slot`);
    }
  });

  it('two gateways racing 50 times with colliding routes: exactly one winner each', async () => {
    const prefix = `claims-${randomUUID().slice(0, 8)}`;
    await race(() => backend(prefix), 50);
  });

  it("adds a service's name to the set once (then marks it listed), and again after the reaper forgot it", async () => {
    const p = `t-${randomUUID().slice(0, 8)}`;
    await using b = RedisBackend.fromUrls(cluster.addrs, { cluster: true, keyPrefix: p, reaperIntervalMs: 3_600_000 });
    const keys = new RedisKeys(p);
    /** SADD and SET calls over every master so far (a replica counts the writes it replays). */
    const calls = async (): Promise<{ sadd: number; set: number }> => {
      let sadd = 0;
      let set = 0;
      for (const node of cluster.nodes) {
        const info = String(await redisCommand(node.port, ['INFO', 'everything']));
        if (!info.includes('role:master')) continue;
        sadd += Number(/cmdstat_sadd:calls=(\d+)/.exec(info)?.[1] ?? 0);
        set += Number(/cmdstat_set:calls=(\d+)/.exec(info)?.[1] ?? 0);
      }
      return { sadd, set };
    };
    const register = (id: string, ttlMs = 60_000) =>
      b.register({ service: 'listed', instanceId: id, url: 'http://127.0.0.1:1' }, { ttlMs });
    const c0 = await calls();
    await register('l-1', 300);
    for (const id of ['l-2', 'l-3', 'l-4']) await register(id, 300);
    const c1 = await calls();
    assert.deepEqual({ sadd: c1.sadd - c0.sadd, set: c1.set - c0.set }, { sadd: 1, set: 1 }, 'only the first');
    const servicesSet = async () =>
      (await redisCommand((await cluster.masterOf(keys.services)).port, ['SMEMBERS', keys.services])) as string[];
    assert.deepEqual(await servicesSet(), ['listed']);
    // Everything expires; the reaper forgets the service and its mark, so the next registration adds it again.
    await waitFor(async () => (await b.list('listed')).length === 0, { timeoutMs: 5000, description: 'expiry' });
    await b.reap();
    assert.deepEqual(await servicesSet(), []);
    const master = await cluster.masterOf(`{listed}`);
    assert.equal(Number(await redisCommand(master.port, ['EXISTS', keys.listed('listed')])), 0, 'mark gone');
    const c2 = await calls();
    await register('l-5');
    const c3 = await calls();
    assert.deepEqual({ sadd: c3.sadd - c2.sadd, set: c3.set - c2.set }, { sadd: 1, set: 1 });
    assert.deepEqual(await servicesSet(), ['listed']);
    assert.deepEqual(
      (await b.list()).map((i) => i.instanceId),
      ['l-5'],
    );
  });

  it('spreads services over the masters (MOVED handled) and lists them all', async () => {
    const p = `t-${randomUUID().slice(0, 8)}`;
    await using b = backend(p);
    const services = Array.from({ length: 12 }, (_, i) => `spread-${i}`);
    const owners = new Set<number>();
    for (const s of services) {
      await b.register({ service: s, instanceId: 'i', url: 'http://127.0.0.1:1' }, { ttlMs: 60_000 });
      owners.add((await cluster.masterOf(`{${s}}`)).port);
    }
    assert.ok(owners.size > 1, 'services live on more than one master');
    const listed = (await b.list()).map((i) => i.service).sort();
    assert.deepEqual(listed, [...services].sort());
  });

  it('survives the failover of the primary owning a service, losing no registration', async () => {
    const p = `t-${randomUUID().slice(0, 8)}`;
    await using a = backend(p);
    await using watcher = backend(p);
    const events: RegistryEvent[] = [];
    const resyncs: number[] = [];
    watcher.watch((e) => {
      if (e.type === 'resync') resyncs.push(Date.now());
      else events.push(e);
    });
    await watcher.list();
    const service = 'failover';
    const ids = Array.from({ length: 20 }, (_, i) => `f-${i}`);
    for (const id of ids) await a.register({ service, instanceId: id, url: 'http://127.0.0.1:5' }, { ttlMs: 60_000 });
    await cluster.waitForReplication();

    const primary = await cluster.masterOf(`{${service}}`);
    await primary.kill();
    await cluster.waitHealthy();
    const promoted = await cluster.masterOf(`{${service}}`);
    assert.notEqual(promoted.port, primary.port, 'a replica took over the slot');

    // Every registration survived, through whichever node now serves the slot.
    await waitFor(async () => (await a.list(service).catch(() => [])).length === ids.length, {
      timeoutMs: 10_000,
      description: 'all 20 instances to be listed after failover',
    });
    const hb = await waitFor(() => a.heartbeat(service, 'f-0', { ttlMs: 60_000 }).catch(() => undefined), {
      timeoutMs: 10_000,
      description: 'a heartbeat to succeed after failover',
    });
    assert.equal(hb.epoch, 1);
    // Changes made after the failover still reach the watcher (possibly after a resync).
    await a.register({ service, instanceId: 'after', url: 'http://127.0.0.1:5' }, { ttlMs: 60_000 });
    await waitFor(() => events.some((e) => e.instanceId === 'after'), {
      timeoutMs: 10_000,
      description: 'the watcher to see a register made after failover',
    });
    await primary.restart();
    await cluster.waitHealthy();
  });

  it('listens on every master, and keeps delivering each event once when one of them dies', async () => {
    const p = `t-${randomUUID().slice(0, 8)}`;
    await using a = backend(p);
    await using watcher = backend(p);
    const seen: string[] = [];
    watcher.watch((e) => seen.push(e.type === 'resync' ? 'resync' : `${e.type}:${e.instanceId}`));
    await watcher.list();
    const roles = await Promise.all(
      cluster.nodes.map(async (n) => (await redisCommand(n.port, ['ROLE'])) as unknown[]),
    );
    const masters = cluster.nodes.filter((_, i) => roles[i]?.[0] === 'master');
    await waitFor(() => watcher.subscriberAddresses.length === masters.length || undefined, {
      timeoutMs: 10_000,
      description: 'a link on every master',
    });
    assert.deepEqual(watcher.subscriberAddresses, masters.map((n) => `127.0.0.1:${n.port}`).sort());
    // Three links, one event each: the copies from the other links are dropped.
    await a.register({ service: 'once', instanceId: 'o1', url: 'http://127.0.0.1:6' }, { ttlMs: 60_000 });
    await waitFor(() => seen.includes('register:o1') || undefined, { timeoutMs: 5000, description: 'the event' });
    const node = masters[0]!;
    await node.kill();
    await cluster.waitHealthy();
    await waitFor(
      () =>
        a
          .register({ service: 'moved', instanceId: 'm1', url: 'http://127.0.0.1:6' }, { ttlMs: 60_000 })
          .catch(() => undefined),
      { timeoutMs: 10_000, description: 'a register to succeed' },
    );
    await waitFor(() => seen.includes('register:m1') || undefined, {
      timeoutMs: 5000,
      description: 'the register event',
    });
    // The dead node is no master any more: its link goes, the promoted replica gets one.
    await waitFor(() => !watcher.subscriberAddresses.includes(`127.0.0.1:${node.port}`) || undefined, {
      timeoutMs: 10_000,
      description: 'the dead node dropped from the links',
    });
    assert.equal(seen.filter((e) => e === 'register:o1').length, 1);
    assert.equal(seen.filter((e) => e === 'register:m1').length, 1);
    await node.restart();
  });
});
