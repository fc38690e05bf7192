/**
 * Scale: one `fleetgate` bin (spawned by the e2e harness) with 10,000 instances in 1,000 services,
 * per backend (memory, redis, redis-cluster, etcd; servers from the test harness, a backend whose
 * server cannot start here is skipped). Client processes register through the HTTP API, then
 * heartbeat: first compressed (10× the rate of a 30 s interval) to price one heartbeat, then at
 * the real rate of a 30 s interval to measure the steady state. Gateway CPU comes from
 * /proc/<pid>/stat, so neighbours on this shared machine do not count against it.
 *
 * Prints per backend: registration throughput, heartbeat CPU µs each, steady-state CPU share,
 * RSS, /health and listing latency and size, resync time (a fresh Registry listing the store in
 * full) and route lookup ns on that resynced cache. docs/performance.md targets: 10,000 registrations
 * ≤ 10 s, heartbeat ≤ 50 µs, steady state ≤ 2 % of a core, RSS ≤ 150 MB, lookup ≤ 1 µs.
 *
 *   node --import tsx bench/scale.ts [backends=memory,redis,redis-cluster,etcd] [instances=10000]
 *
 * Health checks run every hour here (HEALTH_CHECK_INTERVAL=1h): the instances' URLs lead nowhere,
 * and probing 10,000 of them is a cost of its own, not a heartbeat's.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startGateway } from '../e2e/support/gateway-process.js';
import { EtcdBackend } from '../lib/registry/backends/etcd.js';
import { MemoryBackend } from '../lib/registry/backends/memory.js';
import { RedisBackend } from '../lib/registry/backends/redis.js';
import type { RegistryBackend } from '../lib/registry/model.js';
import { Registry } from '../lib/registry/registry.js';
import { RouteTable } from '../lib/routing/route-table.js';
import {
  etcdSkipReason,
  redisClusterSkipReason,
  redisSkipReason,
  startEtcd,
  startRedis,
  startRedisCluster,
} from '../sandbox/servers/index.js';
import { routesOf, runClient } from './lib/scale-client.js';

const CLIENTS = 4;
const PER_SERVICE = 10;
const HEARTBEAT_INTERVAL_S = 30;
const COMPRESSION = 10;

if (process.argv[2] === '--client') {
  runClient();
} else {
  await main();
}

interface Store {
  env: Record<string, string>;
  /** A backend on the same store, for the resync measurement (undefined: memory lives in the gateway). */
  backend: () => RegistryBackend | undefined;
  stop: () => Promise<void>;
}

async function main(): Promise<void> {
  const wanted = (process.argv[2] ?? 'memory,redis,redis-cluster,etcd').split(',');
  const total = Number(process.argv[3] ?? 10_000);
  const services = Math.max(1, Math.round(total / PER_SERVICE));
  console.log(
    `scale: ${total} instances in ${services} services (5 routes each), ${CLIENTS} client processes, node ${process.version}`,
  );
  for (const name of wanted) {
    const store = await startStore(name);
    if (typeof store === 'string') {
      console.log(`\n[${name}] skipped: ${store}`);
      continue;
    }
    try {
      await runBackend(name, store, total, services);
    } catch (err) {
      console.log(`\n[${name}] failed: ${(err as Error).message}`);
    } finally {
      await store.stop();
    }
  }
}

async function startStore(name: string): Promise<Store | string> {
  switch (name) {
    case 'memory':
      return { env: { REGISTRY_TYPE: 'INMEMORY' }, backend: () => undefined, stop: async () => {} };
    case 'redis': {
      const skip = await redisSkipReason();
      if (skip !== undefined) return skip;
      const s = await startRedis();
      return {
        env: { REGISTRY_TYPE: 'REDIS', REGISTRY_REDIS_ADDR: s.url },
        backend: () => RedisBackend.fromUrls([s.url]),
        stop: () => s.stop(),
      };
    }
    case 'redis-cluster': {
      const skip = await redisClusterSkipReason();
      if (skip !== undefined) return skip;
      const c = await startRedisCluster({ nodes: 3 });
      return {
        env: { REGISTRY_TYPE: 'REDIS_CLUSTER', REGISTRY_REDIS_ADDR: c.addrs.join(',') },
        backend: () => RedisBackend.fromUrls(c.addrs, { cluster: true }),
        stop: () => c.stop(),
      };
    }
    case 'etcd': {
      const skip = await etcdSkipReason();
      if (skip !== undefined) return skip;
      const e = await startEtcd();
      return {
        env: { REGISTRY_TYPE: 'ETCD', REGISTRY_ETCD_ENDPOINTS: e.endpoints.join(',') },
        backend: () => EtcdBackend.fromEndpoints(e.endpoints),
        stop: () => e.stop(),
      };
    }
    default:
      return `unknown backend "${name}"`;
  }
}

