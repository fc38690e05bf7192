/**
 * Terminal output of the sandbox commands: aligned tables, progress ticks, durations. Colour
 * only on a TTY without `NO_COLOR`, so logs and tests see plain text.
 */
import type { ProcessRecord } from '../state-file.js';

const useColour = process.stdout.isTTY === true && !process.env.NO_COLOR;

const CODES = { green: 32, red: 31, yellow: 33, dim: 2, bold: 1 } as const;

/** Wraps text in an ANSI colour when stdout is a colour terminal. */
export function colour(name: keyof typeof CODES, text: string): string {
  return useColour ? `\u001b[${CODES[name]}m${text}\u001b[0m` : text;
}

/**
 * Formats rows as an aligned table with a header line.
 * @example formatTable(['ROLE', 'NAME'], [['gateway', 'gateway-1']])
 */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => visible(r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(Math.max(0, (widths[i] ?? 0) - visible(c).length))))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

function visible(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes to measure width.
  return s.replace(/\u001b\[\d+m/g, '');
}

/** A progress line: `✓ gateway-1  http://…  812 ms`. */
export function progressLine(name: string, detail: string, ms: number, ok = true): string {
  return `${ok ? colour('green', '✓') : colour('red', '✗')} ${name.padEnd(12)} ${detail}  ${colour('dim', `${ms} ms`)}`;
}

/** The "what runs where" table. `registry` adds the status the gateways report per instance. */
export function processTable(records: ProcessRecord[], registry?: Map<string, string>): string {
  const rows = records.map((r) => {
    const status =
      r.status === 'running' ? colour('green', r.status) : colour(r.status === 'crashed' ? 'red' : 'yellow', r.status);
    const row = [r.role, r.name, r.pid === undefined ? '-' : String(r.pid), r.url ?? '-', status];
    if (registry !== undefined) row.push(r.role === 'service' ? (registry.get(r.name) ?? 'ABSENT') : '-');
    return row;
  });
  const header = ['ROLE', 'NAME', 'PID', 'URL', 'STATUS'];
  if (registry !== undefined) header.push('REGISTRY');
  return formatTable(header, rows);
}

/** `2m 03s`, `850 ms`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m ${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
}
