/**
 * Route table add and remove cost against the size of the service: one instance registers into a
 * service that already has N instances with the same routes, then deregisters (the newest
 * leaving, which used to rescan every holder of each route), through a RouteTable following a
 * registry's change events. 999 other services of 10 instances fill the table (5,000+ routes).
 * Prints CPU µs per register + deregister pair for each N and the ratio to N = 10: O(the
 * instance's routes) means a flat ratio. Paired rounds in alternating order; CPU from
 * process.cpuUsage.
 *
 *   node --import tsx bench/route-table-churn.ts [sizes=10,1000,8000]
 */
import { loadavg } from 'node:os';
import { makeInstance } from '../fixtures/routing-instances.js';
import { MemoryBackend } from '../lib/registry/backends/memory.js';
import type { RouteSpec } from '../lib/registry/model.js';
import { Registry } from '../lib/registry/registry.js';
import { RouteTable } from '../lib/routing/route-table.js';
import { routesOf } from './lib/scale-fleet.js';

const PAIRS = 2000;
const ROUNDS = 5;
const quiet = { info() {}, warn() {}, error() {} };

interface Setup {
  size: number;
  registry: Registry;
  routes: RouteSpec[];
  clockAt: number;
}

async function setup(size: number): Promise<Setup> {
  const registry = new Registry({ backend: new MemoryBackend(), logger: quiet });
  await registry.ready();
  new RouteTable({ registry });
  let at = 1_000;
  const emit = (service: string, id: string, routes: RouteSpec[]) => {
    const instance = makeInstance(service, id, { routes, registeredAt: at++ });
    registry.emit('change', { type: 'register', service, instanceId: id, instance });
  };
  for (let s = 1; s < 1000; s++) {
    const routes = Object.freeze(routesOf(s)) as RouteSpec[];
    for (let i = 0; i < 10; i++) emit(`svc${s}`, `svc${s}-${i}`, routes);
  }
  const routes = Object.freeze(routesOf(0)) as RouteSpec[];
  for (let i = 0; i < size; i++) emit('svc0', `svc0-${i}`, routes);
  return { size, registry, routes, clockAt: at };
}

/** CPU µs per register + deregister of one new instance in svc0. */
function churn(s: Setup): number {
  const start = process.cpuUsage();
  for (let k = 0; k < PAIRS; k++) {
    const id = `svc0-new-${k}`;
    const instance = makeInstance('svc0', id, { routes: s.routes, registeredAt: s.clockAt++ });
    s.registry.emit('change', { type: 'register', service: 'svc0', instanceId: id, instance });
    s.registry.emit('change', { type: 'deregister', service: 'svc0', instanceId: id });
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / PAIRS;
}

const sizes = (process.argv[2] ?? '10,1000,8000').split(',').map(Number);
console.log(
  `route table churn: ${PAIRS} register + deregister pairs per round, ${ROUNDS} rounds; load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
const setups = await Promise.all(sizes.map(setup));
const results = new Map<number, number[]>(sizes.map((n) => [n, []]));
for (const s of setups) churn(s); // warm-up
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? setups : [...setups].reverse();
  for (const s of order) results.get(s.size)!.push(churn(s));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const base = median(results.get(sizes[0]!)!);
for (const n of sizes) {
  const xs = results.get(n)!;
  console.log(
    `  service of ${String(n).padStart(5)} instances: ${median(xs).toFixed(2)} µs per pair (rounds ${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}), ${(median(xs) / base).toFixed(2)}× the ${sizes[0]}-instance service`,
  );
}
for (const s of setups) await s.registry.close();
