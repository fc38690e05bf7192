/**
 * What one heartbeat costs the gateway, beside the floors under it, in one run: the built
 * `fleetgate` bin (in-memory registry, health checks every hour as in bench/scale.ts) holds
 * `instances` registrations; a light client (prepared request bytes on keep-alive sockets,
 * bench/lib/raw-http.ts) sends their heartbeats at a paced rate to the gateway and to floor servers
 * answering the same requests (bench/lib/heartbeat-floor.ts: stock `node:http` and a bare `net`
 * server), in rounds whose order rotates. CPU comes from /proc for each server process, so the
 * client does not count. Prints per server: µs of CPU per heartbeat (user + system, median and
 * range of the rounds), the gateway ÷ each floor per round, the share of a core at the real rate
 * (one heartbeat per instance every 30 s), and the idle gateway's share.
 *
 *   node --import tsx bench/heartbeat-path.ts [instances=10000] [rounds=4]
 *
 * `FLEETGATE_BENCH_DIST=<outDir>` takes a prebuilt bin (bench/lib/built-bin.ts); `HB_CPU_PROF=<dir>`
 * runs the gateway with `--cpu-prof` into it (then every number includes the profiler's cost).
 * Smaller and quicker than bench/scale.ts, which prices the whole fleet's life; this one prices the
 * heartbeat path alone, for profiling it and pairing a change against the floor.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { startGateway } from '../e2e/support/gateway-process.js';
import { type BuiltBin, builtBin } from './lib/built-bin.js';
import { type FloorKind, runHeartbeatFloor } from './lib/heartbeat-floor.js';
import { quietCpu } from './lib/process-cpu.js';
import { RawHttpConnection, rawPost } from './lib/raw-http.js';
import { registrationBody } from './lib/scale-fleet.js';

const PER_SERVICE = 10;
const LANES = 16;
const INTERVAL_S = 30;
const COMPRESSION = 10;
const ROUND_S = 2;
const STEADY_S = 8;
/** Idle seconds measured; `HB_IDLE_S` lengthens them (e.g. to attach `strace -c -p <pid>`). */
const IDLE_S = Number(process.env.HB_IDLE_S ?? 5);
const FLOORS: readonly FloorKind[] = ['node-http', 'net'];

if (process.argv[2] === '--floor') runHeartbeatFloor(process.argv[3] as FloorKind);
else await main();

interface Target {
  name: string;
  url: string;
  pid: number;
}

