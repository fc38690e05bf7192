/**
 * Proxy bench (docs/performance.md), every variant in ONE run, each proxy in its own child process so
 * the load generator's CPU does not count against it:
 *
 *   node --import tsx bench/proxy.ts
 *
 * 1. one upstream node:http server (small fixed JSON, keep-alive), in a child;
 * 2. every proxy started at once (idle children cost nothing) and warmed up 1 s; then
 *    BENCH_ROUNDS (5) rounds (in alternating order: forwards, then backwards, so no variant
 *    always runs right after the same neighbour) in which each proxy in turn gets autocannon (no pipelining,
 *    BENCH_CONNECTIONS = 50) for BENCH_SECONDS (5): req/s, p50, p99, and the proxy's CPU µs per
 *    request (the child's own process.cpuUsage() before/after). Interleaving rounds spreads the
 *    noise of a shared machine over every variant; the table shows each variant's median round,
 *    and ratios to the raw node:http pipe proxy; the targets pair variants round by round and
 *    print the median ratio with its range over the rounds, and each round's ratio with whether
 *    it met the target;
 * 3. "added latency at 25% load": for each proxy, an open-loop schedule (bench/lib/open-loop.ts:
 *    requests evenly spaced, never waiting for answers) at 25% of that proxy's own max req/s,
 *    in BENCH_SLICES (4) pairs of 2.5 s slices alternating between the upstream directly and the
 *    proxy, so both see the same machine noise; added = proxy percentile − direct percentile,
 *    pooled and as the median over the pairs, printed with the CPU the hypervisor stole meanwhile
 *    (/proc/stat): on a shared virtual machine that, not the proxy, sets the millisecond tail.
 *
 * Variants: the raw pipe, fleetgate standalone (without and with `createMetrics()`), fleetgate and http-proxy-middleware inside the same
 * Express 5 app served by `http.createServer(app)` (as users write it), the README's Express form
 * (zero-argument `registry()` and `discoveryProxy()` on the default registry, `app.listen`), the same two served by
 * fleetgate's `createExpressServer(app)`, HPM with its defaults, and fast-gateway.
 *
 * Env: BENCH_SECONDS, BENCH_CONNECTIONS, BENCH_ROUNDS, BENCH_SLICES,
 * BENCH_ONLY=kind,kind (raw always runs), BENCH_CHILD_PROF=kind (writes that child's --cpu-prof to .cpu-prof/).
 * Targets (issue 16): standalone CPU/request ≤ 1.00× raw pipe; the README's Express form ≥ 1.8× the
 * req/s of Express + http-proxy-middleware (keep-alive agent); added p99 ≤ 1 ms at 25% load.
 */
import { readCpuTicks, stealPercent } from './lib/cpu-steal.js';
import type { GatewayTime } from './lib/gateway-time.js';
import { type ChildServer, type LoadResult, runLoad, startChild } from './lib/load.js';
import { runOpenLoop } from './lib/open-loop.js';
import { BENCH_PATH } from './lib/proxy-servers.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const SLICES = Number(process.env.BENCH_SLICES ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SLICE_SECONDS = 2.5;
const RATE_CONNECTIONS = 16;
/** "25% load": the fixed rate as a share of each proxy's own max req/s. */
const LOAD_SHARE = 0.25;

const VARIANTS: readonly [kind: string, label: string][] = [
  ['raw', 'raw node:http pipe (keep-alive agent)'],
  ['fleetgate', 'fleetgate standalone (node:http)'],
  ['fleetgate-metrics', 'fleetgate standalone with createMetrics() (as the bin)'],
  ['fleetgate-express', 'fleetgate inside Express 5'],
  ['fleetgate-readme', "README's Express form: registry() + discoveryProxy(), app.listen"],
  ['express-hpm', 'Express 5 + http-proxy-middleware 3 (keep-alive agent)'],
  ['express-hpm-default', 'Express 5 + http-proxy-middleware 3 (defaults)'],
  ['fleetgate-express-server', 'fleetgate inside Express 5, createExpressServer'],
  ['express-hpm-server', 'Express 5 + HPM 3 (keep-alive), createExpressServer'],
  ['fast-gateway', 'fast-gateway 3.4.7'],
];

