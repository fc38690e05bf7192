/** Parses human durations used in env vars and options: `90s`, `500ms`, `2m`, `1h`, or bare milliseconds. */

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/;

/** The accepted form, for error messages. */
export const DURATION_FORM = 'a number with an optional unit: 500ms, 90s, 2m, 1h (bare numbers are ms)';

/**
 * Converts a duration to milliseconds, or returns `undefined` when it is not one.
 * @example parseDuration('90s') // 90000
 */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  const m = PATTERN.exec(value.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * (UNITS[m[2] ?? 'ms'] ?? 1);
  return Number.isFinite(ms) ? Math.round(ms) : undefined;
}
