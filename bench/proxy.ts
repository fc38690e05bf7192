/**
 * Proxy bench (DESIGN.md §7), every variant in ONE run, each proxy in its own child process so
 * the load generator's CPU does not count against it:
 *
 *   node --import tsx bench/proxy.ts
 *
 * 1. one upstream node:http server (small fixed JSON, keep-alive), in a child;
 * 2. every proxy started at once (idle children cost nothing) and warmed up 1 s; then
 *    BENCH_ROUNDS (3) rounds in which each proxy in turn gets autocannon (no pipelining,
 *    BENCH_CONNECTIONS = 50) for BENCH_SECONDS (5): req/s, p50, p99, and the proxy's CPU µs per
 *    request (the child's own process.cpuUsage() before/after). Interleaving rounds spreads the
 *    noise of a shared machine over every variant; the table shows each variant's median round,
 *    and ratios to the raw node:http pipe proxy;
 * 3. "added p99 at 25% load": autocannon at a fixed overall rate = 25% of the raw pipe's max
 *    req/s, in BENCH_SLICES (3) slices of 2 s alternating between the upstream directly and the
 *    proxy, so both see the same machine noise; added = proxy p99 − direct p99 (and p50).
 *
 * Env: BENCH_SECONDS, BENCH_CONNECTIONS, BENCH_ROUNDS, BENCH_SLICES, BENCH_ONLY=kind,kind (raw always runs),
 * BENCH_CHILD_PROF=kind (writes that child's --cpu-prof to .cpu-prof/).
 * Targets: standalone CPU/request ≤ 1.10× raw pipe; fleetgate in Express ≥ 1.8× the req/s of
 * Express + http-proxy-middleware; added p99 ≤ 1 ms at 25% load.
 */
import { type ChildServer, type LoadResult, percentiles, runLoad, startChild } from './lib/load.js';
import { BENCH_PATH } from './lib/proxy-servers.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const SLICES = Number(process.env.BENCH_SLICES ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SLICE_SECONDS = 2;
const RATE_CONNECTIONS = 10;

const VARIANTS: readonly [kind: string, label: string][] = [
  ['raw', 'raw node:http pipe (keep-alive agent)'],
  ['fleetgate', 'fleetgate standalone (node:http)'],
  ['fleetgate-express', 'fleetgate inside Express 5'],
  ['express-hpm', 'Express 5 + http-proxy-middleware 3 (keep-alive agent)'],
  ['express-hpm-default', 'Express 5 + http-proxy-middleware 3 (defaults)'],
  ['fast-gateway', 'fast-gateway 3.4.7'],
];

interface Row {
  kind: string;
  label: string;
  max: LoadResult;
  cpuPerReq: number;
  /** Fixed-rate latency: through the proxy, and straight to the upstream in the interleaved slices. */
  proxied: { p50: number; p99: number; errors: number };
  direct: { p50: number; p99: number };
}

const children = new Set<ChildServer>();

async function start(kind: string, target?: string): Promise<ChildServer> {
  const child = await startChild(kind, target);
  children.add(child);
  return child;
}

async function stop(child: ChildServer): Promise<void> {
  await child.stop();
  children.delete(child);
}

async function maxRun(child: ChildServer): Promise<{ max: LoadResult; cpuPerReq: number }> {
  const url = child.url + BENCH_PATH;
  const before = await child.cpu();
  const max = await runLoad(url, { connections: CONNECTIONS, seconds: SECONDS });
  const after = await child.cpu();
  return { max, cpuPerReq: (after - before) / Math.max(1, max.total + max.errors) };
}

/** The round with the median CPU per request. */
function medianRound(runs: { max: LoadResult; cpuPerReq: number }[]): { max: LoadResult; cpuPerReq: number } {
  return [...runs].sort((a, b) => a.cpuPerReq - b.cpuPerReq)[Math.floor(runs.length / 2)]!;
}

async function rateRuns(
  child: ChildServer,
  upstream: ChildServer,
  rate: number,
): Promise<Pick<Row, 'proxied' | 'direct'>> {
  const load = { connections: RATE_CONNECTIONS, seconds: SLICE_SECONDS, overallRate: rate };
  await runLoad(child.url + BENCH_PATH, { ...load, seconds: 1 });
  const proxied: number[] = [];
  const direct: number[] = [];
  let errors = 0;
  for (let i = 0; i < SLICES; i++) {
    direct.push(...(await runLoad(upstream.url + BENCH_PATH, load)).times);
    const r = await runLoad(child.url + BENCH_PATH, load);
    proxied.push(...r.times);
    errors += r.errors;
  }
  return { proxied: { ...percentiles(proxied), errors }, direct: percentiles(direct) };
}

