/**
 * CPU time the hypervisor took from this virtual machine ("steal", /proc/stat), so a bench can
 * say how much of its latency tail the host, not the code, is responsible for.
 */
import { readFileSync } from 'node:fs';

/** Cumulative CPU ticks of the whole machine: all, and stolen. `undefined` where /proc/stat is missing. */
export interface CpuTicks {
  total: number;
  steal: number;
}

/** Reads the machine-wide `cpu` line of /proc/stat. */
export function readCpuTicks(): CpuTicks | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user.
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    return { total, steal: fields[7] ?? 0 };
  } catch {
    return undefined;
  }
}

/** Share of CPU time stolen between two readings, in percent (NaN when unknown). */
export function stealPercent(before: CpuTicks | undefined, after: CpuTicks | undefined): number {
  if (before === undefined || after === undefined || after.total === before.total) return Number.NaN;
  return (100 * (after.steal - before.steal)) / (after.total - before.total);
}
