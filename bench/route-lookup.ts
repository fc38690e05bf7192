/**
 * Route lookup: the trie-backed RouteTable against a naive linear regex scan (routes sorted
 * most-specific-first, first match wins) at two sizes: 300 services × 5 routes × 1 instance
 * (1,500 routes) and 1,000 services × 5 routes × 10 instances (10,000 instances, 5,000 routes).
 * Prints ns/lookup and the ratio. docs/performance.md target: lookup ≤ 1 µs at either size.
 * A third table, 1,500 routes plus one beta route per service with a header predicate on the
 * busiest pattern (a v2 instance, 1,800 routes), is looked up with request headers, half of them
 * beta testers: predicates must keep the lookup within the same target.
 *
 *   node --import tsx bench/route-lookup.ts
 */
import { FakeClock } from '../lib/clock.js';
import { isPathFailure, normalizePath } from '../lib/core/path-normalize.js';
import { type CompiledPattern, comparePatterns, compilePattern } from '../lib/core/route-pattern.js';
import { MemoryBackend } from '../lib/registry/backends/memory.js';
import type { RouteSpec } from '../lib/registry/model.js';
import { Registry } from '../lib/registry/registry.js';
import { RouteTable } from '../lib/routing/route-table.js';
import { routesOf } from './lib/scale-fleet.js';

const LOOKUPS = 100_000;
const ROUNDS = 5;

/** What a simple router does: one regex per route, scanned in precedence order. */
class LinearRouter {
  readonly #routes: { method: string; re: RegExp; service: string; compiled: CompiledPattern }[] = [];

  add(service: string, route: RouteSpec): void {
    const compiled = compilePattern(route.path);
    const body = compiled.segments
      .map((seg) => {
        switch (seg.kind) {
          case 'static':
            return `/${seg.value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`;
          case 'param':
            return `/(?<${seg.name}>[^/]+)`;
          case 'star':
            return '/[^/]+';
          default:
            return '(?:/.*)?';
        }
      })
      .join('');
    this.#routes.push({ method: route.method, re: new RegExp(`^${body}/?$`), service, compiled });
  }

  seal(): void {
    this.#routes.sort(
      (a, b) => comparePatterns(a.compiled, b.compiled) || (a.method === '*' ? 1 : 0) - (b.method === '*' ? 1 : 0),
    );
  }

  match(method: string, path: string): { service: string; params: Record<string, string> } | undefined {
    for (const r of this.#routes) {
      if (r.method !== '*' && r.method !== method) continue;
      const m = r.re.exec(path);
      if (m !== null) return { service: r.service, params: { ...m.groups } };
    }
    return undefined;
  }

  get size(): number {
    return this.#routes.length;
  }
}

function requests(SERVICES: number): [string, string][] {
  let seed = 7;
  const rnd = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n; // an LCG's low bits cycle: use the high ones
  };
  const out: [string, string][] = [];
  for (let i = 0; i < 1000; i++) {
    const s = rnd(SERVICES);
    switch (rnd(6)) {
      case 0:
        out.push(['GET', `/api/svc${s}/items`]);
        break;
      case 1:
        out.push(['GET', `/api/svc${s}/items/${rnd(1e6)}`]);
        break;
      case 2:
        out.push(['PUT', `/api/svc${s}/items/${rnd(1e6)}/comments/${rnd(100)}`]);
        break;
      case 3:
        out.push(['GET', `/svc${s}/assets/js/app.${rnd(1e4)}.js`]);
        break;
      case 4:
        out.push(['POST', `/api/svc${s}/items?draft=1`]);
        break;
      default:
        out.push(['GET', `/api/unknown${s}/x`]); // a miss scans the whole linear list
    }
  }
  return out;
}

/**
 * CPU time (not wall time: other processes share this machine) per call, best of ROUNDS rounds
 * after a warm-up, so a neighbour's burst does not count against the code measured.
 */
function measure(
  label: string,
  fn: (method: string, url: string) => unknown,
  reqs: [string, string][],
  lookups = LOOKUPS,
): number {
  let hits = 0;
  const run = (n: number) => {
    for (let i = 0; i < n; i++) {
      const [m, u] = reqs[i % reqs.length]!;
      if (fn(m, u) !== undefined) hits++;
    }
  };
  const warm = Math.min(20_000, lookups);
  run(warm);
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < ROUNDS; r++) {
    const before = process.cpuUsage();
    run(lookups);
    const used = process.cpuUsage(before);
    best = Math.min(best, ((used.user + used.system) * 1000) / lookups);
  }
  console.log(
    `${label.padEnd(36)} ${best.toFixed(0).padStart(7)} ns/lookup  (hit rate ${((100 * hits) / (warm + ROUNDS * lookups)).toFixed(0)}%)`,
  );
  return best;
}

