/**
 * Scale: one `fleetgate` bin with 10,000 instances in 1,000 services,
 * per backend (memory, redis, redis-cluster, etcd; servers from the test harness, a backend whose
 * server cannot start here is skipped). Client processes register through the HTTP API, then
 * heartbeat: first compressed (10× the rate of a 30 s interval) to price one heartbeat, then at
 * the real rate of a 30 s interval to measure the steady state. Gateway CPU comes from
 * /proc/<pid>/stat, so neighbours on this shared machine do not count against it.
 *
 * Prints per backend: registration throughput, heartbeat CPU µs each, steady-state CPU share (each
 * beside three floor servers answering the same heartbeats, bench/lib/heartbeat-floor.ts: a stock
 * node:http server, one with Node's per-request timers and Date header off, and a bare `net` server
 * writing a canned reply; user and system time apart, and the gateway ÷ each floor),
 * RSS, /health and listing latency and size, resync time (a fresh Registry listing the store in
 * full) and route lookup ns on that resynced cache. docs/performance.md targets: 10,000 registrations
 * ≤ 10 s, heartbeat ≤ 50 µs, steady state ≤ 2 % of a core, RSS ≤ 150 MB, lookup ≤ 1 µs.
 *
 *   node --import tsx bench/scale.ts [backends=memory,redis,redis-cluster,etcd] [instances=10000]
 *
 * The gateway is the built bin under plain `node`, as users run it (bench/lib/built-bin.ts: built
 * into a temporary directory at start, or `FLEETGATE_BENCH_DIST=<outDir>` for a prebuilt one), not
 * the source under tsx, whose loader alone adds tens of MB of RSS. The RSS row prints the empty
 * gateway's beside the loaded one. `SCALE_CPU_PROF=<dir>` runs the gateway with `--cpu-prof` into it.
 * `SCALE_PHASES=registration` stops each backend after its registration and RSS rows.
 *
 * The registration rows say where the wall time went (bench/lib/scale-registration.ts): the CPU
 * of the gateway, of the client processes and of the store's processes, the machine's other busy
 * time (neighbours) and its idle time, and which of gateway and clients used more.
 *
 * Health checks run every hour here (HEALTH_CHECK_INTERVAL=1h): the instances' URLs lead nowhere,
 * and probing 10,000 of them is a cost of its own, not a heartbeat's.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
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
import { type BuiltBin, builtBin } from './lib/built-bin.js';
import { FLOOR_KINDS, type FloorKind, runHeartbeatFloor } from './lib/heartbeat-floor.js';
import { childPids } from './lib/process-cpu.js';
import { type ClientReply, runClient } from './lib/scale-client.js';
import { registrationOf } from './lib/scale-fleet.js';
import { type AskClients, describeRegistration, measureRegistration } from './lib/scale-registration.js';

const CLIENTS = 4;
const PER_SERVICE = 10;
const HEARTBEAT_INTERVAL_S = 30;
const COMPRESSION = 10;
const HEARTBEAT_ROUNDS = 4;
const HEARTBEAT_ROUND_S = 2;
const REGISTRATION_STEPS = 10;
/** `SCALE_PHASES=registration` stops each backend after registration and RSS; default: every phase. */
const phases = new Set((process.env.SCALE_PHASES ?? 'registration,rest').split(','));

