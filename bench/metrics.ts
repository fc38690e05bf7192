/**
 * What counting one proxied request costs (docs/metrics.md, "Cost on the request path"):
 * `createMetrics().recordProxyRequest` (cells resolved once, lib/telemetry/fast-series.ts) against
 * the prom-client form it replaced (a label object per request: `requests.inc({service, route,
 * status: String(status)})` plus `histogram.observe({service}, s)`, now with the per-route
 * histogram as well), and prom-client's `.labels(...)` children cached per label set. The same
 * records (20 services × 5 route patterns, statuses 200/404/503) go through each, in BENCH_ROUNDS
 * (7) rounds in alternating order; CPU per call from process.cpuUsage(). Prints ns/request per
 * round, the median and each form's median ratio to createMetrics() with its range over the rounds.
 *
 *   node --import tsx bench/metrics.ts
 */
import { Counter, Histogram, Registry } from 'prom-client';
import type { ProxyRequestRecord } from '../lib/proxy/proxy-metrics-sink.js';
import { createMetrics, METRICS_DEFAULTS } from '../lib/telemetry/metrics.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 300_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);

const records: ProxyRequestRecord[] = [];
for (let s = 0; s < 20; s++) {
  for (let r = 0; r < 5; r++) {
    for (const status of [200, 200, 200, 404, 503]) {
      records.push({ service: `svc${s}`, route: `/api/svc${s}/r${r}/:id`, status, durationMs: 1 + ((s * 7 + r) % 40) });
    }
  }
}

type Record = (r: ProxyRequestRecord) => void;

/** The form before: prom-client metrics with a label object per call. */
function promClientObjects(): Record {
  const registers = [new Registry()];
  const buckets = [...METRICS_DEFAULTS.buckets];
  const requests = new Counter({ name: 'r', help: 'r', labelNames: ['service', 'route', 'status'], registers });
  const byService = new Histogram({ name: 's', help: 's', labelNames: ['service'], buckets, registers });
  const byRoute = new Histogram({ name: 'h', help: 'h', labelNames: ['service', 'route'], buckets, registers });
  return (r) => {
    requests.inc({ service: r.service, route: r.route, status: String(r.status) });
    if (r.durationMs === undefined) return;
    byService.observe({ service: r.service }, r.durationMs / 1000);
    byRoute.observe({ service: r.service, route: r.route }, r.durationMs / 1000);
  };
}

/** prom-client's `.labels()` children, cached per label set (they still hash their labels per call). */
function promClientChildren(): Record {
  const registers = [new Registry()];
  const buckets = [...METRICS_DEFAULTS.buckets];
  const requests = new Counter({ name: 'r', help: 'r', labelNames: ['service', 'route', 'status'], registers });
  const byService = new Histogram({ name: 's', help: 's', labelNames: ['service'], buckets, registers });
  const byRoute = new Histogram({ name: 'h', help: 'h', labelNames: ['service', 'route'], buckets, registers });
  type Kids = {
    count: Map<number, { inc(): void }>;
    svc: { observe(v: number): void };
    route: { observe(v: number): void };
  };
  const cache = new Map<string, Map<string, Kids>>();
  return (r) => {
    let byR = cache.get(r.service);
    if (byR === undefined) {
      byR = new Map();
      cache.set(r.service, byR);
    }
    let kids = byR.get(r.route);
    if (kids === undefined) {
      kids = { count: new Map(), svc: byService.labels(r.service), route: byRoute.labels(r.service, r.route) };
      byR.set(r.route, kids);
    }
    let c = kids.count.get(r.status);
    if (c === undefined) {
      c = requests.labels(r.service, r.route, String(r.status));
      kids.count.set(r.status, c);
    }
    c.inc();
    if (r.durationMs === undefined) return;
    kids.svc.observe(r.durationMs / 1000);
    kids.route.observe(r.durationMs / 1000);
  };
}

function fleetgate(): Record {
  const metrics = createMetrics();
  return (r) => metrics.recordProxyRequest(r);
}

const forms: [string, () => Record][] = [
  ['createMetrics().recordProxyRequest', fleetgate],
  ['prom-client, label objects (before)', promClientObjects],
  ['prom-client, cached .labels() children', promClientChildren],
];

/** CPU ns per call of `record` over CALLS calls (after a warm-up). */
function measure(record: Record): number {
  const n = records.length;
  for (let i = 0; i < 20_000; i++) record(records[i % n]!);
  const before = process.cpuUsage();
  for (let i = 0; i < CALLS; i++) record(records[i % n]!);
  const used = process.cpuUsage(before);
  return ((used.user + used.system) * 1000) / CALLS;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

const results = new Map<string, number[]>(forms.map(([name]) => [name, []]));
for (let round = 0; round < ROUNDS; round++) {
  // Alternating order, so no form always runs first (or last) in a round.
  const order = round % 2 === 0 ? forms : [...forms].reverse();
  for (const [name, make] of order) results.get(name)!.push(measure(make()));
}
const base = results.get(forms[0]![0])!;
console.log(`\nmetrics: CPU ns per recorded request, ${ROUNDS} rounds × ${CALLS} calls, node ${process.version}\n`);
for (const [name, ns] of results) {
  const ratios = ns.map((v, i) => v / base[i]!);
  console.log(
    `${name.padEnd(42)} median ${median(ns).toFixed(0).padStart(5)} ns  rounds ${ns.map((v) => v.toFixed(0)).join(' ')}` +
      `  ×fleetgate ${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`,
  );
}
