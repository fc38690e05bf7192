/**
 * Rate-limit overhead per request: the same server (a child process) with no limiter, the memory
 * store, and the Redis store; sequential keep-alive requests, interleaved in rounds so drift hits
 * every variant alike. Prints p50/p99 and the µs each store adds, plus the in-process cost of the
 * memory middleware (HTTP noise hides single microseconds).
 *
 * Run: node --import tsx bench/ratelimit.ts   (REDIS_URL=redis://… to use a running Redis; else
 * a local redis-server is started through sandbox/servers). Targets (docs/performance.md): memory ≤ 3 µs,
 * Redis ≤ 0.3 ms p50 on loopback.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { type IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { Pool } from 'undici';
import { rateLimit } from '../lib/ratelimit/rate-limit.js';
import { RedisStore } from '../lib/ratelimit/redis-store.js';
import { startRedis } from '../sandbox/servers/redis-server.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const lib = (p: string) => pathToFileURL(`${ROOT}lib/ratelimit/${p}`).href;
const ROUNDS = Number(process.env.ROUNDS ?? 30);
const PER_ROUND = Number(process.env.PER_ROUND ?? 200);

const SERVER = `
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { rateLimit } from '${lib('rate-limit.ts')}';
import { RedisStore } from '${lib('redis-store.ts')}';
const client = new Redis(process.env.REDIS_URL);
await new Promise((resolve) => client.once('ready', resolve));
const huge = { capacity: 1e12, refillPerSecond: 1e12 };
const memory = rateLimit(huge);
const redis = rateLimit({ ...huge, store: new RedisStore(client) });
const ok = (res) => () => res.end('ok');
const server = createServer((req, res) => {
  // The server's own CPU time so far (µs): sampled between rounds, it gives CPU per request,
  // which scheduling noise on a shared machine disturbs far less than latency.
  if (req.url === '/cpu') {
    const u = process.cpuUsage();
    return res.end(String(u.user + u.system));
  }
  if (req.url === '/memory') return memory(req, res, ok(res));
  if (req.url === '/redis') return redis(req, res, ok(res));
  if (req.url === '/headers') {
    // The three RateLimit-* headers alone: what any limiter sending them costs over HTTP.
    res.setHeader('RateLimit-Limit', '1000000000000');
    res.setHeader('RateLimit-Remaining', '999999999999');
    res.setHeader('RateLimit-Reset', '1');
  }
  res.end('ok');
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

async function httpOverhead(redisUrl: string): Promise<void> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SERVER], {
    cwd: ROOT,
    env: { ...process.env, REDIS_URL: redisUrl },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  const pool = new Pool(`http://127.0.0.1:${Number(line.toString().trim())}`, { connections: 1 });
  const variants = ['/', '/headers', '/memory', '/redis'] as const;
  const samples = new Map<string, number[]>(variants.map((v) => [v, []]));
  const cpu = new Map<string, number[]>(variants.map((v) => [v, []]));
  const cpuNow = async (): Promise<number> => {
    const res = await pool.request({ path: '/cpu', method: 'GET' });
    return Number(await res.body.text());
  };
  const once1 = async (path: string): Promise<number> => {
    const t0 = performance.now();
    const res = await pool.request({ path, method: 'GET' });
    await res.body.dump();
    return (performance.now() - t0) * 1000;
  };
  try {
    for (const v of variants) for (let i = 0; i < 500; i++) await once1(v); // warm-up
    for (let r = 0; r < ROUNDS; r++) {
      for (const v of variants) {
        const list = samples.get(v)!;
        const c0 = await cpuNow();
        for (let i = 0; i < PER_ROUND; i++) list.push(await once1(v));
        cpu.get(v)!.push(((await cpuNow()) - c0) / PER_ROUND);
      }
    }
  } finally {
    await pool.close();
    child.kill('SIGKILL');
  }
  const stats = new Map(
    variants.map((v) => {
      const s = samples.get(v)!.sort((a, b) => a - b);
      const c = cpu.get(v)!.sort((a, b) => a - b);
      return [v, { p50: quantile(s, 0.5), p99: quantile(s, 0.99), cpu: quantile(c, 0.5) }] as const;
    }),
  );
  const none = stats.get('/')!;
  console.log(`HTTP round trip, ${ROUNDS * PER_ROUND} sequential keep-alive requests per variant (µs):`);
  for (const [v, name] of [
    ['/', 'no limiter'],
    ['/headers', 'headers only'],
    ['/memory', 'memory store'],
    ['/redis', 'redis store'],
  ] as const) {
    const s = stats.get(v)!;
    const added = s.p50 - none.p50;
    console.log(
      `  ${name.padEnd(13)} p50 ${s.p50.toFixed(1).padStart(7)}  p99 ${s.p99.toFixed(1).padStart(7)}  ` +
        `added p50 ${added.toFixed(1).padStart(6)} µs  ratio ${(s.p50 / none.p50).toFixed(3)}×  ` +
        `server CPU/request ${s.cpu.toFixed(1).padStart(5)} µs (+${(s.cpu - none.cpu).toFixed(1)})`,
    );
  }
}

/** The memory middleware called directly: ns per admitted request, against an empty middleware. */
function inProcessMemory(): void {
  const limiter = rateLimit({ capacity: 1e12, refillPerSecond: 1e12 });
  const req = {
    url: '/',
    method: 'GET',
    headers: {},
    socket: { remoteAddress: '127.0.0.1' },
  } as unknown as IncomingMessage;
  // A real ServerResponse, never sent: setHeader() costs what it costs in a server.
  const res = new ServerResponse(req);
  const next = (): void => {};
  const empty = (_q: IncomingMessage, _s: ServerResponse, n: () => void): void => n();
  const time = (fn: typeof empty, n: number): number => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn(req, res, next);
    return ((performance.now() - t0) * 1e6) / n;
  };
  time(limiter, 200_000);
  time(empty, 200_000);
  const n = 1_000_000;
  const runs = Array.from({ length: 5 }, () => time(limiter, n) - time(empty, n)).sort((a, b) => a - b);
  console.log(
    `In-process memory middleware (allowed path, 3 headers set on a real ServerResponse): ${(runs[2]! / 1000).toFixed(3)} µs per request (median of 5 × 1M)`,
  );
  void limiter.close();
}

/** Redis store round trips from this process, sequential. */
async function redisRoundTrip(redisUrl: string): Promise<void> {
  const client = new Redis(redisUrl);
  const store = new RedisStore(client);
  const cfg = { capacity: 1e12, refillPerSecond: 1e12 };
  for (let i = 0; i < 1000; i++) await store.take('bench', cfg, 1);
  const s: number[] = [];
  for (let i = 0; i < 5000; i++) {
    const t0 = performance.now();
    await store.take('bench', cfg, 1);
    s.push((performance.now() - t0) * 1000);
  }
  s.sort((a, b) => a - b);
  console.log(
    `RedisStore.take() round trip (EVALSHA): p50 ${quantile(s, 0.5).toFixed(1)} µs, p99 ${quantile(s, 0.99).toFixed(1)} µs`,
  );
  client.disconnect();
}

const external = process.env.REDIS_URL;
const redis = external === undefined ? await startRedis({ provider: 'local' }) : undefined;
const redisUrl = external ?? redis!.url;
try {
  inProcessMemory();
  await redisRoundTrip(redisUrl);
  await httpOverhead(redisUrl);
} finally {
  await redis?.stop();
}
