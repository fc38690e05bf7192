import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type EtcdServer, etcdSkipReason, startEtcd, startTcpProxy } from '../../../sandbox/servers/index.js';
import { describeRegistryBackend, waitFor } from '../../conformance/index.js';
import { isFleetgateError } from '../../errors.js';
import type { RegistryEvent } from '../model.js';
import { ETCD_BACKEND_DEFAULTS, EtcdBackend } from './etcd.js';
import { leaseSeconds, prefixEnd } from './etcd-values.js';

const skip = await etcdSkipReason();
let etcd: EtcdServer;

before(async () => {
  if (skip === undefined) etcd = await startEtcd();
});
after(async () => {
  await etcd?.stop();
});

/** Each test gets its own root on the shared server. */
function root(): string {
  return `/t-${randomUUID().slice(0, 8)}/`;
}

/** A logger that keeps warnings, to tell which recovery path ran. */
function warnings() {
  const lines: string[] = [];
  return { lines, logger: { info: () => {}, warn: (m: string) => lines.push(m), error: (m: string) => lines.push(m) } };
}

/** The distinct leases the instance keys under `r` sit on, sorted. */
async function leasesOf(b: EtcdBackend, r: string): Promise<string[]> {
  const prefix = `${r}services/`;
  const res = await b.client.kv.range({ key: Buffer.from(prefix), range_end: prefixEnd(prefix) });
  return [...new Set(res.kvs.map((kv) => kv.lease))].sort();
}

function recorder(backend: EtcdBackend) {
  const seen: string[] = [];
  const events: RegistryEvent[] = [];
  const stop = backend.watch((e) => {
    if (e.type === 'resync') seen.push('resync');
    else {
      seen.push(`${e.type}:${e.instanceId}`);
      events.push(e);
    }
  });
  return { seen, events, stop };
}

// etcd 3.4 raises a 1 s lease to its 2 s minimum and expires leases in ~0.5 s steps.
describeRegistryBackend('etcd', () => EtcdBackend.fromEndpoints(etcd.endpoints, { root: '/conformance/' }), {
  skip,
  expiryGraceMs: 4000,
});

describe('EtcdBackend options', () => {
  it('has frozen defaults and validates its options up front', () => {
    assert.ok(Object.isFrozen(ETCD_BACKEND_DEFAULTS));
    assert.throws(
      () => new EtcdBackend({}),
      (err) => isFleetgateError(err, 'ERR_FG_INVALID_CONFIG'),
    );
    assert.throws(
      () => EtcdBackend.fromEndpoints(['127.0.0.1:1'], { operationTimeoutMs: 0 }),
      (err) => isFleetgateError(err, 'ERR_FG_INVALID_CONFIG'),
    );
  });
});