interface MaxRun {
  max: LoadResult;
  cpuPerReq: number;
}

interface Row {
  kind: string;
  label: string;
  /** Every round's full-load run, in round order (the ratio targets pair them round by round). */
  rounds: MaxRun[];
  max: LoadResult;
  cpuPerReq: number;
  /** The fixed rate of the latency slices: {@link LOAD_SHARE} of this proxy's max. */
  rate: number;
  /** Fixed-rate latency: through the proxy, and straight to the upstream in the interleaved slices. */
  proxied: Latency & { errors: number; late: number };
  direct: Latency;
  /** Median over the slice pairs of (proxied p99 − direct p99): robust to one bad slice. */
  addedP99Median: number;
  /** CPU stolen by the hypervisor during the latency slices, %. */
  steal: number;
  /** The proxy's own time per request during the slices, measured inside it (fleetgate kinds). */
  inProxy: GatewayTime | undefined;
}

interface Latency {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
}

function latency(sorted: number[]): Latency {
  const at = (q: number) =>
    sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999) };
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

async function maxRun(child: ChildServer): Promise<MaxRun> {
  const url = child.url + BENCH_PATH;
  const before = await child.cpu();
  const max = await runLoad(url, { connections: CONNECTIONS, seconds: SECONDS });
  const after = await child.cpu();
  return { max, cpuPerReq: (after - before) / Math.max(1, max.total + max.errors) };
}

/** The round with the median CPU per request. */
function medianRound(runs: MaxRun[]): MaxRun {
  return [...runs].sort((a, b) => a.cpuPerReq - b.cpuPerReq)[Math.floor(runs.length / 2)]!;
}

/**
 * A ratio taken round by round (the two variants ran seconds apart, so they shared the machine's
 * mood), summarised as the median with the range. On a shared VM the machine's speed drifts by
 * tens of percent over minutes; a ratio of medians taken minutes apart inherits that drift.
 */
interface PairedRatio {
  median: number;
  min: number;
  max: number;
  /** Each round's ratio, in round order. */
  perRound: number[];
}

function pairedRatio(a: Row, b: Row, of: (run: MaxRun) => number): PairedRatio {
  const perRound = a.rounds.map((run, i) => of(run) / of(b.rounds[i]!));
  const ratios = [...perRound].sort((x, y) => x - y);
  return {
    median: ratios[Math.floor(ratios.length / 2)]!,
    min: ratios[0]!,
    max: ratios[ratios.length - 1]!,
    perRound,
  };
}

/** A target's line: the median ratio with its range, its verdict, then every round's ratio and verdict. */
function printTarget(name: string, ratio: PairedRatio, met: (r: number) => boolean): void {
  const verdict = (ok: boolean) => (ok ? 'MET' : 'MISSED');
  const rounds = ratio.perRound.map((r, i) => `${i + 1}: ${fmt(r)}× ${verdict(met(r))}`).join(', ');
  console.log(`  ${name}: ${fmtRatio(ratio)} ${verdict(met(ratio.median))}`);
  console.log(`    per round: ${rounds}; ${ratio.perRound.filter(met).length}/${ratio.perRound.length} rounds met`);
}

const fmtRatio = (r: PairedRatio): string => `${fmt(r.median)}× (rounds ${fmt(r.min)}–${fmt(r.max)})`;

