/**
 * CPU time from /proc, for benches that split a run's wall time between processes: one process
 * (user + system), the children of a process (the stores a bench started), and the whole machine
 * (busy and idle over all cores), so what neither side of a measurement used shows as the load of
 * its neighbours.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

const TICK_MS = 1000 / 100; // USER_HZ is 100 on Linux

/** User + system CPU of a process, in ms (0 once it is gone). */
export function cpuMs(pid: number): number {
  const fields = statFields(pid);
  return fields === undefined ? 0 : (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

/** User + system CPU of a process's main thread (its event loop), in ms: the rest is GC, JIT and libuv threads. */
export function mainThreadMs(pid: number): number {
  const fields = statFields(pid, `/proc/${pid}/task/${pid}/stat`);
  return fields === undefined ? 0 : (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

/** System (kernel) CPU of a process, in ms (0 once it is gone): its share of {@link cpuMs} spent in system calls. */
export function sysMs(pid: number): number {
  const fields = statFields(pid);
  return fields === undefined ? 0 : Number(fields[12]) * TICK_MS;
}

/** CPU time in user and in system (kernel) mode: ms of a process, µs of an operation, or a share. */
export interface CpuSplit {
  user: number;
  sys: number;
}

/**
 * User and system CPU of a process (or, with `file`, one of its threads), in ms (0 once it is gone).
 * @example const c = cpuSplit(pid); c.user + c.sys // the same as cpuMs(pid)
 */
export function cpuSplit(pid: number, file = `/proc/${pid}/stat`): CpuSplit {
  const fields = statFields(pid, file);
  return fields === undefined
    ? { user: 0, sys: 0 }
    : { user: Number(fields[11]) * TICK_MS, sys: Number(fields[12]) * TICK_MS };
}

/** User + system of a split. */
export function totalOf(c: CpuSplit): number {
  return c.user + c.sys;
}

/**
 * µs of user and system CPU per operation between two readings in ms.
 * @example perOp(cpuSplit(pid), before, 1000) // µs each of 1,000 operations
 */
export function perOp(after: CpuSplit, before: CpuSplit, ops: number): CpuSplit {
  const n = Math.max(1, ops);
  return { user: ((after.user - before.user) * 1000) / n, sys: ((after.sys - before.sys) * 1000) / n };
}

/** Resident memory of a process, in MB (NaN when /proc does not say). */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? Number.NaN : Number(m[1]) / 1024;
}

/**
 * Resolves once every process in `pids` used at most one /proc tick of CPU in a `windowMs` window
 * (the work a burst left behind, GC included, is done), or after `deadlineMs` whatever they do;
 * says which.
 * @example if (!(await quietCpu([pid]))) console.log('  (the gateway did not go quiet)');
 */
export async function quietCpu(pids: readonly number[], windowMs = 100, deadlineMs = 5_000): Promise<boolean> {
  const end = performance.now() + deadlineMs;
  while (performance.now() < end) {
    const before = pids.map(cpuMs);
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    if (pids.every((pid, i) => cpuMs(pid) - before[i]! <= TICK_MS)) return true;
  }
  return false;
}

/** The live child processes of `ppid`. */
export function childPids(ppid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const fields = statFields(Number(name));
    if (fields !== undefined && Number(fields[1]) === ppid) out.push(Number(name));
  }
  return out;
}

/** Busy and total CPU of the machine so far, in ms summed over all cores. */
export interface MachineCpu {
  busyMs: number;
  totalMs: number;
}

/** The machine's CPU counters (first line of /proc/stat; idle and iowait are not busy). */
export function machineCpu(): MachineCpu {
  const first = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const ticks = first.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  const idle = ticks[3]! + ticks[4]!;
  return { busyMs: (total - idle) * TICK_MS, totalMs: total * TICK_MS };
}

/** The cores the machine has, for shares of "all of it". */
export const CORES = availableParallelism();

function statFields(pid: number, file = `/proc/${pid}/stat`): string[] | undefined {
  let stat: string;
  try {
    stat = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  // After the command name, which may hold spaces: state, ppid, …, utime (14th field) and stime.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}
