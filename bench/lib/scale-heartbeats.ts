/**
 * The heartbeat phases of bench/scale.ts, once the fleet is registered: the gateway idle (no
 * requests), heartbeats compressed in time (10× the rate of a 30 s interval) to price one, in
 * rounds against the floor servers (bench/lib/heartbeat-floor.ts) in rotating order, and the
 * steady state at the real rate of a 30 s interval beside the same for each floor. The clients
 * send these heartbeats over warm keep-alive connections (undici, as the SDK's Agent does between
 * requests close together); bench/lib/scale-connections.ts prices a new connection each and a
 * fleet of idle keep-alive connections.
 */
import { type CpuSplit, cpuMs, cpuSplit, mainThreadMs, perOp, rssMb, totalOf } from './process-cpu.js';
import type { ClientReply, HeartbeatForm } from './scale-client.js';
import { line, median, range, splitText } from './scale-print.js';
import type { Floor } from './scale-processes.js';
import { mark } from './scale-processes.js';

/** The interval a fleet heartbeats at, in seconds. */
export const HEARTBEAT_INTERVAL_S = 30;
/** How many times the real rate the compressed rounds send. */
export const COMPRESSION = 10;
/** Rounds of each rotation, and how long each target gets in a round. */
export const HEARTBEAT_ROUNDS = 4;
export const HEARTBEAT_ROUND_S = 2;

/** A server the heartbeats go to: the gateway or a floor. */
export interface Target {
  name: string;
  url: string;
  pid: number;
}

/** What the heartbeat phases need of the run: the gateway, the floors, the clients, the fleet. */
export interface HeartbeatBench {
  gateway: Target;
  floors: readonly Floor[];
  /** Sends one command to every client; resolves with their answers. */
  askAll: (msg: Record<string, unknown>, timeoutMs: number) => Promise<ClientReply[]>;
  /** How many client processes share the rate. */
  clients: number;
  /** Instances registered (the real rate is this over the interval). */
  registered: number;
  /** The gateway's RSS before the registrations, MB. */
  rssEmpty: number;
}

/** The gateway and every floor, gateway first, named as the rows name them. */
export function targetsOf(bench: HeartbeatBench): Target[] {
  return [bench.gateway, ...bench.floors.map((f) => ({ name: f.kind, url: f.url, pid: f.pid }))];
}

/** One round's work against one target: resolves with the operations that succeeded. */
export type RoundWork = (target: Target) => Promise<{ ok: number; firstError?: string }>;

/** What rotating rounds measured: CPU µs per operation of each target, round by round. */
export interface Rotation {
  perRound: Map<string, CpuSplit[]>;
  /** Operations and wall seconds of the gateway's turns. */
  gatewayOps: number;
  gatewayWallS: number;
  firstError: string | undefined;
}

/**
 * `rounds` rounds, each running `work` against every target in turn, the order rotating so none
 * always goes first; each turn's CPU (from /proc) is divided by its successful operations.
 * @example const r = await rotate(targetsOf(bench), 4, (t) => heartbeatsTo(bench, t.url, rate));
 */
export async function rotate(targets: readonly Target[], rounds: number, work: RoundWork): Promise<Rotation> {
  const perRound = new Map<string, CpuSplit[]>(targets.map((t) => [t.name, []]));
  let gatewayOps = 0;
  let gatewayWallS = 0;
  let firstError: string | undefined;
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < targets.length; k++) {
      const target = targets[(round + k) % targets.length]!;
      const c0 = cpuSplit(target.pid);
      const w0 = performance.now();
      const r = await work(target);
      firstError ??= r.firstError;
      perRound.get(target.name)!.push(perOp(cpuSplit(target.pid), c0, r.ok));
      if (target === targets[0]) {
        gatewayOps += r.ok;
        gatewayWallS += (performance.now() - w0) / 1000;
      }
    }
  }
  return { perRound, gatewayOps, gatewayWallS, firstError };
}

/**
 * The clients' heartbeats to `base` at `ratePerSec` in all for `seconds`; `form` is how they
 * travel (bench/lib/scale-client.ts {@link HeartbeatForm}), by default over warm keep-alive connections.
 */
export async function heartbeatsTo(
  bench: HeartbeatBench,
  base: string,
  ratePerSec: number,
  seconds: number,
  form: HeartbeatForm = 'warm',
): Promise<{ ok: number; firstError?: string; reconnects: number }> {
  const rs = await bench.askAll(
    { cmd: 'heartbeat', ratePerSec: ratePerSec / bench.clients, seconds, base, form },
    120_000,
  );
  const ok = rs.reduce((n, r) => n + r.ok, 0);
  const reconnects = rs.reduce((n, r) => n + (r.reconnects ?? 0), 0);
  const firstError = rs.find((r) => r.firstError !== undefined)?.firstError;
  return firstError === undefined ? { ok, reconnects } : { ok, firstError, reconnects };
}