async function main(): Promise<void> {
  const total = Number(process.argv[2] ?? 10_000);
  const rounds = Number(process.argv[3] ?? 4);
  const bin = builtBin();
  const load = (): string =>
    loadavg()
      .map((l) => l.toFixed(1))
      .join(' ');
  console.log(`heartbeat-path: ${total} instances, ${rounds} rounds, ${bin.origin}; load ${load()}`);
  const prof = process.env.HB_CPU_PROF;
  const floors: { child: ChildProcess; target: Target }[] = [];
  try {
    await using gw = await startBin(bin.bin, prof);
    // HB_BASE_DIST: a second bin (e.g. the code before a change), measured in the same rounds.
    const baseDist = process.env.HB_BASE_DIST;
    const baseBin = baseDist === undefined || baseDist === '' ? undefined : prebuiltBin(baseDist);
    await using baseGw = baseBin === undefined ? undefined : await startBin(baseBin.bin, undefined);
    for (const kind of FLOORS) floors.push(await startFloor(kind));
    const gateway: Target = { name: 'gateway', url: gw.url, pid: gw.child.pid! };
    const base: Target | undefined =
      baseGw === undefined ? undefined : { name: 'base', url: baseGw.url, pid: baseGw.child.pid! };
    const targets = [gateway, ...(base === undefined ? [] : [base]), ...floors.map((f) => f.target)];
    const held = await registerAll(gw.url, total);
    // The base gateway gets the same fleet; its tokens differ, so it gets its own heartbeat bytes.
    const heldBase = baseGw === undefined ? held : await registerAll(baseGw.url, total);
    const heldOf = (t: Target): readonly Held[] => (t === base ? heldBase : held);
    console.log(
      `  registered ${held.length} (gateway pid ${gateway.pid}${base === undefined ? '' : `, base pid ${base.pid}`}); load ${load()}`,
    );

    // The registration burst's leftovers (GC, sweeps) done before the idle window starts.
    if (!(await quietCpu(targets.map((t) => t.pid)))) console.log('  (the gateways did not go quiet within 5 s)');
    mark('idle');
    const idleGateways = base === undefined ? [gateway] : [gateway, base];
    const idle = await shares(
      idleGateways.map((t) => t.pid),
      () => new Promise((resolve) => setTimeout(resolve, IDLE_S * 1000)),
    );
    for (const [k, t] of idleGateways.entries())
      console.log(`  idle ${t.name}: ${pct(idle[k]!)} of a core over ${IDLE_S} s`);

    mark('heartbeat');
    const fastRate = (held.length / INTERVAL_S) * COMPRESSION;
    const perOp = new Map<string, number[]>(targets.map((t) => [t.name, []]));
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < targets.length; k++) {
        const t = targets[(round + k) % targets.length]!;
        const c0 = cpuTicks(t.pid);
        const sent = await beat(t.url, heldOf(t), fastRate, ROUND_S);
        perOp.get(t.name)!.push(((cpuTicks(t.pid) - c0) * 10_000) / sent);
      }
    }
    const gwRounds = perOp.get('gateway')!;
    console.log(`  heartbeat CPU at ${fastRate.toFixed(0)}/s (µs each, median and rounds; user+system):`);
    for (const t of targets) {
      const r = perOp.get(t.name)!;
      const ratio = t === gateway ? '' : `; gateway ÷ ${t.name} ${fmtRatios(gwRounds.map((g, i) => g / r[i]!))}`;
      console.log(
        `    ${t.name.padEnd(10)} ${median(r).toFixed(1)} µs (${r.map((x) => x.toFixed(0)).join(', ')})${ratio}`,
      );
    }

    mark('steady');
    const realRate = held.length / INTERVAL_S;
    console.log(`  steady state at ${realRate.toFixed(0)} heartbeats/s, ${STEADY_S} s each:`);
    const steady = new Map<string, number>();
    for (let round = 0; round < 2; round++)
      for (let k = 0; k < targets.length; k++) {
        const t = targets[(round + k) % targets.length]!;
        const [s] = await shares([t.pid], () => beat(t.url, heldOf(t), realRate, STEADY_S / 2));
        steady.set(t.name, (steady.get(t.name) ?? 0) + s! / 2);
      }
    for (const t of targets) {
      const s = steady.get(t.name)!;
      const ratio = t === gateway ? '' : `; gateway ÷ ${t.name} ${(steady.get('gateway')! / s).toFixed(2)}×`;
      console.log(`    ${t.name.padEnd(10)} ${pct(s)} of a core${ratio}`);
    }
    mark('end');
    console.log(`  load ${load()}`);
    await gw.stop(30_000); // SIGTERM: a --cpu-prof profile is written at a clean exit
    baseBin?.dispose();
  } finally {
    for (const f of floors) f.child.kill();
    bin.dispose();
  }
}

interface Held {
  request: Buffer;
}

/** Registers `total` instances over 16 keep-alive connections; returns each one's heartbeat request bytes. */
async function registerAll(base: string, total: number): Promise<Held[]> {
  const url = new URL(base);
  const services = Math.max(1, Math.round(total / PER_SERVICE));
  const lanes = Array.from({ length: LANES }, () => new RawHttpConnection(url.hostname, Number(url.port)));
  const held: Held[] = [];
  let next = 0;
  await Promise.all(
    lanes.map(async (lane) => {
      while (next < total) {
        const k = next++;
        const s = k % services;
        const i = Math.floor(k / services);
        const res = await lane.send(rawPost(url.host, '/internal/register-service', registrationBody(s, i)));
        const token = /"instance_token":"([^"]+)"/.exec(res.body)?.[1];
        if (res.status !== 200 || token === undefined) throw new Error(`register: ${res.status} ${res.body}`);
        const head = `PUT /internal/services/svc${s}/instances/svc${s}-${i}/heartbeat HTTP/1.1\r\nhost: ${url.host}\r\nx-instance-token: ${token}\r\ncontent-length: 0\r\n\r\n`;
        held.push({ request: Buffer.from(head, 'latin1') });
      }
    }),
  );
  for (const lane of lanes) lane.close();
  return held;
}