if (process.argv[2] === '--client') {
  runClient();
} else if (process.argv[2] === '--floor') {
  runHeartbeatFloor(process.argv[3] as FloorKind);
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
  const bin = builtBin();
  console.log(
    `scale: ${total} instances in ${services} services (5 routes each), ${CLIENTS} client processes, node ${process.version}`,
  );
  console.log(
    `gateway: ${bin.origin}; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  try {
    for (const name of wanted) await runStore(name, bin, total, services);
  } finally {
    bin.dispose();
  }
}

async function runStore(name: string, bin: BuiltBin, total: number, services: number): Promise<void> {
  const store = await startStore(name);
  if (typeof store === 'string') {
    console.log(`\n[${name}] skipped: ${store}`);
    return;
  }
  try {
    await runBackend(name, store, bin, total, services);
  } catch (err) {
    console.log(`\n[${name}] failed: ${(err as Error).message}`);
  } finally {
    await store.stop();
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

async function runBackend(name: string, store: Store, bin: BuiltBin, total: number, services: number): Promise<void> {
  console.log(`\n[${name}]`);
  await using gw = await startGateway(
    {
      ...store.env,
      REGISTRY_REGISTER_LIMIT: 'off',
      REGISTRY_TTL: '90s',
      HEALTH_CHECK_INTERVAL: '1h',
      LOG_LEVEL: 'warn',
    },
    { name: `gateway-${name}`, startTimeoutMs: 60_000, builtBin: bin.bin, nodeArgs: profileArgs() },
  );
  const pid = gw.child.pid!;
  const rssEmpty = rssMb(pid);
  // Only the heartbeat rows need the floor servers.
  const floors = phases.has('rest') ? await startFloors() : [];
  const clients = Array.from({ length: CLIENTS }, (_, k) => spawnClient(gw.url, k, total, services));
  try {
    // Their start-up (tsx, building the bodies) is no part of any measurement.
    await Promise.all(clients.map((c) => ask(c, undefined, 60_000)));
    // Registration, in steps, with the CPU of every side (bench/lib/scale-registration.ts).
    mark('registration');
    const known = new Set([pid, ...floors.map((f) => f.pid), ...clients.map((c) => c.pid!)]);
    const storePids = childPids(process.pid).filter((p) => !known.has(p));
    const askAll: AskClients = (msg) =>
      Promise.all(clients.map((c) => ask(c, msg, 600_000) as Promise<unknown> as Promise<ClientReply>));
    const run = await measureRegistration(askAll, pid, () => storePids, REGISTRATION_STEPS);
    const registered = run.registered;
    const regWall = run.wallMs / 1000;
    const described = describeRegistration(run);
    line('registration', described.throughput, `≤ 10 s: ${regWall <= 10 && run.failed === 0 ? 'met' : 'MISSED'}`);
    line('  where the wall time went', described.split);
    line('  growth with the fleet', described.growth);
    const rss = rssMb(pid);
    line(
      'RSS',
      `${rss.toFixed(0)} MB (empty gateway ${rssEmpty.toFixed(0)} MB)`,
      `≤ 150 MB: ${rss <= 150 ? 'met' : 'MISSED'}`,
    );
    if (!phases.has('rest')) return;

    // No traffic: what the gateway costs by itself at this size (sweeps, timers).
    mark('idle');
    const idleSeconds = 5;
    const cpu0 = cpuMs(pid);
    let main0 = mainThreadMs(pid);
    let t0 = performance.now();
    await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
    let wall = performance.now() - t0;
    const idleShare = (cpuMs(pid) - cpu0) / wall;
    const idleMain = (mainThreadMs(pid) - main0) / wall;
    line(
      'idle (no requests)',
      `${(idleShare * 100).toFixed(2)} % of a core over ${idleSeconds} s (main thread ${(idleMain * 100).toFixed(2)} %, other threads: GC, libuv ${(Math.max(0, idleShare - idleMain) * 100).toFixed(2)} %; /proc counts in 10 ms ticks)`,
    );

    // Heartbeats, compressed: the cost of one, in rounds against the floors, each round the same
    // heartbeats at the same rate to every server, the order rotating so none always goes first.
    mark('heartbeat');
    const realRate = registered / HEARTBEAT_INTERVAL_S;
    const fastRate = realRate * COMPRESSION;
    const targets = [
      { name: 'gateway', url: gw.url, pid },
      ...floors.map((f) => ({ name: f.kind, url: f.url, pid: f.pid })),
    ];
    const perRound = new Map<string, CpuSplit[]>(targets.map((t) => [t.name, []]));
    let hbSent = 0;
    let hbWall = 0;
    let hbError: string | undefined;
    for (let round = 0; round < HEARTBEAT_ROUNDS; round++) {
      for (let k = 0; k < targets.length; k++) {
        const target = targets[(round + k) % targets.length]!;
        const c0 = cpuSplit(target.pid);
        const w0 = performance.now();
        const rs = await Promise.all(
          clients.map((c) =>
            ask(
              c,
              { cmd: 'heartbeat', ratePerSec: fastRate / CLIENTS, seconds: HEARTBEAT_ROUND_S, base: target.url },
              120_000,
            ),
          ),
        );
        const ok = rs.reduce((n, r) => n + (r.ok as number), 0);
        hbError ??= rs.find((r) => r.firstError)?.firstError as string | undefined;
        perRound.get(target.name)!.push(perOp(cpuSplit(target.pid), c0, ok));
        if (target.name === 'gateway') {
          hbSent += ok;
          hbWall += (performance.now() - w0) / 1000;
        }
      }
    }
    const gwRounds = perRound.get('gateway')!;
    const usEach = median(gwRounds.map(totalOf));
    line(
      'heartbeat (compressed)',
      `${hbSent} in ${hbWall.toFixed(1)} s (${(hbSent / hbWall).toFixed(0)}/s, ${COMPRESSION}× a ${HEARTBEAT_INTERVAL_S} s interval): ${usEach.toFixed(0)} µs gateway CPU each (rounds ${range(gwRounds.map(totalOf))}; ${splitText(gwRounds)})${hbError === undefined ? '' : `, FAILED: ${hbError}`}`,
      `≤ 50 µs: ${usEach <= 50 ? 'met' : 'MISSED'}`,
    );
    for (const f of floors) {
      const rounds = perRound.get(f.kind)!;
      const ratios = gwRounds.map((g, k) => totalOf(g) / totalOf(rounds[k]!));
      line(
        `heartbeat floor (${f.kind})`,
        `${median(rounds.map(totalOf)).toFixed(0)} µs CPU each (rounds ${range(rounds.map(totalOf))}; ${splitText(rounds)}); gateway ÷ floor ${median(ratios).toFixed(2)}× (rounds ${range(ratios, 2)})`,
      );
    }

    // Heartbeats at the real rate: the steady state, then the same heartbeats to each floor server.
    mark('steady');
    const steadySeconds = 10;
    const steadyShare = async (target: string, targetPid: number): Promise<CpuSplit> => {
      const c0 = cpuSplit(targetPid);
      const w0 = performance.now();
      await Promise.all(
        clients.map((c) =>
          ask(c, { cmd: 'heartbeat', ratePerSec: realRate / CLIENTS, seconds: steadySeconds, base: target }, 120_000),
        ),
      );
      const c1 = cpuSplit(targetPid);
      const ms = performance.now() - w0;
      return { user: (c1.user - c0.user) / ms, sys: (c1.sys - c0.sys) / ms };
    };
    main0 = mainThreadMs(pid);
    t0 = performance.now();
    const steady = await steadyShare(gw.url, pid);
    wall = performance.now() - t0;
    const share = totalOf(steady);
    const steadyMain = (mainThreadMs(pid) - main0) / wall;
    line(
      'steady state',
      `${(share * 100).toFixed(2)} % of a core at ${realRate.toFixed(0)} heartbeats/s (user ${(steady.user * 100).toFixed(2)} %, system ${(steady.sys * 100).toFixed(2)} %; main thread ${(steadyMain * 100).toFixed(2)} %)`,
      `≤ 2 %: ${share <= 0.02 ? 'met' : 'MISSED'}`,
    );
    const rssAfter = rssMb(pid);
    line(
      'RSS after the heartbeats',
      `${rssAfter.toFixed(0)} MB (${(((rssAfter - rssEmpty) * 1024 * 1024) / Math.max(1, registered) / 1024).toFixed(1)} KB per instance over the empty gateway)`,
      `≤ 150 MB: ${rssAfter <= 150 ? 'met' : 'MISSED'}`,
    );
    for (const f of floors) {
      const floorSteady = await steadyShare(f.url, f.pid);
      const floorShare = totalOf(floorSteady);
      line(
        `steady state floor (${f.kind})`,
        `${(floorShare * 100).toFixed(2)} % of a core at the same rate (user ${(floorSteady.user * 100).toFixed(2)} %, system ${(floorSteady.sys * 100).toFixed(2)} %); gateway ÷ floor ${(share / floorShare).toFixed(2)}×`,
      );
    }

    // Listings.
    mark('listings');
    for (const path of ['/health', '/health?detail=1', '/internal/services', '/internal/services?service=svc7']) {
      const { p50, max, bytes } = await timeGet(`${gw.url}${path}`, 10);
      line(`GET ${path}`, `p50 ${p50.toFixed(1)} ms, max ${max.toFixed(1)} ms, ${(bytes / 1024).toFixed(0)} KiB`);
    }

    // Resync and lookup, in this process, on the same store.
    mark('resync');
    const {
      resyncMs,
      rounds,
      cpuMs: resyncCpu,
      listMs,
      listed,
      lookupNs,
    } = await resyncAndLookup(store, total, services);
    line(
      'resync (full list → cache)',
      `${listed} instances in ${resyncMs.toFixed(0)} ms (median of ${rounds.length}: ${rounds.map((r) => r.toFixed(0)).join(', ')} ms; least CPU ${resyncCpu.toFixed(0)} ms${listMs === undefined ? '' : `; store listing alone ${listMs.toFixed(0)} ms`})`,
      `≤ ${name === 'etcd' ? 2000 : 1000} ms: ${resyncMs <= (name === 'etcd' ? 2000 : 1000) ? 'met' : 'MISSED'}`,
    );
    line(
      'route lookup',
      `${lookupNs.toFixed(0)} ns (${listed} instances)`,
      `≤ 1000 ns: ${lookupNs <= 1000 ? 'met' : 'MISSED'}`,
    );
  } finally {
    // A profiled client writes its profile at a clean exit: it exits when the channel closes.
    for (const c of clients)
      if (profileArgs().length > 0 && c.connected) c.disconnect();
      else c.kill();
    for (const f of floors) f.child.kill();
    // SIGTERM, not the SIGKILL of disposal: a --cpu-prof profile is written at a clean exit.
    await gw.stop(30_000);
  }
}

/** With SCALE_CPU_PROF, prints when a phase starts on the monotonic clock (µs), the profile's time base. */
function mark(phase: string): void {
  if (profileArgs().length > 0) console.log(`  (phase ${phase} at ${process.hrtime.bigint() / 1000n} µs)`);
}

/** `--cpu-prof` flags with SCALE_CPU_PROF; the clients' profiles go to its `clients` subdirectory. */
function profileArgs(sub = ''): string[] {
  const dir = process.env.SCALE_CPU_PROF;
  return dir === undefined || dir === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${sub === '' ? dir : `${dir}/${sub}`}`];
}