const fmt = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

function printTable(rows: Row[], rate: number): void {
  const raw = rows[0]!;
  console.log(
    `\nproxy bench: median of ${ROUNDS} interleaved rounds of ${CONNECTIONS} connections × ${SECONDS} s, no pipelining; node ${process.version}; ` +
      `${SLICES}×${SLICE_SECONDS} s interleaved slices at ${rate} req/s (25% of raw max), ${RATE_CONNECTIONS} connections\n`,
  );
  const header = [
    'variant',
    'req/s',
    '×raw',
    'p50 ms',
    'p99 ms',
    'CPU µs/req',
    '×raw',
    '+p50@25%',
    '+p99@25%',
    'errors',
  ];
  const table = rows.map((r) => [
    r.label,
    fmt(r.max.reqPerSec, 0),
    fmt(r.max.reqPerSec / raw.max.reqPerSec),
    fmt(r.max.p50),
    fmt(r.max.p99),
    fmt(r.cpuPerReq, 1),
    fmt(r.cpuPerReq / raw.cpuPerReq),
    fmt(r.proxied.p50 - r.direct.p50),
    fmt(r.proxied.p99 - r.direct.p99),
    String(r.max.errors + r.proxied.errors),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of table) console.log(line(row));
  console.log('\n+p50/+p99@25%: proxy latency minus direct-to-upstream latency at the same fixed rate, ms');
  for (const r of rows) {
    console.log(
      `  ${r.kind.padEnd(20)} direct p50 ${fmt(r.direct.p50)} p99 ${fmt(r.direct.p99)} | proxied p50 ${fmt(r.proxied.p50)} p99 ${fmt(r.proxied.p99)}`,
    );
  }

  const by = (k: string) => rows.find((r) => r.kind === k);
  const verdict = (ok: boolean) => (ok ? 'MET' : 'MISSED');
  console.log('\ntargets:');
  const fg = by('fleetgate');
  if (fg !== undefined) {
    const ratio = fg.cpuPerReq / raw.cpuPerReq;
    console.log(`  standalone CPU/request ≤ 1.10× raw pipe: ${fmt(ratio)}× ${verdict(ratio <= 1.1)}`);
    const added = fg.proxied.p99 - fg.direct.p99;
    console.log(`  added p99 ≤ 1 ms at 25% load (standalone): ${fmt(added)} ms ${verdict(added <= 1)}`);
  }
  const fgx = by('fleetgate-express');
  for (const hk of ['express-hpm', 'express-hpm-default']) {
    const hpm = by(hk);
    if (fgx === undefined || hpm === undefined) continue;
    const ratio = fgx.max.reqPerSec / hpm.max.reqPerSec;
    console.log(`  inside Express ≥ 1.8× req/s of ${hpm.label}: ${fmt(ratio)}× ${verdict(ratio >= 1.8)}`);
  }
}

async function main(): Promise<void> {
  const only = process.env.BENCH_ONLY?.split(',');
  const variants = VARIANTS.filter(([kind]) => only === undefined || kind === 'raw' || only.includes(kind));
  const upstream = await start('upstream');
  const proxies = new Map<string, ChildServer>();
  for (const [kind] of variants) {
    const child = await start(kind, upstream.url);
    proxies.set(kind, child);
    await runLoad(child.url + BENCH_PATH, { connections: CONNECTIONS, seconds: 1 });
  }
  const runs = new Map<string, { max: LoadResult; cpuPerReq: number }[]>();
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [kind, label] of variants) {
      process.stderr.write(`bench: round ${round}/${ROUNDS}: ${label}…\n`);
      runs.set(kind, [...(runs.get(kind) ?? []), await maxRun(proxies.get(kind)!)]);
    }
  }
  const rate = Math.max(1, Math.round(medianRound(runs.get('raw')!).max.reqPerSec * 0.25));
  const rows: Row[] = [];
  for (const [kind, label] of variants) {
    process.stderr.write(`bench: ${rate} req/s slices: ${label}…\n`);
    const child = proxies.get(kind)!;
    rows.push({ kind, label, ...medianRound(runs.get(kind)!), ...(await rateRuns(child, upstream, rate)) });
    await stop(child);
  }
  await stop(upstream);
  printTable(rows, rate);
}

async function cleanup(): Promise<void> {
  await Promise.allSettled([...children].map((c) => c.stop()));
}

process.on('SIGINT', () => {
  cleanup().finally(() => process.exit(130));
});

try {
  await main();
} finally {
  await cleanup();
}