async function rateRuns(
  child: ChildServer,
  upstream: ChildServer,
  rate: number,
  measureInProxy: boolean,
): Promise<Pick<Row, 'proxied' | 'direct' | 'addedP99Median' | 'steal' | 'inProxy'>> {
  const load = { connections: RATE_CONNECTIONS, seconds: SLICE_SECONDS, rate };
  await runOpenLoop(child.url + BENCH_PATH, { ...load, seconds: 1 });
  await runOpenLoop(upstream.url + BENCH_PATH, { ...load, seconds: 1 });
  const proxied: number[] = [];
  const direct: number[] = [];
  const pairDiffs: number[] = [];
  let errors = 0;
  let late = 0;
  const ticks = readCpuTicks();
  if (measureInProxy) await child.startGatewayTime();
  for (let i = 0; i < SLICES; i++) {
    const d = await runOpenLoop(upstream.url + BENCH_PATH, load);
    const p = await runOpenLoop(child.url + BENCH_PATH, load);
    direct.push(...d.times);
    proxied.push(...p.times);
    pairDiffs.push(latency(p.times).p99 - latency(d.times).p99);
    errors += p.errors;
    late += p.late;
  }
  const inProxy = measureInProxy ? await child.stopGatewayTime() : undefined;
  const steal = stealPercent(ticks, readCpuTicks());
  const sort = (xs: number[]) => xs.sort((a, b) => a - b);
  return {
    proxied: { ...latency(sort(proxied)), errors, late },
    direct: latency(sort(direct)),
    addedP99Median: sort(pairDiffs)[Math.floor(pairDiffs.length / 2)]!,
    steal,
    inProxy,
  };
}

const fmt = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

