/**
 * The registration phase of bench/scale.ts: the client processes register the whole fleet in
 * `slices` equal steps (every client its slice, then the next), and each step's CPU is read from
 * /proc for the gateway, the clients (their own `process.cpuUsage()`), the store's processes and
 * the whole machine. That says where the wall time went: the gateway's CPU, the clients', the
 * store's, the neighbours' (the machine's busy time that is none of those) or idle (waiting).
 * The gateway's CPU is split further into its main thread's (the rest is GC, JIT and libuv
 * threads) and its time in the kernel (socket reads and writes).
 * The first and the last step price the first and the last 1,000 registrations apart, so a cost
 * that grows with the fleet shows.
 */
import { CORES, cpuMs, machineCpu, mainThreadMs, sysMs } from './process-cpu.js';
import type { ClientReply } from './scale-client.js';

/** Sends one command to every client and collects their answers. */
export type AskClients = (msg: Record<string, unknown>) => Promise<ClientReply[]>;

/** What one step of registrations cost. */
export interface RegistrationStep {
  registered: number;
  wallMs: number;
  gatewayMs: number;
  clientMs: number;
}

/** The whole registration phase. */
export interface RegistrationRun {
  registered: number;
  failed: number;
  firstError: string | undefined;
  wallMs: number;
  /** CPU over the phase, ms: the gateway, all clients, the store's processes, the machine (all cores). */
  gatewayMs: number;
  /** The part of gatewayMs spent in the kernel (socket reads and writes). */
  gatewaySysMs: number;
  /** The part of gatewayMs on the main thread (the rest: GC, JIT and libuv threads). */
  gatewayMainMs: number;
  clientMs: number;
  storeMs: number;
  machineBusyMs: number;
  steps: RegistrationStep[];
}

/**
 * Registers the fleet in `slices` steps and measures each.
 * @example const run = await measureRegistration(askAll, gw.pid, () => storePids, 10);
 */
export async function measureRegistration(
  ask: AskClients,
  gatewayPid: number,
  storePids: () => readonly number[],
  slices: number,
): Promise<RegistrationRun> {
  const stores = storePids();
  const storeCpu = (): number => stores.reduce((sum, pid) => sum + cpuMs(pid), 0);
  const m0 = machineCpu();
  const g0 = cpuMs(gatewayPid);
  const k0 = sysMs(gatewayPid);
  const e0 = mainThreadMs(gatewayPid);
  const s0 = storeCpu();
  const t0 = performance.now();
  const steps: RegistrationStep[] = [];
  let failed = 0;
  let firstError: string | undefined;
  for (let slice = 0; slice < slices; slice++) {
    const gs = cpuMs(gatewayPid);
    const ts = performance.now();
    const replies = await ask({ cmd: 'register', slice, slices });
    failed += replies.reduce((n, r) => n + r.failed, 0);
    firstError ??= replies.find((r) => r.firstError !== undefined)?.firstError;
    steps.push({
      registered: replies.reduce((n, r) => n + r.ok, 0),
      wallMs: performance.now() - ts,
      gatewayMs: cpuMs(gatewayPid) - gs,
      clientMs: replies.reduce((n, r) => n + r.cpuUs, 0) / 1000,
    });
  }
  const m1 = machineCpu();
  return {
    registered: steps.reduce((n, s) => n + s.registered, 0),
    failed,
    firstError,
    wallMs: performance.now() - t0,
    gatewayMs: cpuMs(gatewayPid) - g0,
    gatewaySysMs: sysMs(gatewayPid) - k0,
    gatewayMainMs: mainThreadMs(gatewayPid) - e0,
    clientMs: steps.reduce((n, s) => n + s.clientMs, 0),
    storeMs: storeCpu() - s0,
    machineBusyMs: m1.busyMs - m0.busyMs,
    steps,
  };
}

/**
 * The lines bench/scale.ts prints for a run: throughput and CPU per registration of each side,
 * then where the wall time went, as shares of the machine's cores over the phase.
 */
export function describeRegistration(run: RegistrationRun): { throughput: string; split: string; growth: string } {
  const n = Math.max(1, run.registered);
  const us = (ms: number): string => `${((ms * 1000) / n).toFixed(0)} µs`;
  const wall = run.wallMs;
  const pct = (ms: number): string => `${((ms / wall) * 100).toFixed(0)} %`;
  const others = Math.max(0, run.machineBusyMs - run.gatewayMs - run.clientMs - run.storeMs);
  const idle = Math.max(0, CORES * wall - run.machineBusyMs);
  const bound =
    run.gatewayMs >= run.clientMs
      ? `gateway-bound (gateway ${(run.gatewayMs / run.clientMs).toFixed(2)}× the clients' CPU)`
      : `CLIENT-BOUND (clients ${(run.clientMs / run.gatewayMs).toFixed(2)}× the gateway's CPU)`;
  const first = run.steps[0];
  const last = run.steps[run.steps.length - 1];
  const each = (s: RegistrationStep | undefined): string =>
    s === undefined ? '?' : `${((s.gatewayMs * 1000) / Math.max(1, s.registered)).toFixed(0)} µs`;
  return {
    throughput: `${run.registered} in ${(wall / 1000).toFixed(2)} s = ${((run.registered * 1000) / wall).toFixed(0)}/s; CPU each: gateway ${us(run.gatewayMs)} (main thread ${us(run.gatewayMainMs)}, system ${us(run.gatewaySysMs)}), clients ${us(run.clientMs)}${run.storeMs > 0 ? `, store ${us(run.storeMs)}` : ''}${run.failed > 0 ? `; ${run.failed} FAILED (${run.firstError})` : ''}`,
    split: `cores busy over the wall (${CORES} in all): gateway ${pct(run.gatewayMs)}, clients ${pct(run.clientMs)}, store ${pct(run.storeMs)}, other processes ${pct(others)}, idle ${pct(idle)} (100 % = one core); ${bound}`,
    growth: `gateway CPU per registration, first ${first?.registered ?? 0}: ${each(first)}, last ${last?.registered ?? 0}: ${each(last)} (steps ${run.steps.map(each).join(', ')})`,
  };
}
