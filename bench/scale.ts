/**
 * Scale: one `fleetgate` bin with 10,000 instances in 1,000 services,
 * per backend (memory, redis, redis-cluster, etcd; servers from the test harness, a backend whose
 * server cannot start here is skipped). Client processes register through the HTTP API, then
 * heartbeat: first compressed (10× the rate of a 30 s interval) to price one heartbeat, then at
 * the real rate of a 30 s interval to measure the steady state (bench/lib/scale-heartbeats.ts).
 * Those heartbeats use warm keep-alive connections; a real fleet's SDK connects anew for each
 * heartbeat at a 30 s interval, which the "a new connection each" rows price, and the last rows
 * open one idle keep-alive connection per instance to price the other choice: the gateway's RSS
 * for them, and a heartbeat on one beside a new connection each (bench/lib/scale-connections.ts).
 * Gateway CPU comes from /proc/<pid>/stat, so neighbours on this shared machine do not count against it.
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
 * and probing 10,000 of them is a cost of its own, not a heartbeat's. The idle connections need
 * SERVER_KEEPALIVE_TIMEOUT=600s and the connection cap raised (keepAliveFleetEnv); no other row
 * leaves a socket idle long enough for either to matter.
 */
import { loadavg } from 'node:os';
import { startGateway } from '../e2e/support/gateway-process.js';
import { type BuiltBin, builtBin } from './lib/built-bin.js';
import { type FloorKind, runHeartbeatFloor } from './lib/heartbeat-floor.js';
import { childPids, rssMb } from './lib/process-cpu.js';
import { type ClientReply, runClient } from './lib/scale-client.js';
import { keepAliveFleetEnv, printKeepAliveFleet, printNewConnectionHeartbeats } from './lib/scale-connections.js';
import { printHeartbeats } from './lib/scale-heartbeats.js';
import { printListings, printResyncAndLookup } from './lib/scale-listings.js';
import { line } from './lib/scale-print.js';
import { ask, type Floor, mark, profileArgs, spawnClient, startFloors } from './lib/scale-processes.js';
import { type AskClients, describeRegistration, measureRegistration } from './lib/scale-registration.js';
import { type ScaleStore, startStore } from './lib/scale-stores.js';

const CLIENTS = 4;
const PER_SERVICE = 10;
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

async function runBackend(
  name: string,
  store: ScaleStore,
  bin: BuiltBin,
  total: number,
  services: number,
): Promise<void> {
  console.log(`\n[${name}]`);
  await using gw = await startGateway(
    {
      ...store.env,
      REGISTRY_REGISTER_LIMIT: 'off',
      REGISTRY_TTL: '90s',
      HEALTH_CHECK_INTERVAL: '1h',
      LOG_LEVEL: 'warn',
      ...keepAliveFleetEnv(total),
    },
    { name: `gateway-${name}`, startTimeoutMs: 60_000, builtBin: bin.bin, nodeArgs: profileArgs() },
  );
  const pid = gw.child.pid!;
  const rssEmpty = rssMb(pid);
  // Only the heartbeat rows need the floor servers.
  const floors: Floor[] = phases.has('rest') ? await startFloors() : [];
  const clients = Array.from({ length: CLIENTS }, (_, k) => spawnClient(gw.url, k, CLIENTS, total, services));
  try {
    // Their start-up (tsx, building the bodies) is no part of any measurement.
    await Promise.all(clients.map((c) => ask(c, undefined, 60_000)));
    // Registration, in steps, with the CPU of every side (bench/lib/scale-registration.ts).
    mark('registration');
    const known = new Set([pid, ...floors.map((f) => f.pid), ...clients.map((c) => c.pid!)]);
    const storePids = childPids(process.pid).filter((p) => !known.has(p));
    const askAll = (msg: Record<string, unknown>, timeoutMs: number): Promise<ClientReply[]> =>
      Promise.all(clients.map((c) => ask(c, msg, timeoutMs) as Promise<unknown> as Promise<ClientReply>));
    const askRegister: AskClients = (msg) => askAll(msg, 600_000);
    const run = await measureRegistration(askRegister, pid, () => storePids, REGISTRATION_STEPS);
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

    const bench = {
      gateway: { name: 'gateway', url: gw.url, pid },
      floors,
      askAll,
      clients: CLIENTS,
      registered,
      rssEmpty,
    };
    await printHeartbeats(bench);
    await printNewConnectionHeartbeats(bench);

    mark('listings');
    await printListings(gw.url);

    // Resync and lookup, in this process, on the same store.
    mark('resync');
    await printResyncAndLookup(name, store, total, services).catch((err: unknown) => {
      // A store that times out under load fails this row, not the rows after it.
      line('resync (full list → cache)', `FAILED: ${(err as Error).message}`);
    });

    // Last: the connections the gateway held leave their memory behind.
    await printKeepAliveFleet(bench, registered);
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