async function runBackend(name: string, store: Store, total: number, services: number): Promise<void> {
  console.log(`\n[${name}]`);
  await using gw = await startGateway(
    {
      ...store.env,
      REGISTRY_REGISTER_LIMIT: 'off',
      REGISTRY_TTL: '90s',
      HEALTH_CHECK_INTERVAL: '1h',
      LOG_LEVEL: 'warn',
    },
    { name: `gateway-${name}`, startTimeoutMs: 60_000 },
  );
  const pid = gw.child.pid!;
  const rssEmpty = rssMb(pid);
  const clients = Array.from({ length: CLIENTS }, (_, k) => spawnClient(gw.url, k, total, services));
  try {
    // Registration.
    let cpu0 = cpuMs(pid);
    let t0 = performance.now();
    const regs = await Promise.all(clients.map((c) => ask(c, { cmd: 'register' }, 600_000)));
    const regWall = (performance.now() - t0) / 1000;
    const regCpu = cpuMs(pid) - cpu0;
    const registered = regs.reduce((n, r) => n + (r.ok as number), 0);
    const failed = regs.reduce((n, r) => n + (r.failed as number), 0);
    line(
      'registration',
      `${registered} in ${regWall.toFixed(2)} s = ${(registered / regWall).toFixed(0)}/s, gateway CPU ${((regCpu * 1000) / Math.max(1, registered)).toFixed(0)} µs each${failed > 0 ? `, ${failed} FAILED (${regs.find((r) => r.firstError)?.firstError})` : ''}`,
      `≤ 10 s: ${regWall <= 10 && failed === 0 ? 'met' : 'MISSED'}`,
    );
    const rss = rssMb(pid);
    line(
      'RSS',
      `${rss.toFixed(0)} MB (empty gateway ${rssEmpty.toFixed(0)} MB)`,
      `≤ 150 MB: ${rss <= 150 ? 'met' : 'MISSED'}`,
    );

    // Heartbeats, compressed: the cost of one.
    const realRate = registered / HEARTBEAT_INTERVAL_S;
    const fastSeconds = 4;
    cpu0 = cpuMs(pid);
    t0 = performance.now();
    const fast = await Promise.all(
      clients.map((c) =>
        ask(c, { cmd: 'heartbeat', ratePerSec: (realRate * COMPRESSION) / CLIENTS, seconds: fastSeconds }, 120_000),
      ),
    );
    const fastCpu = cpuMs(pid) - cpu0;
    const fastWall = (performance.now() - t0) / 1000;
    const sent = fast.reduce((n, r) => n + (r.ok as number), 0);
    const hbFailed = fast.reduce((n, r) => n + (r.failed as number), 0);
    const usEach = (fastCpu * 1000) / Math.max(1, sent);
    line(
      'heartbeat (compressed)',
      `${sent} in ${fastWall.toFixed(1)} s (${(sent / fastWall).toFixed(0)}/s, ${COMPRESSION}× a ${HEARTBEAT_INTERVAL_S} s interval): ${usEach.toFixed(0)} µs gateway CPU each${hbFailed > 0 ? `, ${hbFailed} FAILED (${fast.find((r) => r.firstError)?.firstError})` : ''}`,
      `≤ 50 µs: ${usEach <= 50 ? 'met' : 'MISSED'}`,
    );

    // Heartbeats at the real rate: the steady state.
    const steadySeconds = 10;
    cpu0 = cpuMs(pid);
    t0 = performance.now();
    await Promise.all(
      clients.map((c) => ask(c, { cmd: 'heartbeat', ratePerSec: realRate / CLIENTS, seconds: steadySeconds }, 120_000)),
    );
    const share = (cpuMs(pid) - cpu0) / (performance.now() - t0);
    line(
      'steady state',
      `${(share * 100).toFixed(2)} % of a core at ${realRate.toFixed(0)} heartbeats/s`,
      `≤ 2 %: ${share <= 0.02 ? 'met' : 'MISSED'}`,
    );

    // Listings.
    for (const path of ['/health', '/health?detail=1', '/internal/services', '/internal/services?service=svc7']) {
      const { p50, max, bytes } = await timeGet(`${gw.url}${path}`, 10);
      line(`GET ${path}`, `p50 ${p50.toFixed(1)} ms, max ${max.toFixed(1)} ms, ${(bytes / 1024).toFixed(0)} KiB`);
    }

    // Resync and lookup, in this process, on the same store.
    const { resyncMs, listed, lookupNs } = await resyncAndLookup(store, total, services);
    line(
      'resync (full list → cache)',
      `${listed} instances in ${resyncMs.toFixed(0)} ms`,
      `≤ ${name === 'etcd' ? 2000 : 1000} ms: ${resyncMs <= (name === 'etcd' ? 2000 : 1000) ? 'met' : 'MISSED'}`,
    );
    line(
      'route lookup',
      `${lookupNs.toFixed(0)} ns (${listed} instances)`,
      `≤ 1000 ns: ${lookupNs <= 1000 ? 'met' : 'MISSED'}`,
    );
  } finally {
    for (const c of clients) c.kill();
  }
}

