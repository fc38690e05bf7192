/**
 * Live heap per instance, part by part: each row runs in its own child process under
 * `--expose-gc`, takes the heap after a full collection, registers N instances (N / 10 services,
 * five routes, a health endpoint and small metadata each, the shapes of bench/scale.ts) and takes
 * it again. The rows are cumulative, so the difference between two rows is what one part holds.
 *
 *   node --import tsx bench/memory-per-instance.ts [instances=10000] [rows=backend,registry,routes,health,gateway]
 *
 * - `backend`: the in-memory backend alone.
 * - `registry`: a Registry over it (local cache, route claims).
 * - `routes`: plus the HTTP route table (lib/routing/route-table.ts).
 * - `health`: plus the health checker (lib/health/health-checker.ts), every instance scheduled.
 * - `gateway`: `createGateway()` (in-memory store, registrations over HTTP, so the remembered
 *   tokens, both route tables, the health checker, metrics and compatibility indexes count).
 *
 * Health probes are scheduled an hour out: scheduling is what is measured, not probing.
 * `MEM_SNAPSHOT_DIR=<dir>` writes a heap snapshot before and after each row (`<row>-0`, `<row>-1`).
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeHeapSnapshot } from 'node:v8';
import { Agent, request } from 'undici';
import { realClock } from '../lib/clock.js';
import { createGateway } from '../lib/gateway.js';
import { HealthChecker } from '../lib/health/health-checker.js';
import { MemoryBackend } from '../lib/registry/backends/memory.js';
import { Registry } from '../lib/registry/registry.js';
import { RouteTable } from '../lib/routing/route-table.js';
import { registrationBody, registrationOf } from './lib/scale-fleet.js';

const PER_SERVICE = 10;
const ROWS = ['backend', 'registry', 'routes', 'health', 'gateway'] as const;
type Row = (typeof ROWS)[number];
const HOUR = 3_600_000;
const quiet = { info() {}, warn() {}, error() {} };
let snapshots = 0;

if (process.argv[2] === '--row') {
  const bytes = await measure(process.argv[3] as Row, Number(process.argv[4]));
  process.send!(bytes);
} else {
  await main();
}

async function main(): Promise<void> {
  const total = Number(process.argv[2] ?? 10_000);
  const rows = (process.argv[3] ?? ROWS.join(',')).split(',') as Row[];
  console.log(`live heap per instance: ${total} instances in ${total / PER_SERVICE} services, node ${process.version}`);
  console.log('| row | heap per instance | over the previous row |');
  console.log('| --- | --- | --- |');
  let previous: number | undefined;
  for (const row of rows) {
    const bytes = await inChild(row, total);
    const per = bytes / total / 1024;
    const over = previous === undefined ? '' : `${per - previous >= 0 ? '+' : ''}${(per - previous).toFixed(2)} KB`;
    console.log(`| ${row} | ${per.toFixed(2)} KB | ${over} |`);
    previous = per;
  }
}

function inChild(row: Row, total: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--row', row, String(total)], {
      execArgv: ['--expose-gc', '--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.once('message', (m) => {
      resolve(m as number);
      child.kill();
    });
    child.once('exit', (code) => reject(new Error(`row ${row} exited with ${code}`)));
  });
}

function* fleet(total: number): Generator<[number, number]> {
  for (let s = 0; s < total / PER_SERVICE; s++) for (let i = 0; i < PER_SERVICE; i++) yield [s, i];
}

/** Heap after a full collection; with `MEM_SNAPSHOT_DIR` also a heap snapshot there (to compare in DevTools). */
async function heap(): Promise<number> {
  // Several passes: weak maps and finalizers need more than one to let go.
  for (let i = 0; i < 4; i++) {
    globalThis.gc!();
    await new Promise((r) => setImmediate(r));
  }
  const used = process.memoryUsage().heapUsed;
  const dir = process.env.MEM_SNAPSHOT_DIR;
  if (dir !== undefined && dir !== '') writeHeapSnapshot(join(dir, `${process.argv[3]}-${snapshots++}.heapsnapshot`));
  return used;
}

/** Heap held by `total` instances in the parts of `row`; the parts stay reachable until measured. */
async function measure(row: Row, total: number): Promise<number> {
  const keep: unknown[] = [];
  if (row === 'gateway') return measureGateway(total, keep);
  const backend = new MemoryBackend();
  const registry = row === 'backend' ? undefined : new Registry({ backend, logger: quiet });
  if (registry !== undefined) await registry.ready();
  if (row === 'routes' || row === 'health') keep.push(new RouteTable({ registry: registry! }));
  if (row === 'health') {
    keep.push(
      new HealthChecker({
        registry: registry!,
        logger: quiet,
        clock: realClock,
        intervalMs: HOUR,
        probe: async () => ({ healthy: true, responseTimeMs: 1 }),
      }).start(),
    );
  }
  const before = await heap();
  const lease = { ttlMs: HOUR };
  for (const [s, i] of fleet(total)) {
    if (registry === undefined) await backend.register(registrationOf(s, i), lease);
    else await registry.register(registrationOf(s, i));
  }
  const after = await heap();
  keep.push(backend, registry);
  return after - before;
}

async function measureGateway(total: number, keep: unknown[]): Promise<number> {
  const gateway = await createGateway({
    env: { REGISTRY_TYPE: 'INMEMORY', REGISTRY_REGISTER_LIMIT: 'off', HEALTH_CHECK_INTERVAL: '1h' },
    logger: quiet,
  });
  const { port } = await gateway.listen(0, '127.0.0.1');
  const dispatcher = new Agent({ connections: 16 });
  const register = async ([s, i]: [number, number]): Promise<void> => {
    const res = await request(`http://127.0.0.1:${port}/internal/register-service`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: registrationBody(s, i),
      dispatcher,
    });
    await res.body.dump();
    if (res.statusCode !== 200) throw new Error(`register answered ${res.statusCode}`);
  };
  // One warm-up registration, so the first request's one-off allocations do not count per instance.
  await register([total / PER_SERVICE, 0]);
  const before = await heap();
  const all = [...fleet(total)];
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < all.length) await register(all[next++]!);
    }),
  );
  await dispatcher.close();
  const after = await heap();
  keep.push(gateway);
  return after - before;
}