function line(what: string, value: string, verdict = ''): void {
  console.log(`  ${what.padEnd(36)} ${value}${verdict === '' ? '' : `   [${verdict}]`}`);
}

/** Every floor server, or none: when one does not start, the ones that did are stopped. */
async function startFloors(): Promise<Awaited<ReturnType<typeof startFloor>>[]> {
  const started = await Promise.allSettled(FLOOR_KINDS.map((kind) => startFloor(kind)));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed === undefined)
    return started.map((r) => (r as PromiseFulfilledResult<Awaited<ReturnType<typeof startFloor>>>).value);
  for (const r of started) if (r.status === 'fulfilled') r.value.child.kill();
  throw failed.reason;
}

/** A floor heartbeat server (bench/lib/heartbeat-floor.ts) in a process of its own; killed if it does not start. */
async function startFloor(
  kind: FloorKind,
): Promise<{ kind: FloorKind; child: ChildProcess; pid: number; url: string }> {
  const child = fork(fileURLToPath(import.meta.url), ['--floor', kind], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`the ${kind} floor server did not start within 30 s`));
    }, 30_000);
    child.once('message', (m) => {
      clearTimeout(timer);
      resolve((m as { url: string }).url);
    });
  });
  return { kind, child, pid: child.pid!, url };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function range(xs: readonly number[], digits = 0): string {
  return `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;
}

function spawnClient(base: string, index: number, total: number, services: number): ChildProcess {
  return fork(fileURLToPath(import.meta.url), ['--client'], {
    execArgv: ['--import', 'tsx', ...profileArgs('clients')],
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

/** Sends `msg` to a client (none: waits for its next message, e.g. ready) and resolves with its answer. */
function ask(
  child: ChildProcess,
  msg: Record<string, unknown> | undefined,
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`client did not answer ${String(msg?.cmd ?? 'ready')} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    child.once('message', (reply) => {
      clearTimeout(timer);
      resolve(reply as Record<string, unknown>);
    });
    if (msg !== undefined) child.send(msg);
  });
}

