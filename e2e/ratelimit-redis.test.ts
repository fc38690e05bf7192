/**
 * The Redis rate-limit store against a real Redis: three gateway processes share one budget, the
 * Lua script matches the reference arithmetic, and a killed Redis gets the configured fail mode
 * within the store timeout.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { Pool } from 'undici';
import { FakeClock } from '../lib/clock.js';
import { type RateLimitOptions, rateLimit } from '../lib/ratelimit/rate-limit.js';
import { RedisStore } from '../lib/ratelimit/redis-store.js';
import { type BucketState, takeToken } from '../lib/ratelimit/token-bucket.js';
import { type RedisServer, redisSkipReason, startRedis } from '../sandbox/servers/redis-server.js';
import { waitUntil } from '../sandbox/servers/wait.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const lib = (p: string) => pathToFileURL(`${ROOT}lib/ratelimit/${p}`).href;

/** A gateway process: a bare node:http server with rateLimit + RedisStore, printing its port. */
const GATEWAY = `
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { rateLimit } from '${lib('rate-limit.ts')}';
import { RedisStore } from '${lib('redis-store.ts')}';
const client = new Redis(process.env.REDIS_URL, { enableOfflineQueue: false });
client.on('error', () => {});
await new Promise((resolve) => client.once('ready', resolve));
const limiter = rateLimit({ ...JSON.parse(process.env.RL_OPTIONS), store: new RedisStore(client) });
const server = createServer((req, res) => limiter(req, res, () => res.end('ok')));
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

async function startGateway(redisUrl: string, options: object): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', GATEWAY], {
    cwd: ROOT,
    env: { ...process.env, REDIS_URL: redisUrl, RL_OPTIONS: JSON.stringify(options) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await Promise.race([
    once(child.stdout!, 'data'),
    once(child, 'exit').then(() => {
      throw new Error('gateway exited before listening');
    }),
  ])) as [Buffer];
  return { child, url: `http://127.0.0.1:${Number(line.toString().trim())}` };
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

async function serve(handler: ReturnType<typeof rateLimit>): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => handler(req, res, () => res.end('ok')));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const skip = await redisSkipReason();