function printTable(rows: Row[]): void {
  const raw = rows[0]!;
  console.log(
    `\nproxy bench: median of ${ROUNDS} interleaved rounds of ${CONNECTIONS} connections × ${SECONDS} s, no pipelining; node ${process.version}; ` +
      `latency: open loop at ${LOAD_SHARE * 100}% of each proxy's max, ${SLICES}×${SLICE_SECONDS} s slices interleaved with direct, ${RATE_CONNECTIONS} connections\n`,
  );
  const header = ['variant', 'req/s', '×raw', 'p50 ms', 'p99 ms', 'CPU µs/req', '×raw', 'errors'];
  printRows(
    header,
    rows.map((r) => [
      r.label,
      fmt(r.max.reqPerSec, 0),
      fmt(r.max.reqPerSec / raw.max.reqPerSec),
      fmt(r.max.p50),
      fmt(r.max.p99),
      fmt(r.cpuPerReq, 1),
      fmt(r.cpuPerReq / raw.cpuPerReq),
      String(r.max.errors + r.proxied.errors),
    ]),
  );
  console.log(
    `\nlatency at ${LOAD_SHARE * 100}% load (ms): added = through the proxy − straight to the upstream, same rate`,
  );
  printRows(
    [
      'variant',
      'req/s',
      'direct p50',
      'p99',
      'proxied p50',
      'p99',
      'p99.9',
      '+p50',
      '+p90',
      '+p99',
      '+p99 med',
      'late',
      'steal %',
      'in-proxy p50',
      'p99',
      'p99.9',
    ],
    rows.map((r) => [
      r.kind,
      String(r.rate),
      fmt(r.direct.p50),
      fmt(r.direct.p99),
      fmt(r.proxied.p50),
      fmt(r.proxied.p99),
      fmt(r.proxied.p999),
      fmt(r.proxied.p50 - r.direct.p50),
      fmt(r.proxied.p90 - r.direct.p90),
      fmt(r.proxied.p99 - r.direct.p99),
      fmt(r.addedP99Median),
      String(r.proxied.late),
      fmt(r.steal, 1),
      fmt(r.inProxy?.p50 ?? Number.NaN, 3),
      fmt(r.inProxy?.p99 ?? Number.NaN, 3),
      fmt(r.inProxy?.p999 ?? Number.NaN, 3),
    ]),
  );

  const by = (k: string) => rows.find((r) => r.kind === k);
  const verdict = (ok: boolean) => (ok ? 'MET' : 'MISSED');
  console.log('\ntargets:');
  const fg = by('fleetgate');
  if (fg !== undefined) {
    printTarget(
      'standalone CPU/request ≤ 1.00× raw pipe',
      pairedRatio(fg, raw, (run) => run.cpuPerReq),
      (r) => r <= 1,
    );
    const added = fg.proxied.p99 - fg.direct.p99;
    console.log(
      `  added p99 ≤ 1 ms at 25% load (standalone): pooled ${fmt(added)} ms, median of slice pairs ${fmt(fg.addedP99Median)} ms ` +
        `${verdict(added <= 1)} (hypervisor steal during the slices: ${fmt(fg.steal, 1)}%)`,
    );
    if (fg.inProxy !== undefined) {
      console.log(
        `    of which spent inside fleetgate (request parsed → sent upstream, response head → finished): ` +
          `p50 ${fmt(fg.inProxy.p50, 3)} ms, p99 ${fmt(fg.inProxy.p99, 3)} ms, p99.9 ${fmt(fg.inProxy.p999, 3)} ms over ${fg.inProxy.count} requests`,
      );
    }
  }
  const fgm = by('fleetgate-metrics');
  if (fg !== undefined && fgm !== undefined) {
    // Not a target: what Prometheus metrics cost a request, paired round by round.
    console.log(`  metrics on: CPU/request ${fmtRatio(pairedRatio(fgm, fg, (run) => run.cpuPerReq))} of metrics off`);
  }
  const readme = by('fleetgate-readme');
  const hpm = by('express-hpm');
  if (readme !== undefined && hpm !== undefined) {
    printTarget(
      `README's Express form ≥ 1.8× req/s of ${hpm.label}`,
      pairedRatio(readme, hpm, (run) => run.max.reqPerSec),
      (r) => r >= 1.8,
    );
    // Not a target: the same comparison by CPU per request (HPM's over the README form's).
    console.log(`    by CPU/request: ${fmtRatio(pairedRatio(hpm, readme, (run) => run.cpuPerReq))} less than HPM`);
    const fgAlone = by('fleetgate');
    if (fgAlone !== undefined) {
      console.log(
        `    README form's CPU/request: ${fmtRatio(pairedRatio(readme, fgAlone, (run) => run.cpuPerReq))} of standalone`,
      );
    }
  }
  const fgx = by('fleetgate-express');
  for (const hk of ['express-hpm', 'express-hpm-default']) {
    const h = by(hk);
    if (fgx === undefined || h === undefined) continue;
    const ratio = pairedRatio(fgx, h, (run) => run.max.reqPerSec);
    console.log(`  inside Express ≥ 1.8× req/s of ${h.label}: ${fmtRatio(ratio)} ${verdict(ratio.median >= 1.8)}`);
  }
  const fgs = by('fleetgate-express-server');
  const hs = by('express-hpm-server');
  if (fgs !== undefined && hs !== undefined) {
    console.log('\nboth served by createExpressServer(app) (no per-request prototype swap; not a target):');
    const reqs = (run: MaxRun) => run.max.reqPerSec;
    console.log(`  fleetgate ${fmtRatio(pairedRatio(fgs, hs, reqs))} the req/s of HPM (keep-alive)`);
    if (fgx !== undefined) {
      console.log(`  fleetgate ${fmtRatio(pairedRatio(fgs, fgx, reqs))} its own req/s under http.createServer(app)`);
    }
  }
}

function printRows(header: string[], table: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of table) console.log(line(row));
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
  const runs = new Map<string, MaxRun[]>();
  for (let round = 1; round <= ROUNDS; round++) {
    // Alternating order: each pair of variants runs in both orders over the rounds.
    for (const [kind, label] of round % 2 === 1 ? variants : [...variants].reverse()) {
      process.stderr.write(`bench: round ${round}/${ROUNDS}: ${label}…\n`);
      runs.set(kind, [...(runs.get(kind) ?? []), await maxRun(proxies.get(kind)!)]);
    }
  }
  const rows: Row[] = [];
  for (const [kind, label] of variants) {
    const rounds = runs.get(kind)!;
    const median = medianRound(rounds);
    const rate = Math.max(1, Math.round(median.max.reqPerSec * LOAD_SHARE));
    process.stderr.write(`bench: latency at ${rate} req/s: ${label}…\n`);
    const child = proxies.get(kind)!;
    const inProxy = kind.startsWith('fleetgate');
    rows.push({ kind, label, rounds, ...median, rate, ...(await rateRuns(child, upstream, rate, inProxy)) });
    await stop(child);
  }
  await stop(upstream);
  printTable(rows);
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