/** With HB_CPU_PROF, prints when a phase starts on the monotonic clock (µs), the profile's time base. */
function mark(phase: string): void {
  if ((process.env.HB_CPU_PROF ?? '') !== '')
    console.log(`  (phase ${phase} at ${process.hrtime.bigint() / 1000n} µs)`);
}

/** Sends `rate × seconds` heartbeats to `base`, paced, round-robin over `held`; resolves with how many succeeded. */
async function beat(base: string, held: readonly Held[], rate: number, seconds: number): Promise<number> {
  const url = new URL(base);
  const count = Math.round(rate * seconds);
  const lanes = Array.from({ length: LANES }, () => new RawHttpConnection(url.hostname, Number(url.port)));
  // Connections are opened (one request each) before the clock starts: a heartbeat does not pay a connect.
  await Promise.all(lanes.map((lane, k) => lane.send(held[k % held.length]!.request)));
  const start = performance.now();
  let ok = 0;
  let at = 0;
  await Promise.all(
    lanes.map(async (lane) => {
      while (at < count) {
        const k = at++;
        const wait = start + (k * 1000) / rate - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        const res = await lane.send(held[k % held.length]!.request);
        if (res.status === 200) ok++;
      }
    }),
  );
  for (const lane of lanes) lane.close();
  if (ok < count) throw new Error(`${count - ok} of ${count} heartbeats to ${base} failed`);
  return ok;
}

/** The share of a core each of `pids` used while `during` ran. */
async function shares(pids: readonly number[], during: () => Promise<unknown>): Promise<number[]> {
  const c0 = pids.map(cpuTicks);
  const t0 = performance.now();
  await during();
  const ms = performance.now() - t0;
  return pids.map((pid, k) => ((cpuTicks(pid) - c0[k]!) * 10) / ms);
}

/** The bin prebuilt in `dir` (bench/lib/built-bin.ts reads the directory from FLEETGATE_BENCH_DIST). */
function prebuiltBin(dir: string): BuiltBin {
  const saved = process.env.FLEETGATE_BENCH_DIST;
  process.env.FLEETGATE_BENCH_DIST = dir;
  try {
    return builtBin();
  } finally {
    if (saved === undefined) delete process.env.FLEETGATE_BENCH_DIST;
    else process.env.FLEETGATE_BENCH_DIST = saved;
  }
}

/** Starts a built bin with the in-memory registry, as bench/scale.ts runs it. */
function startBin(bin: string, prof: string | undefined): ReturnType<typeof startGateway> {
  return startGateway(
    {
      REGISTRY_TYPE: 'INMEMORY',
      REGISTRY_REGISTER_LIMIT: 'off',
      // As bench/scale.ts: the instances' URLs lead nowhere. HB_HEALTH_INTERVAL=1000h leaves the probes out of the idle row.
      HEALTH_CHECK_INTERVAL: process.env.HB_HEALTH_INTERVAL ?? '1h',
      LOG_LEVEL: 'warn',
    },
    {
      name: 'gateway',
      startTimeoutMs: 60_000,
      builtBin: bin,
      nodeArgs: prof === undefined || prof === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${prof}`],
    },
  );
}

/** User + system ticks (10 ms) of a process. */
function cpuTicks(pid: number): number {
  const stat = readStat(pid);
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function readStat(pid: number): string {
  return readFileSync(`/proc/${pid}/stat`, 'utf8');
}

async function startFloor(kind: FloorKind): Promise<{ child: ChildProcess; target: Target }> {
  const child = fork(fileURLToPath(import.meta.url), ['--floor', kind], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`the ${kind} floor did not start within 30 s`));
    }, 30_000);
    child.once('message', (m) => {
      clearTimeout(timer);
      resolve((m as { url: string }).url);
    });
  });
  return { child, target: { name: kind, url, pid: child.pid! } };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function fmtRatios(xs: readonly number[]): string {
  return `${median(xs).toFixed(2)}× (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`;
}

function pct(x: number): string {
  return `${(x * 100).toFixed(2)} %`;
}