describe('rate limit on a real Redis', { skip }, () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
  });

  it('three gateway processes sharing one bucket admit the shared limit (within 2%) under concurrent load', async (t) => {
    const capacity = 600;
    const windowS = 3600; // refill 1 token / 6 s: negligible, and accounted for below
    const tenant = `acme-${randomUUID()}`;
    // The budget is the subject here, not the fail mode (tested below): a loaded machine may take
    // longer than the default 100 ms store timeout, which would fail open and admit extra requests.
    const options = { limit: capacity, window: `${windowS}s`, key: { header: 'x-tenant' }, storeTimeoutMs: 10_000 };
    const gateways = await Promise.all([0, 1, 2].map(() => startGateway(redis.url, options)));
    const pools = gateways.map((g) => new Pool(g.url, { connections: 16 }));
    try {
      const perGateway = 500;
      const counts = new Map<number, number>();
      const started = Date.now();
      await Promise.all(
        pools.map(async (pool) => {
          let sent = 0;
          // 16 concurrent callers per gateway, 48 in all.
          await Promise.all(
            Array.from({ length: 16 }, async () => {
              while (sent < perGateway) {
                sent++;
                const res = await pool.request({ path: '/', method: 'GET', headers: { 'x-tenant': tenant } });
                await res.body.dump();
                counts.set(res.statusCode, (counts.get(res.statusCode) ?? 0) + 1);
              }
            }),
          );
        }),
      );
      const elapsedS = (Date.now() - started) / 1000;
      const admitted = counts.get(200) ?? 0;
      const refilled = Math.ceil((capacity / windowS) * elapsedS);
      t.diagnostic(`admitted ${admitted} of ${3 * perGateway} for a limit of ${capacity} in ${elapsedS.toFixed(2)} s`);
      assert.equal(admitted + (counts.get(429) ?? 0), 3 * perGateway, `statuses: ${JSON.stringify([...counts])}`);
      assert.ok(
        admitted >= capacity && admitted <= capacity + refilled,
        `admitted ${admitted} of ${capacity} (+${refilled} refilled)`,
      );
      assert.ok(Math.abs(admitted - capacity) <= 0.02 * capacity, `admitted ${admitted}, limit ${capacity}`);
    } finally {
      await Promise.all(pools.map((p) => p.close()));
      await Promise.all(gateways.map((g) => kill(g.child)));
    }
  });

  it('the Lua script computes what takeToken() computes, on the real server', async () => {
    const client = new Redis(redis.url);
    try {
      const clock = new FakeClock(1_700_000_000_000);
      const store = new RedisStore(client, { clock, prefix: `e2e:${randomUUID()}:` });
      const config = { capacity: 5, refillPerSecond: 2.5 };
      let state: BucketState | undefined;
      for (const dt of [0, 0, 0, 0, 0, 0, 0, 100, 399, 1, 2000, 0, 7, 60_000, 0]) {
        await clock.advance(dt);
        const { state: next, ...expected } = takeToken(state, config, clock.now());
        state = next;
        assert.deepEqual(await store.take('k', config, 1), expected, `at +${clock.now() - 1_700_000_000_000} ms`);
      }
      const key = store.keyFor('k');
      assert.match(key, /\{k\}$/);
      const ttl = await client.pttl(key);
      // Two tokens short at 2.5/s: full in 800 ms, kept 1 s longer.
      assert.ok(ttl > 1000 && ttl <= 1800, `idle key expires once full (pttl ${ttl})`);
    } finally {
      client.disconnect();
    }
  });

  it('a killed Redis gets the configured fail mode within storeTimeoutMs, and limiting resumes when it is back', async (t) => {
    // Default client options: commands queue while disconnected, so only the limiter's timer answers.
    const client = new Redis(redis.url, { maxRetriesPerRequest: null });
    client.on('error', () => {});
    const base: Partial<RateLimitOptions> = { capacity: 100, refillPerSecond: 10, storeTimeoutMs: 100 };
    const open = await serve(rateLimit({ ...base, store: new RedisStore(client), failMode: 'open' }));
    const closed = await serve(rateLimit({ ...base, store: new RedisStore(client), failMode: 'closed' }));
    const timed = async (url: string) => {
      const t0 = performance.now();
      const res = await fetch(url);
      const body = await res.text();
      return { res, body, ms: performance.now() - t0 };
    };
    try {
      const healthy = await timed(open.url);
      assert.equal(healthy.res.headers.get('ratelimit-limit'), '100');

      await redis.kill();
      const o = await timed(open.url);
      const c = await timed(closed.url);
      assert.equal(o.res.status, 200, 'fail open lets the request through');
      assert.equal(o.res.headers.get('ratelimit-limit'), null);
      assert.equal(c.res.status, 503);
      assert.equal(JSON.parse(c.body).error.code, 'ERR_FG_STORE_UNAVAILABLE');
      t.diagnostic(`fail open answered in ${o.ms.toFixed(1)} ms, fail closed in ${c.ms.toFixed(1)} ms`);
      // The answer comes from the 100 ms timer, not from the client's reconnect loop.
      for (const { ms } of [o, c]) assert.ok(ms >= 90 && ms < 2000, `answered after ${Math.round(ms)} ms`);

      await redis.restart();
      await waitUntil(async () => (await fetch(closed.url)).headers.get('ratelimit-limit') === '100', {
        description: 'the limiter to use Redis again',
        timeoutMs: 15_000,
      });
    } finally {
      for (const s of [open.server, closed.server]) {
        s.closeAllConnections();
        s.close();
      }
      client.disconnect();
    }
  });
});