/** User + system CPU of a process, in ms, from /proc. */
function cpuMs(pid: number): number {
  return totalOf(cpuSplit(pid));
}

/** CPU time in user and in system (kernel) mode: ms of a process, µs of an operation, or a share. */
interface CpuSplit {
  user: number;
  sys: number;
}

/** User + system CPU of a process's main thread (the event loop), in ms. */
function mainThreadMs(pid: number): number {
  return totalOf(cpuSplit(pid, `/proc/${pid}/task/${pid}/stat`));
}

/** User and system CPU of a process (or one of its threads), in ms, from /proc/<pid>/stat. */
function cpuSplit(pid: number, file = `/proc/${pid}/stat`): CpuSplit {
  const stat = readFileSync(file, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime, stime in USER_HZ ticks (100 a second on Linux).
  return { user: Number(fields[11]) * 10, sys: Number(fields[12]) * 10 };
}

function totalOf(c: CpuSplit): number {
  return c.user + c.sys;
}

/** µs of user and system CPU per operation between two readings. */
function perOp(after: CpuSplit, before: CpuSplit, ops: number): CpuSplit {
  const n = Math.max(1, ops);
  return { user: ((after.user - before.user) * 1000) / n, sys: ((after.sys - before.sys) * 1000) / n };
}

/** The median user and system µs of some rounds. */
function splitText(rounds: readonly CpuSplit[]): string {
  return `user ${median(rounds.map((r) => r.user)).toFixed(0)} + system ${median(rounds.map((r) => r.sys)).toFixed(0)}`;
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
): Promise<{
  resyncMs: number;
  rounds: number[];
  cpuMs: number;
  listMs: number | undefined;
  listed: number;
  lookupNs: number;
}> {
  let backend = store.backend();
  // A fresh gateway: connect, subscribe, list in full, fill the cache; three rounds, each on a
  // new client. The store's listing alone is timed apart to tell the store's share.
  const rounds: number[] = [];
  let cpuMs = 0;
  let listMs: number | undefined;
  if (backend !== undefined) {
    await backend.list();
    const l0 = performance.now();
    await backend.list();
    listMs = performance.now() - l0;
    await backend.close();
    for (let r = 0; r < 2; r++) {
      const c0 = process.cpuUsage();
      const t = performance.now();
      const fresh = new Registry({ backend: store.backend()!, ownsBackend: true });
      await fresh.ready();
      rounds.push(performance.now() - t);
      const used = process.cpuUsage(c0);
      cpuMs = (used.user + used.system) / 1000;
      await fresh.close();
    }
    backend = store.backend();
  }
  if (backend === undefined) {
    // The memory store lives inside the gateway: rebuild the same fleet in a local one.
    const memory = new MemoryBackend();
    for (let s = 0; s < services; s++) {
      for (let i = 0; i < total / services; i++) {
        await memory.register(registrationOf(s, i), { ttlMs: 90_000 });
      }
    }
    backend = memory;
  }
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const registry = new Registry({ backend: backend!, ownsBackend: true });
  await registry.ready();
  rounds.push(performance.now() - t0);
  const used = process.cpuUsage(c0);
  cpuMs = Math.min(cpuMs || Number.POSITIVE_INFINITY, (used.user + used.system) / 1000);
  const resyncMs = [...rounds].sort((a, b) => a - b)[Math.floor(rounds.length / 2)]!;
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
  return { resyncMs, rounds, cpuMs, listMs, listed, lookupNs: best };
}