function line(what: string, value: string, verdict = ''): void {
  console.log(`  ${what.padEnd(36)} ${value}${verdict === '' ? '' : `   [${verdict}]`}`);
}

function spawnClient(base: string, index: number, total: number, services: number): ChildProcess {
  return fork(fileURLToPath(import.meta.url), ['--client'], {
    execArgv: ['--import', 'tsx'],
    env: {
      ...process.env,
      SCALE_BASE: base,
      SCALE_INDEX: String(index),
      SCALE_CLIENTS: String(CLIENTS),
      SCALE_TOTAL: String(total),
      SCALE_SERVICES: String(services),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

function ask(child: ChildProcess, msg: Record<string, unknown>, timeoutMs: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`client did not answer ${String(msg.cmd)} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    child.once('message', (reply) => {
      clearTimeout(timer);
      resolve(reply as Record<string, unknown>);
    });
    child.send(msg);
  });
}

/** User + system CPU of a process, in ms, from /proc. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? Number.NaN : Number(m[1]) / 1024;
}

async function timeGet(url: string, n: number): Promise<{ p50: number; max: number; bytes: number }> {
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const res = await fetch(url);
    const body = await res.arrayBuffer();
    times.push(performance.now() - t0);
    if (!res.ok) throw new Error(`${url}: ${res.status}`);
    bytes = body.byteLength;
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(n / 2)]!, max: times[n - 1]!, bytes };
}

async function resyncAndLookup(
  store: Store,
  total: number,
  services: number,
): Promise<{ resyncMs: number; listed: number; lookupNs: number }> {
  let backend = store.backend();
  if (backend === undefined) {
    // The memory store lives inside the gateway: rebuild the same fleet in a local one.
    const memory = new MemoryBackend();
    for (let s = 0; s < services; s++) {
      for (let i = 0; i < total / services; i++) {
        await memory.register(
          {
            service: `svc${s}`,
            instanceId: `svc${s}-${i}`,
            url: `http://127.0.0.1:${10_000 + i}`,
            routes: routesOf(s),
          },
          { ttlMs: 90_000 },
        );
      }
    }
    backend = memory;
  }
  const t0 = performance.now();
  const registry = new Registry({ backend, ownsBackend: true });
  await registry.ready();
  const resyncMs = performance.now() - t0;
  const listed = registry.instances().length;
  const table = new RouteTable({ registry, nameRouting: false });
  // Services whose registrations all failed (a store timing out under load) are left out.
  const present = registry.services();
  const paths: [string, string][] = [];
  for (let i = 0; i < 1000 && present.length > 0; i++) {
    const s = present[(i * 7919) % present.length];
    paths.push(i % 2 === 0 ? ['GET', `/api/${s}/items/${i}`] : ['PUT', `/api/${s}/items/${i}/comments/${i}`]);
  }
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 5; round++) {
    const c0 = process.cpuUsage();
    for (let k = 0; k < 100_000; k++) {
      const [m, p] = paths[k % paths.length]!;
      if (table.match(m, p) === undefined) throw new Error(`no route for ${m} ${p}`);
    }
    const used = process.cpuUsage(c0);
    best = Math.min(best, ((used.user + used.system) * 1000) / 100_000);
  }
  await table.close();
  await registry.close();
  return { resyncMs, listed, lookupNs: best };
}
