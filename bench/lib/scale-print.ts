/**
 * How bench/scale.ts prints: one row per measurement (name, value, verdict against its target),
 * and the small statistics its rows quote (median, range, the median user and system split).
 */
import type { CpuSplit } from './process-cpu.js';

/**
 * Prints one row: `what` padded to a column, its value, and the verdict in brackets when given.
 * @example line('route lookup', '606 ns', '≤ 1000 ns: met')
 */
export function line(what: string, value: string, verdict = ''): void {
  console.log(`  ${what.padEnd(36)} ${value}${verdict === '' ? '' : `   [${verdict}]`}`);
}

/** The median of some numbers (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * `min–max` of some numbers with `digits` decimals.
 * @example range([1.234, 2.5], 2) // '1.23–2.50'
 */
export function range(xs: readonly number[], digits = 0): string {
  return `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;
}

/** The median user and system µs of some rounds, as `user U + system S`. */
export function splitText(rounds: readonly CpuSplit[]): string {
  return `user ${median(rounds.map((r) => r.user)).toFixed(0)} + system ${median(rounds.map((r) => r.sys)).toFixed(0)}`;
}
