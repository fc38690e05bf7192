/**
 * Register → visible in a peer gateway's cache, per backend: registry A registers, and the time
 * until registry B (its own backend object and connections, same store) emits the `change` event
 * is measured, one registration at a time. Prints p50/p99/max per backend against docs/performance.md
 * (p99 ≤ 50 ms on Redis, ≤ 100 ms on Redis Cluster and etcd). The memory row shares one backend
 * object between both registries: the floor.
 *
 *   node --import tsx bench/propagation.ts [registrations=500]
 *
 * Servers come from the test harness (containers when a runtime answers, else local binaries);
 * a backend whose server cannot start here is reported as skipped.
 */
import { performance } from 'node:perf_hooks';
import { EtcdBackend } from '../lib/registry/backends/etcd.js';
import { MemoryBackend } from '../lib/registry/backends/memory.js';
import { RedisBackend } from '../lib/registry/backends/redis.js';
import type { RegistryBackend } from '../lib/registry/model.js';
import { Registry } from '../lib/registry/registry.js';
import type { RegistryChange } from '../lib/registry/registry-api.js';
import {
  etcdSkipReason,
  redisClusterSkipReason,
  redisSkipReason,
  startEtcd,
  startRedis,
  startRedisCluster,
} from '../sandbox/servers/index.js';

const COUNT = Number(process.argv[2] ?? 500);

interface Row {
  backend: string;
  targetP99: number | undefined;
  samples?: number[];
  registerMs?: number[];
  skipped?: string;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Registers COUNT instances through A, timing each until B's cache announces it. */
async function measure(a: RegistryBackend, b: RegistryBackend): Promise<{ samples: number[]; registerMs: number[] }> {
  await using ra = new Registry({ backend: a });
  await using rb = new Registry({ backend: b });
  await Promise.all([ra.ready(), rb.ready()]);
  const waiting = new Map<string, () => void>();
  rb.on('change', (c: RegistryChange) => {
    if (c.type === 'register' && c.instanceId !== undefined) waiting.get(c.instanceId)?.();
  });
  const samples: number[] = [];
  const registerMs: number[] = [];
  const run = `${Date.now().toString(36)}`;
  for (let i = 0; i < COUNT; i++) {
    const instanceId = `p-${run}-${i}`;
    const seen = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${instanceId} not seen by B within 5 s`)), 5000);
      waiting.set(instanceId, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    const t0 = performance.now();
    // Services spread over cluster slots; no routes, so no conflict checks get in the way.
    await ra.register({ service: `prop-${i % 16}`, instanceId, url: `http://127.0.0.1:${10_000 + i}` });
    registerMs.push(performance.now() - t0);
    await seen;
    samples.push(performance.now() - t0);
    waiting.delete(instanceId);
  }
  return { samples, registerMs };
}

async function row(
  backend: string,
  targetP99: number | undefined,
  skip: () => Promise<string | undefined>,
  setup: () => Promise<{ a: RegistryBackend; b: RegistryBackend; cleanup: () => Promise<void> }>,
): Promise<Row> {
  const reason = await skip();
  if (reason !== undefined) return { backend, targetP99, skipped: reason };
  const { a, b, cleanup } = await setup();
  try {
    return { backend, targetP99, ...(await measure(a, b)) };
  } finally {
    await a.close();
    if (b !== a) await b.close();
    await cleanup();
  }
}

const rows: Row[] = [];
rows.push(
  await row(
    'memory (shared object)',
    undefined,
    async () => undefined,
    async () => {
      const m = new MemoryBackend();
      return { a: m, b: m, cleanup: async () => {} };
    },
  ),
);
rows.push(
  await row('redis', 50, redisSkipReason, async () => {
    const s = await startRedis();
    return {
      a: RedisBackend.fromUrls([s.url], { keyPrefix: 'bench' }),
      b: RedisBackend.fromUrls([s.url], { keyPrefix: 'bench' }),
      cleanup: () => s.stop(),
    };
  }),
);
rows.push(
  await row('redis-cluster', 100, redisClusterSkipReason, async () => {
    const c = await startRedisCluster({ nodes: 3 });
    return {
      a: RedisBackend.fromUrls(c.addrs, { cluster: true, keyPrefix: 'bench' }),
      b: RedisBackend.fromUrls(c.addrs, { cluster: true, keyPrefix: 'bench' }),
      cleanup: () => c.stop(),
    };
  }),
);
rows.push(
  await row('etcd', 100, etcdSkipReason, async () => {
    const e = await startEtcd();
    return {
      a: EtcdBackend.fromEndpoints(e.endpoints),
      b: EtcdBackend.fromEndpoints(e.endpoints),
      cleanup: () => e.stop(),
    };
  }),
);

console.log(`\nregister → visible in peer registry cache, ${COUNT} sequential registrations (ms)\n`);
console.log(
  [
    'backend'.padEnd(24),
    'p50'.padStart(8),
    'p99'.padStart(8),
    'max'.padStart(8),
    'reg p50'.padStart(9),
    '  target',
  ].join(' '),
);
for (const r of rows) {
  if (r.samples === undefined) {
    console.log(`${r.backend.padEnd(24)} skipped: ${r.skipped}`);
    continue;
  }
  const s = [...r.samples].sort((x, y) => x - y);
  const reg = [...r.registerMs!].sort((x, y) => x - y);
  const p99 = pct(s, 99);
  const verdict = r.targetP99 === undefined ? '' : `p99 ≤ ${r.targetP99}: ${p99 <= r.targetP99 ? 'met' : 'MISSED'}`;
  console.log(
    [
      r.backend.padEnd(24),
      pct(s, 50).toFixed(2).padStart(8),
      p99.toFixed(2).padStart(8),
      s[s.length - 1]!.toFixed(2).padStart(8),
      pct(reg, 50).toFixed(2).padStart(9),
      `  ${verdict}`,
    ].join(' '),
  );
}