/** Builds a table of `services` × 5 routes with `perService` instances each and measures it. */
async function runSize(SERVICES: number, perService: number): Promise<number> {
  const clock = new FakeClock();
  const registry = new Registry({ backend: new MemoryBackend({ clock }), clock, ownsBackend: true });
  await registry.ready();
  const table = new RouteTable({ registry, nameRouting: false });
  const linear = new LinearRouter();
  const started = process.cpuUsage();
  for (let s = 0; s < SERVICES; s++) {
    const routes = routesOf(s);
    for (let i = 0; i < perService; i++) {
      await registry.register({
        service: `svc${s}`,
        instanceId: `i${i}`,
        url: `http://127.0.0.1:${10_000 + s}`,
        routes,
      });
    }
    for (const r of routes) linear.add(`svc${s}`, r);
  }
  const fill = process.cpuUsage(started);
  linear.seal();
  const reqs = requests(SERVICES);

  // Both must agree before their speed means anything.
  for (const [m, u] of reqs) {
    const n = normalizePath(u);
    if (isPathFailure(n)) throw new Error(u);
    const a = table.match(m, n.path, n.query)?.service;
    const b = linear.match(m, n.path)?.service;
    if (a !== b) throw new Error(`disagree on ${m} ${u}: trie ${a}, linear ${b}`);
  }

  console.log(
    `\nroute lookup: ${table.size} routes (${SERVICES} services × 5), ${SERVICES * perService} instances, best of ${ROUNDS} rounds × ${LOOKUPS} lookups, CPU time, node ${process.version}`,
  );
  console.log(
    `filling the registry and table: ${((fill.user + fill.system) / 1000) | 0} ms CPU, ${((fill.user + fill.system) / (SERVICES * perService)) | 0} µs per registration`,
  );
  const pathOnly = reqs.map(([m, u]) => {
    const n = normalizePath(u);
    return [m, isPathFailure(n) ? '/' : n.path] as [string, string];
  });
  const trie = measure('RouteTable.match (trie)', (m, p) => table.match(m, p), pathOnly);
  const full = measure(
    'normalizePath + RouteTable.match',
    (m, u) => {
      const n = normalizePath(u);
      return isPathFailure(n) ? undefined : table.match(m, n.path, n.query);
    },
    reqs,
  );
  // The linear scan costs ~100 µs a lookup at 5,000 routes: fewer lookups keep the bench short.
  const lin = measure(
    'linear regex scan',
    (m, p) => linear.match(m, p),
    pathOnly,
    Math.max(1000, LOOKUPS / linear.size),
  );
  console.log(
    `ratio linear / trie: ${(lin / trie).toFixed(1)}×   (trie incl. normalisation: ${(lin / full).toFixed(1)}×)`,
  );
  console.log(`target ≤ 1000 ns/lookup: ${trie <= 1000 ? 'met' : 'NOT met'} (${trie.toFixed(0)} ns)`);
  await table.close();
  await registry.close();
  return trie;
}

const plain = await runSize(300, 1);
await runSize(1000, 10);
await runPredicates(300, plain);

/** 300 services × 5 routes plus one header-predicate route each; lookups carry headers. */
async function runPredicates(SERVICES: number, plainNs: number): Promise<void> {
  const clock = new FakeClock();
  const registry = new Registry({ backend: new MemoryBackend({ clock }), clock, ownsBackend: true });
  await registry.ready();
  for (let s = 0; s < SERVICES; s++) {
    const service = `svc${s}`;
    await registry.register({ service, instanceId: 'v1', url: `http://127.0.0.1:${10_000 + s}`, routes: routesOf(s) });
    await registry.register({
      service,
      instanceId: 'v2',
      url: `http://127.0.0.1:${20_000 + s}`,
      routes: [
        {
          method: 'GET',
          path: `/api/svc${s}/items/:id`,
          predicates: { headers: [{ name: 'x-beta', value: 'true' }] },
        },
      ],
    });
  }
  const table = new RouteTable({ registry, nameRouting: false });
  const pathOnly = requests(SERVICES).map(([m, u]) => {
    const n = normalizePath(u);
    return [m, isPathFailure(n) ? '/' : n.path] as [string, string];
  });
  const heads = [{ headers: { 'x-beta': 'true', host: 'api.example' } }, { headers: { host: 'api.example' } }];
  let k = 0;
  console.log(
    `\nroute lookup with predicates: ${table.size} routes (${SERVICES} services × 5 + ${SERVICES} beta routes)`,
  );
  const ns = measure('RouteTable.match with headers', (m, p) => table.match(m, p, '', heads[k++ & 1]), pathOnly);
  console.log(
    `target ≤ 1000 ns/lookup: ${ns <= 1000 ? 'met' : 'NOT met'} (${ns.toFixed(0)} ns; ${(ns / plainNs).toFixed(2)}× the plain 1,500-route table)`,
  );
  await table.close();
  await registry.close();
}