describe('EtcdBackend', { skip }, () => {
  it('records the instance its own lease; the key sits on a bucket lease rounded up to whole seconds', async () => {
    assert.deepEqual([leaseSeconds(1), leaseSeconds(999), leaseSeconds(1000), leaseSeconds(1001)], [1, 1, 1, 2]);
    assert.equal(prefixEnd('/a/').toString(), '/a0');
    const r = root();
    await using b = EtcdBackend.fromEndpoints(etcd.endpoints, { root: r });
    const inst = await b.register({ service: 's', instanceId: 'i', url: 'http://127.0.0.1:1' }, { ttlMs: 2500 });
    assert.equal(inst.expiresAt - inst.registeredAt, 2500);
    const [lease] = await leasesOf(b, r);
    const ttl = await b.client.leaseClient.leaseTimeToLive({ ID: lease! });
    assert.equal(ttl.grantedTTL, '3');
  });

  it('puts instances on one lease per gateway and TTL: 40 instances, two TTLs, two leases; heartbeats grant none', async () => {
    const r = root();
    await using b = EtcdBackend.fromEndpoints(etcd.endpoints, { root: r });
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        b.register(
          { service: `s${i % 4}`, instanceId: `i${i}`, url: 'http://127.0.0.1:1' },
          { ttlMs: i % 2 === 0 ? 30_000 : 60_000 },
        ),
      ),
    );
    const registered = await leasesOf(b, r);
    assert.equal(registered.length, 2);
    await Promise.all(Array.from({ length: 40 }, (_, i) => b.heartbeat(`s${i % 4}`, `i${i}`, { ttlMs: 30_000 })));
    const renewed = await leasesOf(b, r);
    assert.ok(registered.includes(renewed[0]!), 'the 30 s bucket, no new lease');
    assert.equal(renewed.length, 1, 'every instance now on the 30 s bucket');
  });

  it('expires an instance whose gateway died: the bucket lease ends with its keep-alive', async () => {
    const r = root();
    const crashed = EtcdBackend.fromEndpoints(etcd.endpoints, { root: r });
    await using watcher = EtcdBackend.fromEndpoints(etcd.endpoints, { root: r });
    const rec = recorder(watcher);
    await watcher.list();
    await crashed.register({ service: 'c', instanceId: 'orphan', url: 'http://127.0.0.1:1' }, { ttlMs: 2000 });
    // As a crash: keep-alives and sweeps stop, nothing is revoked or deleted.
    await crashed.close();
    await waitFor(() => rec.seen.includes('expire:orphan'), { timeoutMs: 8000, description: 'the expire' });
    assert.deepEqual(await watcher.list('c'), []);
  });

  it('the gateway that renewed an instance last sweeps it; a record renewed elsewhere is left alone', async () => {
    const r = root();
    await using a = EtcdBackend.fromEndpoints(etcd.endpoints, { root: r, sweepIntervalMs: 60_000 });
    await using b = EtcdBackend.fromEndpoints(etcd.endpoints, { root: r, sweepIntervalMs: 60_000 });
    const rec = recorder(b);
    await b.list();
    await a.register({ service: 'm', instanceId: 'moved', url: 'http://127.0.0.1:1' }, { ttlMs: 1000 });
    await b.heartbeat('m', 'moved', { ttlMs: 60_000 });
    await waitFor(async () => Date.now() > (await a.list('m'))[0]!.registeredAt + 1100, {
      timeoutMs: 3000,
      description: 'the first lease to pass',
    });
    await a.reap();
    assert.deepEqual(
      (await a.list('m')).map((i) => i.instanceId),
      ['moved'],
      'a did not delete what b renewed',
    );
    await b.register({ service: 'm', instanceId: 'short', url: 'http://127.0.0.1:1' }, { ttlMs: 1000 });
    await waitFor(async () => (await b.get('m', 'short')) === undefined, { timeoutMs: 3000, description: 'expiry' });
    await b.reap();
    await waitFor(() => rec.seen.includes('expire:short'), { timeoutMs: 3000, description: 'the expire' });
    assert.equal(rec.seen.filter((e) => e === 'expire:short').length, 1);
  });

  it('lists in pages at one revision: 25 instances in pages of 7, each exactly once, while others come and go', async () => {
    const r = root();
    await using b = EtcdBackend.fromEndpoints(etcd.endpoints, { root: r, listPageSize: 7 });
    const ids = Array.from({ length: 25 }, (_, i) => `i${String(i).padStart(2, '0')}`);
    await Promise.all(
      ids.map((id, i) =>
        b.register({ service: `s${i % 3}`, instanceId: id, url: 'http://127.0.0.1:1' }, { ttlMs: 60_000 }),
      ),
    );
    // Writes racing the listing: the snapshot holds the 25, never a new one or a duplicate.
    const churn = Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        b.register({ service: 's0', instanceId: `late${i}`, url: 'http://127.0.0.1:1' }, { ttlMs: 60_000 }),
      ),
    );
    const listed = (await b.list()).map((i) => i.instanceId);
    await churn;
    const first = listed.filter((id) => !id.startsWith('late'));
    assert.deepEqual([...first].sort(), ids);
    assert.equal(new Set(listed).size, listed.length, 'no instance twice');
    assert.equal((await b.list()).length, 35);
    assert.deepEqual(
      (await b.list('s1')).map((i) => i.instanceId).sort(),
      ids.filter((_, i) => i % 3 === 1),
    );
  });

  it('shares instances across gateways: A registers, B watches, heartbeats and deregisters it', async () => {
    const r = root();
    await using a = EtcdBackend.fromEndpoints(etcd.endpoints, { root: r });
    await using b = EtcdBackend.fromEndpoints(etcd.endpoints, { root: r });
    const rec = recorder(b);
    await b.list(); // waits for B's watch
    const reg = await a.register({ service: 'obr', instanceId: 'o1', url: 'http://127.0.0.1:7900' }, { ttlMs: 60_000 });
    // B renews an instance A registered: the key moves to B's lease.
    const hb = await b.heartbeat('obr', 'o1', { ttlMs: 60_000 });
    assert.equal(hb.registeredAt, reg.registeredAt);
    assert.equal(await b.deregister('obr', 'o1'), true);
    await waitFor(() => rec.seen.length >= 3, { timeoutMs: 3000, description: 'three events at B' });
    assert.deepEqual(rec.seen, ['register:o1', 'heartbeat:o1', 'deregister:o1']);
    assert.deepEqual(rec.events[0]?.instance, reg);
    assert.equal(await a.get('obr', 'o1'), undefined);
  });

  it('resumes the watch from the last seen revision after a partition: nothing is lost', async () => {
    const r = root();
    await using proxy = await startTcpProxy(etcd.port);
    await using writer = EtcdBackend.fromEndpoints(etcd.endpoints, { root: r });
    const log = warnings();
    await using watcher = EtcdBackend.fromEndpoints([`127.0.0.1:${proxy.port}`], { root: r, logger: log.logger });
    const rec = recorder(watcher);
    await watcher.list();
    await writer.register({ service: 'p', instanceId: 'before', url: 'http://127.0.0.1:1' }, { ttlMs: 60_000 });
    await waitFor(() => rec.seen.includes('register:before'), { timeoutMs: 3000, description: 'the first event' });
    const revisionBefore = BigInt(watcher.watchRevision!);

    proxy.cut();
    await waitFor(() => !watcher.isConnected(), { timeoutMs: 5000, description: 'the watcher to notice the cut' });
    for (const id of ['gap-1', 'gap-2', 'gap-3']) {
      await writer.register({ service: 'p', instanceId: id, url: 'http://127.0.0.1:1' }, { ttlMs: 60_000 });
    }
    await writer.deregister('p', 'gap-2');
    proxy.restore();

    await waitFor(() => rec.seen.includes('deregister:gap-2'), {
      timeoutMs: 10_000,
      description: 'the changes made during the partition',
    });
    const changes = rec.seen.filter((s) => s !== 'resync');
    assert.deepEqual(changes, [
      'register:before',
      'register:gap-1',
      'register:gap-2',
      'register:gap-3',
      'deregister:gap-2',
    ]);
    assert.ok(rec.seen.includes('resync'), 'a resync is reported after the reconnect');
    assert.ok(BigInt(watcher.watchRevision!) > revisionBefore);
    assert.deepEqual(
      log.lines.filter((l) => l.includes('cancelled')),
      [],
      'resumed, not recreated',
    );
  });

  it('recreates a watch whose revision was compacted away, and reports a resync', async () => {
    const r = root();
    await using proxy = await startTcpProxy(etcd.port);
    await using writer = EtcdBackend.fromEndpoints(etcd.endpoints, { root: r });
    const log = warnings();
    await using watcher = EtcdBackend.fromEndpoints([`127.0.0.1:${proxy.port}`], { root: r, logger: log.logger });
    const rec = recorder(watcher);
    await watcher.list();
    proxy.cut();
    await waitFor(() => !watcher.isConnected(), { timeoutMs: 5000, description: 'the watcher to notice the cut' });
    await writer.register({ service: 'c', instanceId: 'lost', url: 'http://127.0.0.1:1' }, { ttlMs: 60_000 });
    await writer.register({ service: 'c', instanceId: 'lost-2', url: 'http://127.0.0.1:1' }, { ttlMs: 60_000 });
    const { header } = await writer.client.kv.range({ key: Buffer.from('/') });
    await writer.client.kv.compact({ revision: header.revision, physical: true });
    proxy.restore();
    await waitFor(() => log.lines.some((l) => l.includes('watch cancelled')), {
      timeoutMs: 10_000,
      description: 'etcd to cancel the compacted watch',
    });
    await waitFor(() => rec.seen.includes('resync'), { timeoutMs: 10_000, description: 'a resync' });
    // The re-listed state has everything; new changes flow again.
    assert.deepEqual((await watcher.list('c')).map((i) => i.instanceId).sort(), ['lost', 'lost-2']);
    await writer.register({ service: 'c', instanceId: 'later', url: 'http://127.0.0.1:1' }, { ttlMs: 60_000 });
    await waitFor(() => rec.seen.includes('register:later'), { timeoutMs: 5000, description: 'a later event' });
  });

  it('rejects with ERR_FG_STORE_UNAVAILABLE while etcd is down (no hang), then resyncs after restart', async () => {
    await using own = await startEtcd();
    await using b = EtcdBackend.fromEndpoints(own.endpoints, { root: root() });
    const rec = recorder(b);
    await b.register({ service: 'down', instanceId: 'd1', url: 'http://127.0.0.1:4' }, { ttlMs: 60_000 });
    await own.kill();
    const ops = [
      () => b.register({ service: 'down', instanceId: 'd2', url: 'http://127.0.0.1:4' }, { ttlMs: 60_000 }),
      () => b.heartbeat('down', 'd1', { ttlMs: 60_000 }),
      () => b.get('down', 'd1'),
      () => b.list(),
    ];
    for (const op of ops) {
      const started = Date.now();
      await assert.rejects(op(), (err) => isFleetgateError(err, 'ERR_FG_STORE_UNAVAILABLE'));
      assert.ok(Date.now() - started < 4000, `rejected after ${Date.now() - started} ms`);
    }
    assert.equal(b.isConnected(), false);
    await own.restart();
    await waitFor(() => rec.seen.includes('resync'), { timeoutMs: 10_000, description: 'a resync after restart' });
    // etcd keeps its data (and leases) across a restart: the instance is still there.
    const hb = await waitFor(() => b.heartbeat('down', 'd1', { ttlMs: 60_000 }).catch(() => undefined), {
      timeoutMs: 5000,
      description: 'a heartbeat to succeed again',
    });
    assert.equal(hb.instanceId, 'd1');
    assert.equal(b.isConnected(), true);
  });
});