/** Prints the gateway's row and each floor's for a rotation, with gateway ÷ floor per round. */
export function printRotation(
  rotation: Rotation,
  gatewayRow: string,
  note: string,
  floors: readonly Floor[],
  floorRow: (kind: string) => string,
  target = 50,
): number {
  const gwRounds = rotation.perRound.get('gateway')!;
  const usEach = median(gwRounds.map(totalOf));
  const ops = rotation.gatewayOps;
  const wall = rotation.gatewayWallS;
  line(
    gatewayRow,
    `${ops} in ${wall.toFixed(1)} s (${(ops / wall).toFixed(0)}/s${note}): ${usEach.toFixed(0)} µs gateway CPU each (rounds ${range(gwRounds.map(totalOf))}; ${splitText(gwRounds)})${rotation.firstError === undefined ? '' : `, FAILED: ${rotation.firstError}`}`,
    `≤ ${target} µs: ${usEach <= target ? 'met' : 'MISSED'}`,
  );
  for (const f of floors) {
    const rounds = rotation.perRound.get(f.kind)!;
    const ratios = gwRounds.map((g, k) => totalOf(g) / totalOf(rounds[k]!));
    line(
      floorRow(f.kind),
      `${median(rounds.map(totalOf)).toFixed(0)} µs CPU each (rounds ${range(rounds.map(totalOf))}; ${splitText(rounds)}); gateway ÷ floor ${median(ratios).toFixed(2)}× (rounds ${range(ratios, 2)})`,
    );
  }
  return usEach;
}

/** How long each target gets the real rate in the steady-state rows, in seconds. */
export const STEADY_SECONDS = 10;

/**
 * The share of a core (user and system) the process `targetPid` spends answering the fleet's
 * heartbeats at the real rate of a 30 s interval, sent to `target` in `form` for STEADY_SECONDS.
 * @example const share = await steadyShareOf(bench, gw.url, gw.pid, 'fresh');
 */
export async function steadyShareOf(
  bench: HeartbeatBench,
  target: string,
  targetPid: number,
  form: HeartbeatForm = 'warm',
): Promise<CpuSplit> {
  const c0 = cpuSplit(targetPid);
  const w0 = performance.now();
  await heartbeatsTo(bench, target, bench.registered / HEARTBEAT_INTERVAL_S, STEADY_SECONDS, form);
  const c1 = cpuSplit(targetPid);
  const ms = performance.now() - w0;
  return { user: (c1.user - c0.user) / ms, sys: (c1.sys - c0.sys) / ms };
}

/**
 * The idle, compressed and steady-state rows.
 * @example await printHeartbeats(bench);
 */
export async function printHeartbeats(bench: HeartbeatBench): Promise<void> {
  const pid = bench.gateway.pid;
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
  const realRate = bench.registered / HEARTBEAT_INTERVAL_S;
  const fastRate = realRate * COMPRESSION;
  const rotation = await rotate(targetsOf(bench), HEARTBEAT_ROUNDS, (t) =>
    heartbeatsTo(bench, t.url, fastRate, HEARTBEAT_ROUND_S),
  );
  printRotation(
    rotation,
    'heartbeat (compressed)',
    `, ${COMPRESSION}× a ${HEARTBEAT_INTERVAL_S} s interval`,
    bench.floors,
    (kind) => `heartbeat floor (${kind})`,
  );

  // Heartbeats at the real rate: the steady state, then the same heartbeats to each floor server.
  mark('steady');
  const steadyShare = (target: string, targetPid: number): Promise<CpuSplit> => steadyShareOf(bench, target, targetPid);
  main0 = mainThreadMs(pid);
  t0 = performance.now();
  const steady = await steadyShare(bench.gateway.url, pid);
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
    `${rssAfter.toFixed(0)} MB (${(((rssAfter - bench.rssEmpty) * 1024 * 1024) / Math.max(1, bench.registered) / 1024).toFixed(1)} KB per instance over the empty gateway)`,
    `≤ 150 MB: ${rssAfter <= 150 ? 'met' : 'MISSED'}`,
  );
  for (const f of bench.floors) {
    const floorSteady = await steadyShare(f.url, f.pid);
    const floorShare = totalOf(floorSteady);
    line(
      `steady state floor (${f.kind})`,
      `${(floorShare * 100).toFixed(2)} % of a core at the same rate (user ${(floorSteady.user * 100).toFixed(2)} %, system ${(floorSteady.sys * 100).toFixed(2)} %); gateway ÷ floor ${(share / floorShare).toFixed(2)}×`,
    );
  }
}
