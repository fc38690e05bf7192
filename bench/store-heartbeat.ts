/**
 * What one heartbeat costs this process in a store backend, without HTTP: a Registry on the
 * backend renews instances at a paced rate (one heartbeat every few ms, as 10,000 instances at a
 * 30 s interval arrive: 333/s) and at a compressed one (3,333/s), and the process's own CPU time
 * (process.cpuUsage) is divided by the heartbeats made. The in-memory backend, paced the same way
 * in the same run, is the floor: the pacing timers and the Registry alone. Rounds alternate the
 * order of the backends; each row prints the range over rounds and its ratio to the floor.
 *
 *   node --import tsx bench/store-heartbeat.ts [backends=redis+0,redis,etcd+0,etcd] [rates=333,3333] [rounds=3] [seconds=4]
 *
 * `redis+0` / `etcd+0` set heartbeatBatchMs to 0 (batching one event-loop turn only); a bare name
 * takes the backend's default window.
 *
 * `STORE_BENCH_PROF=<dir>` writes a CPU profile per backend and rate (inspector, one round).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { EtcdBackend } from '../lib/registry/backends/etcd.js';
import { MemoryBackend } from '../lib/registry/backends/memory.js';
import { RedisBackend } from '../lib/registry/backends/redis.js';
import type { RegistryBackend } from '../lib/registry/model.js';
import { Registry } from '../lib/registry/registry.js';
import { startEtcd, startRedis, startRedisCluster } from '../sandbox/servers/index.js';
import { registerTwoRouteFleet } from './lib/scale-fleet.js';

const INSTANCES = 2000;
const SERVICES = 200;

interface Store {
  name: string;
  backend: () => RegistryBackend;
  stop: () => Promise<void>;
}

const wanted = (process.argv[2] ?? 'redis+0,redis,etcd+0,etcd').split(',');
const rates = (process.argv[3] ?? '333,3333').split(',').map(Number);
const rounds = Number(process.argv[4] ?? 3);
const seconds = Number(process.argv[5] ?? 4);
const profDir = process.env.STORE_BENCH_PROF;

const stores: Store[] = [{ name: 'memory', backend: () => new MemoryBackend(), stop: async () => {} }];
let redisServer: Awaited<ReturnType<typeof startRedis>> | undefined;
let etcdServer: Awaited<ReturnType<typeof startEtcd>> | undefined;
for (const name of wanted) {
  // `redis+0`, `etcd+0`: heartbeatBatchMs 0 (one event-loop turn); bare names take the default.
  const [kind, batch] = name.split('+');
  const batchOpt = batch === undefined ? {} : { heartbeatBatchMs: Number(batch) };
  const space = `bench-${name.replace('+', '-')}`;
  if (kind === 'redis') {
    redisServer ??= await startRedis();
    const s = redisServer;
    stores.push({
      name,
      backend: () => RedisBackend.fromUrls([s.url], { ...batchOpt, keyPrefix: space }),
      stop: async () => {},
    });
  } else if (kind === 'redis-cluster') {
    const s = await startRedisCluster();
    stores.push({
      name,
      backend: () => RedisBackend.fromUrls(s.addrs, { ...batchOpt, cluster: true, keyPrefix: space }),
      stop: () => s.stop(),
    });
  } else if (kind === 'etcd') {
    etcdServer ??= await startEtcd();
    const s = etcdServer;
    stores.push({
      name,
      backend: () => EtcdBackend.fromEndpoints(s.endpoints, { ...batchOpt, root: `/${space}/` }),
      stop: async () => {},
    });
  }
}
console.log(
  `store-heartbeat: ${INSTANCES} instances in ${SERVICES} services, ${rounds} rounds × ${seconds} s, node ${process.version}, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);

const registries = new Map<string, Registry>();
for (const store of stores) {
  const registry = new Registry({ backend: store.backend(), ownsBackend: true, ttlMs: 600_000 });
  await registry.ready();
  await registerTwoRouteFleet(registry, INSTANCES, SERVICES);
  registries.set(store.name, registry);
}

/** Heartbeats at `rate`/s for `seconds`, spread evenly; resolves with CPU µs per heartbeat. */
async function paced(
  registry: Registry,
  rate: number,
): Promise<{ us: number; failed: number; firstFailure: string | undefined }> {
  const tickMs = rate > 1000 ? 1 : Math.round(1000 / rate);
  const perTick = (rate * tickMs) / 1000;
  let owed = 0;
  let n = 0;
  let failed = 0;
  let firstFailure: string | undefined;
  const inFlight = new Set<Promise<unknown>>();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = ((performance.now() - t0) / 1000) * rate;
      owed = Math.min(due - n, perTick * 20);
      while (owed >= 1) {
        const k = n++ % INSTANCES;
        const s = k % SERVICES;
        const p = registry.heartbeat(`svc${s}`, `svc${s}-${k}`).catch((err: Error) => {
          if (failed++ === 0) firstFailure = err.message;
        });
        inFlight.add(p);
        p.finally(() => inFlight.delete(p));
        owed--;
      }
      if (performance.now() - t0 >= seconds * 1000) {
        clearInterval(timer);
        resolve();
      }
    }, tickMs);
  });
  await Promise.all(inFlight);
  const cpu = process.cpuUsage(cpu0);
  return { us: (cpu.user + cpu.system) / n, failed, firstFailure };
}

const results = new Map<string, number[]>();
for (let round = 0; round < rounds; round++) {
  for (const rate of rates) {
    const order = round % 2 === 0 ? stores : [...stores].reverse();
    for (const store of order) {
      const session = profDir !== undefined && round === 0 ? new Session() : undefined;
      if (session !== undefined) {
        session.connect();
        await session.post('Profiler.enable');
        await session.post('Profiler.start');
      }
      const { us, failed, firstFailure } = await paced(registries.get(store.name)!, rate);
      if (session !== undefined) {
        const { profile } = await session.post('Profiler.stop');
        writeFileSync(join(profDir!, `${store.name}-${rate}.cpuprofile`), JSON.stringify(profile));
        session.disconnect();
      }
      if (failed > 0) console.log(`  ${store.name} @${rate}/s: ${failed} heartbeats failed (${firstFailure})`);
      const key = `${store.name}@${rate}`;
      results.set(key, [...(results.get(key) ?? []), us]);
    }
  }
}

for (const rate of rates) {
  const floor = results.get(`memory@${rate}`)!;
  for (const store of stores) {
    const xs = results.get(`${store.name}@${rate}`)!;
    const ratio = xs.map((x, i) => x / floor[i]!);
    console.log(
      `${`${store.name} @ ${rate}/s`.padEnd(24)} ${range(xs)} µs CPU per heartbeat   ×${range(ratio, 1)} the in-memory floor`,
    );
  }
}
console.log(
  `load after: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);

for (const r of registries.values()) await r.close();
for (const s of stores) await s.stop();
await redisServer?.stop();
await etcdServer?.stop();

function range(xs: readonly number[], digits = 0): string {
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return lo.toFixed(digits) === hi.toFixed(digits) ? lo.toFixed(digits) : `${lo.toFixed(digits)}–${hi.toFixed(digits)}`;
}
