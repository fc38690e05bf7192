/**
 * The heartbeat window (lib/registry/backends/heartbeat-window.ts) seen from real servers: the
 * heartbeats that arrive within `heartbeatBatchMs` reach redis-server as one pipeline (one read
 * of the connection, `total_reads_processed` in INFO stats, carrying every EVALSHA) and etcd as
 * one read and one write transaction (`grpc_server_handled_total{grpc_method="Txn"}` in its
 * /metrics, carrying every put). With `heartbeatBatchMs: 0` nothing waits: the same heartbeats,
 * arriving in different turns of the event loop, go out as they come, in more round trips.
 *
 * Only calls are counted, never time. Each heartbeat is started in a turn of its own (a timer
 * turn after the previous one's), as heartbeats from different services arrive. The window of
 * the batching runs is long (2 s) so that even a loaded machine starts all of them within it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { EtcdBackend } from '../lib/registry/backends/etcd.js';
import { RedisBackend } from '../lib/registry/backends/redis.js';
import type { RegistryBackend } from '../lib/registry/model.js';
import {
  type EtcdServer,
  etcdSkipReason,
  parseInfo,
  type RedisServer,
  redisSkipReason,
  startEtcd,
  startRedis,
} from '../sandbox/servers/index.js';

const BEATS = 8;
const WINDOW_MS = 2000;
const lease = { ttlMs: 60_000 };

/** Registers BEATS instances (no routes: no route claims in the counts) and renews each once (scripts loaded). */
async function registerAll(backend: RegistryBackend, service: string): Promise<void> {
  for (let i = 0; i < BEATS; i++) {
    await backend.register({ service, instanceId: `i-${i}`, url: `http://127.0.0.1:${7000 + i}` }, lease);
  }
  await Promise.all(Array.from({ length: BEATS }, (_, i) => backend.heartbeat(service, `i-${i}`, lease)));
}

/** Starts one heartbeat per timer turn, each in a later turn than the one before; resolves when all answered. */
async function heartbeatInTurns(backend: RegistryBackend, service: string): Promise<void> {
  const answers: Promise<unknown>[] = [];
  for (let i = 0; i < BEATS; i++) {
    answers.push(backend.heartbeat(service, `i-${i}`, lease));
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(answers);
}

describe('heartbeat batching against redis-server', { skip: await redisSkipReason() }, () => {
  let redis: RedisServer;
  let stats: Redis;
  before(async () => {
    redis = await startRedis();
    // One connection of our own: each INFO on it is exactly one read for the server.
    stats = new Redis(redis.url, { enableAutoPipelining: false, lazyConnect: true });
    await stats.connect();
  });
  after(async () => {
    stats?.disconnect();
    await redis?.stop();
  });

  /** Server reads (socket reads of every connection) and EVALSHA calls so far. */
  async function counters(): Promise<{ reads: number; evalsha: number }> {
    const info = parseInfo(await stats.info('all'));
    return {
      reads: Number(info.get('total_reads_processed')),
      evalsha: Number(/calls=(\d+)/.exec(info.get('cmdstat_evalsha') ?? '')?.[1] ?? 0),
    };
  }

  /** Reads and EVALSHA calls the server saw for `work`, less the INFO that closes the count. */
  async function seen(work: () => Promise<void>): Promise<{ reads: number; evalsha: number }> {
    const before = await counters();
    await work();
    const after = await counters();
    return { reads: after.reads - before.reads - 1, evalsha: after.evalsha - before.evalsha };
  }

  function backend(prefix: string, heartbeatBatchMs: number): RedisBackend {
    // No reaper round during the count (its scripts would be reads of the same connection).
    return RedisBackend.fromUrls([redis.url], { keyPrefix: prefix, heartbeatBatchMs, reaperIntervalMs: 3_600_000 });
  }

  it('counts one read for one INFO (the measurement itself adds nothing else)', async () => {
    assert.deepEqual(await seen(async () => {}), { reads: 0, evalsha: 0 });
  });

  it(`sends ${BEATS} heartbeats arriving within the window as one pipeline: one read, ${BEATS} scripts`, async () => {
    await using b = backend('batch-on', WINDOW_MS);
    await registerAll(b, 'orders');
    const counted = await seen(() => heartbeatInTurns(b, 'orders'));
    assert.deepEqual(counted, { reads: 1, evalsha: BEATS });
  });

  it('with heartbeatBatchMs 0 holds none back: the same heartbeats take more than one round trip', async () => {
    await using b = backend('batch-off', 0);
    await registerAll(b, 'orders');
    const counted = await seen(() => heartbeatInTurns(b, 'orders'));
    assert.equal(counted.evalsha, BEATS);
    // The first goes out alone at once. Later ones may still share a pipeline: ioredis sends one
    // at a time per connection, so commands arriving while one is in flight go out together.
    assert.ok(counted.reads >= 2, `${counted.reads} reads`);
  });
});

describe('heartbeat batching against etcd', { skip: await etcdSkipReason() }, () => {
  let etcd: EtcdServer;
  before(async () => {
    etcd = await startEtcd();
  });
  after(async () => {
    await etcd?.stop();
  });

  /** Transactions etcd answered and puts it applied so far (its Prometheus /metrics). */
  async function counters(): Promise<{ txns: number; puts: number }> {
    const text = await (await fetch(`${etcd.url}/metrics`)).text();
    const txns = /^grpc_server_handled_total\{grpc_code="OK",grpc_method="Txn",[^}]*\} (\d+)/m.exec(text);
    const puts = /^etcd_mvcc_put_total (\d+)/m.exec(text);
    assert.ok(txns !== null && puts !== null, 'etcd exports its Txn and put counters');
    return { txns: Number(txns[1]), puts: Number(puts[1]) };
  }

  async function seen(work: () => Promise<void>): Promise<{ txns: number; puts: number }> {
    const before = await counters();
    await work();
    const after = await counters();
    return { txns: after.txns - before.txns, puts: after.puts - before.puts };
  }

  function backend(root: string, heartbeatBatchMs: number): EtcdBackend {
    // No expiry sweep during the count.
    return EtcdBackend.fromEndpoints(etcd.endpoints, { root, heartbeatBatchMs, sweepIntervalMs: 3_600_000 });
  }

  it(`renews ${BEATS} heartbeats arriving within the window in one read and one write transaction`, async () => {
    await using b = backend('/batch-on/', WINDOW_MS);
    await registerAll(b, 'orders');
    const counted = await seen(() => heartbeatInTurns(b, 'orders'));
    assert.deepEqual(counted, { txns: 2, puts: BEATS });
  });

  it('with heartbeatBatchMs 0 holds none back: each heartbeat reads in a transaction of its own', async () => {
    await using b = backend('/batch-off/', 0);
    await registerAll(b, 'orders');
    const counted = await seen(() => heartbeatInTurns(b, 'orders'));
    assert.equal(counted.puts, BEATS);
    // One read each (each started in its own turn); the writes of reads answered together share one.
    assert.ok(counted.txns >= BEATS + 1, `${counted.txns} transactions`);
  });
});
