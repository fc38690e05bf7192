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
