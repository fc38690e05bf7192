/**
 * What a heartbeat leaves to the old generation, per store backend: a Registry on the backend in
 * a process of its own renews 3,000 instances (300 services) at a paced rate, and V8's own GC
 * trace (`--trace-gc-nvp`) gives the bytes each scavenge promoted to the old generation. Those
 * bytes are what grows the gateway's RSS between major GCs (docs/scale.md, "Resident memory
 * during heartbeats"). The in-memory backend, paced the same way, is the floor. Each backend
 * runs `rounds` times, in rotating order; rows print the range over rounds.
 *
 *   node --import tsx bench/store-heartbeat-gc.ts [backends=memory,redis,redis+0,etcd] [rate=900] [seconds=10] [rounds=2]
 *
 * `redis+0` / `etcd+0` set heartbeatBatchMs to 0. `STORE_GC_NODE_ARGS` adds node flags to every
 * child (e.g. `--max-semi-space-size=4` to price a smaller young generation).
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { EtcdBackend } from '../lib/registry/backends/etcd.js';
import { MemoryBackend } from '../lib/registry/backends/memory.js';
import { RedisBackend } from '../lib/registry/backends/redis.js';
import type { RegistryBackend } from '../lib/registry/model.js';
import { Registry } from '../lib/registry/registry.js';
import { startEtcd, startRedis } from '../sandbox/servers/index.js';
import { registerTwoRouteFleet } from './lib/scale-fleet.js';

const INSTANCES = 3000;
const SERVICES = 300;

if (process.argv[2] === '--child') await child(process.argv[3]!, Number(process.argv[4]), Number(process.argv[5]));
else await main();

/** One backend's run, in this process: registers, then heartbeats between two marks on stdout. */
async function child(spec: string, rate: number, seconds: number): Promise<void> {
  const [kind, batch] = spec.split('+');
  const batchOpt = batch === undefined ? {} : { heartbeatBatchMs: Number(batch) };
  const space = `gc-${process.pid}`;
  const target = process.env.STORE_GC_TARGET ?? '';
  const backend: RegistryBackend =
    kind === 'memory'
      ? new MemoryBackend()
      : kind === 'redis'
        ? RedisBackend.fromUrls([target], { ...batchOpt, keyPrefix: space })
        : EtcdBackend.fromEndpoints([target], { ...batchOpt, root: `/${space}/` });
  const registry = new Registry({ backend, ownsBackend: true, ttlMs: 600_000 });
  await registry.ready();
  await registerTwoRouteFleet(registry, INSTANCES, SERVICES);
  console.log('MARK start');
  let n = 0;
  let failed = 0;
  const inFlight = new Set<Promise<unknown>>();
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = ((performance.now() - t0) / 1000) * rate;
      while (n < due) {
        const k = n++ % INSTANCES;
        const s = k % SERVICES;
        const p = registry.heartbeat(`svc${s}`, `svc${s}-${k}`).catch(() => {
          failed++;
        });
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
      }
      if (performance.now() - t0 >= seconds * 1000) {
        clearInterval(timer);
        resolve();
      }
    }, 2);
  });
  await Promise.all(inFlight);
  console.log(`MARK end ${n} ${failed}`);
  await registry.close();
  process.exit(0);
}

interface Row {
  kb: number[];
  scavenges: number[];
  failed: number;
}

async function main(): Promise<void> {
  const wanted = (process.argv[2] ?? 'memory,redis,redis+0,etcd').split(',');
  const rate = Number(process.argv[3] ?? 900);
  const seconds = Number(process.argv[4] ?? 10);
  const rounds = Number(process.argv[5] ?? 2);
  const redis = wanted.some((w) => w.startsWith('redis')) ? await startRedis() : undefined;
  const etcd = wanted.some((w) => w.startsWith('etcd')) ? await startEtcd() : undefined;
  console.log(
    `store-heartbeat-gc: ${INSTANCES} instances, ${rate}/s for ${seconds} s, ${rounds} rounds, node ${process.version}, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const rows = new Map<string, Row>(wanted.map((w) => [w, { kb: [], scavenges: [], failed: 0 }]));
  try {
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < wanted.length; k++) {
        const spec = wanted[(round + k) % wanted.length]!;
        const target = spec.startsWith('redis') ? redis!.url : spec.startsWith('etcd') ? etcd!.endpoints[0]! : '';
        const r = await runChild(spec, rate, seconds, target);
        const row = rows.get(spec)!;
        row.kb.push(r.promoted / 1024 / Math.max(1, r.heartbeats));
        row.scavenges.push(r.scavenges);
        row.failed += r.failed;
      }
    }
  } finally {
    await redis?.stop();
    await etcd?.stop();
  }
  const floor = rows.get('memory');
  for (const [spec, row] of rows) {
    const ratio =
      floor === undefined || spec === 'memory'
        ? ''
        : `, ${range(
            row.kb.map((v, i) => v / floor.kb[i]!),
            1,
          )}× the in-memory floor`;
    console.log(
      `  ${spec.padEnd(10)} promoted ${range(row.kb, 2)} KB per heartbeat (scavenges ${range(row.scavenges, 0)}${row.failed > 0 ? `, ${row.failed} heartbeats failed` : ''})${ratio}`,
    );
  }
}

/** Runs one child under `--trace-gc-nvp`; sums the promoted bytes of the scavenges between its marks. */
function runChild(
  spec: string,
  rate: number,
  seconds: number,
  target: string,
): Promise<{ promoted: number; scavenges: number; heartbeats: number; failed: number }> {
  const extra = (process.env.STORE_GC_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const proc = spawn(
    process.execPath,
    [
      ...extra,
      '--trace-gc-nvp',
      '--import',
      'tsx',
      fileURLToPath(import.meta.url),
      '--child',
      spec,
      String(rate),
      String(seconds),
    ],
    { env: { ...process.env, STORE_GC_TARGET: target }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let on = false;
    let promoted = 0;
    let scavenges = 0;
    let rest = '';
    let end: { heartbeats: number; failed: number } | undefined;
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('MARK start')) on = true;
        else if (line.startsWith('MARK end')) {
          on = false;
          const [, , hb, failed] = line.split(' ');
          end = { heartbeats: Number(hb), failed: Number(failed) };
        } else if (on && line.includes(' gc=s ')) {
          scavenges++;
          promoted += Number(/ promoted=(\d+)/.exec(line)?.[1] ?? 0);
        }
      }
    });
    proc.on('error', reject);
    proc.on('exit', (code) => {
      if (end === undefined) reject(new Error(`${spec}: the child exited (${code}) before its heartbeats ended`));
      else resolve({ promoted, scavenges, ...end });
    });
  });
}

function range(xs: readonly number[], digits: number): string {
  return `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;
}
