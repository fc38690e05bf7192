/**
 * The listing and resync phases of bench/scale.ts: `/health` and `/internal/services` latency and
 * size on the loaded gateway, then, in the bench's own process on the same store, the time a fresh
 * Registry takes to list the store in full into its cache (resync) and route lookup ns on that cache.
 */
import { MemoryBackend } from '../../lib/registry/backends/memory.js';
import { Registry } from '../../lib/registry/registry.js';
import { RouteTable } from '../../lib/routing/route-table.js';
import { registrationOf } from './scale-fleet.js';
import { line } from './scale-print.js';
import type { ScaleStore } from './scale-stores.js';

/** The listings the bench times, 10 GETs each. */
const LISTINGS = ['/health', '/health?detail=1', '/internal/services', '/internal/services?service=svc7'];

/**
 * Prints the listing rows for the gateway at `gatewayUrl`.
 * @example await printListings(gw.url);
 */
export async function printListings(gatewayUrl: string): Promise<void> {
  for (const path of LISTINGS) {
    const { p50, max, bytes } = await timeGet(`${gatewayUrl}${path}`, 10);
    line(`GET ${path}`, `p50 ${p50.toFixed(1)} ms, max ${max.toFixed(1)} ms, ${(bytes / 1024).toFixed(0)} KiB`);
  }
}

/**
 * Prints the resync and route lookup rows for the store `name` holding `total` instances in
 * `services` services (the memory store's fleet is rebuilt here: it lives in the gateway).
 * @example await printResyncAndLookup('redis', store, 10_000, 1_000);
 */
export async function printResyncAndLookup(
  name: string,
  store: ScaleStore,
  total: number,
  services: number,
): Promise<void> {
  const { resyncMs, rounds, cpuMs, listMs, listed, lookupNs } = await resyncAndLookup(store, total, services);
  const target = name === 'etcd' ? 2000 : 1000;
  line(
    'resync (full list → cache)',
    `${listed} instances in ${resyncMs.toFixed(0)} ms (median of ${rounds.length}: ${rounds.map((r) => r.toFixed(0)).join(', ')} ms; least CPU ${cpuMs.toFixed(0)} ms${listMs === undefined ? '' : `; store listing alone ${listMs.toFixed(0)} ms`})`,
    `≤ ${target} ms: ${resyncMs <= target ? 'met' : 'MISSED'}`,
  );
  line(
    'route lookup',
    `${lookupNs.toFixed(0)} ns (${listed} instances)`,
    `≤ 1000 ns: ${lookupNs <= 1000 ? 'met' : 'MISSED'}`,
  );
}

async function timeGet(url: string, n: number): Promise<{ p50: number; max: number; bytes: number }> {
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const res = await fetch(url);
    const body = await res.arrayBuffer();
    times.push(performance.now() - t0);
    if (!res.ok) throw new Error(`${url}: ${res.status}`);
    bytes = body.byteLength;
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(n / 2)]!, max: times[n - 1]!, bytes };
}

/** What one resync measurement gives: its median and rounds, CPU, store listing time, size and lookup ns. */
interface ResyncResult {
  resyncMs: number;
  rounds: number[];
  cpuMs: number;
  listMs: number | undefined;
  listed: number;
  lookupNs: number;
}

async function resyncAndLookup(store: ScaleStore, total: number, services: number): Promise<ResyncResult> {
  // What this opened, closed if a step fails (a store timing out under load): an open client
  // would keep the bench's process alive after the run.
  const opened: { close(): Promise<unknown> }[] = [];
  const own = <T extends { close(): Promise<unknown> }>(x: T): T => {
    opened.push(x);
    return x;
  };
  try {
    return await resyncAndLookupOwned(store, total, services, own);
  } catch (err) {
    await Promise.race([
      Promise.allSettled(opened.map((c) => c.close())),
      new Promise((resolve) => setTimeout(resolve, 5000).unref()),
    ]);
    throw err;
  }
}

async function resyncAndLookupOwned(
  store: ScaleStore,
  total: number,
  services: number,
  own: <T extends { close(): Promise<unknown> }>(x: T) => T,
): Promise<ResyncResult> {
  let backend = store.backend();
  if (backend !== undefined) own(backend);
  // A fresh gateway: connect, subscribe, list in full, fill the cache; three rounds, each on a
  // new client. The store's listing alone is timed apart to tell the store's share.
  const rounds: number[] = [];
  let cpuMs = 0;
  let listMs: number | undefined;
  if (backend !== undefined) {
    await backend.list();
    const l0 = performance.now();
    await backend.list();
    listMs = performance.now() - l0;
    await backend.close();
    for (let r = 0; r < 2; r++) {
      const c0 = process.cpuUsage();
      const t = performance.now();
      const fresh = own(new Registry({ backend: own(store.backend()!), ownsBackend: true }));
      await fresh.ready();
      rounds.push(performance.now() - t);
      const used = process.cpuUsage(c0);
      cpuMs = (used.user + used.system) / 1000;
      await fresh.close();
    }
    backend = store.backend();
    if (backend !== undefined) own(backend);
  }
  if (backend === undefined) {
    // The memory store lives inside the gateway: rebuild the same fleet in a local one.
    const memory = new MemoryBackend();
    for (let s = 0; s < services; s++) {
      for (let i = 0; i < total / services; i++) {
        await memory.register(registrationOf(s, i), { ttlMs: 90_000 });
      }
    }
    backend = memory;
  }
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const registry = own(new Registry({ backend: backend!, ownsBackend: true }));
  await registry.ready();
  rounds.push(performance.now() - t0);
  const used = process.cpuUsage(c0);
  cpuMs = Math.min(cpuMs || Number.POSITIVE_INFINITY, (used.user + used.system) / 1000);
  const resyncMs = [...rounds].sort((a, b) => a - b)[Math.floor(rounds.length / 2)]!;
  const listed = registry.instances().length;
  const table = own(new RouteTable({ registry, nameRouting: false }));
  // Services whose registrations all failed (a store timing out under load) are left out.
  const present = registry.services();
  const paths: [string, string][] = [];
  for (let i = 0; i < 1000 && present.length > 0; i++) {
    const s = present[(i * 7919) % present.length];
    paths.push(i % 2 === 0 ? ['GET', `/api/${s}/items/${i}`] : ['PUT', `/api/${s}/items/${i}/comments/${i}`]);
  }
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 5; round++) {
    const c0 = process.cpuUsage();
    for (let k = 0; k < 100_000; k++) {
      const [m, p] = paths[k % paths.length]!;
      if (table.match(m, p) === undefined) throw new Error(`no route for ${m} ${p}`);
    }
    const used = process.cpuUsage(c0);
    best = Math.min(best, ((used.user + used.system) * 1000) / 100_000);
  }
  await table.close();
  await registry.close();
  return { resyncMs, rounds, cpuMs, listMs, listed, lookupNs: best };
}
