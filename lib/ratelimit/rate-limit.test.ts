import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { FakeClock } from '../clock.js';
import { isFleetgateError } from '../errors.js';
import { RATE_LIMIT_DEFAULTS, type RateLimitMiddleware, type RateLimitOutcome, rateLimit } from './rate-limit.js';
import type { RateLimitStore } from './store.js';
import type { RateLimitDecision } from './token-bucket.js';

async function serve(mw: RateLimitMiddleware): Promise<{ url: string; server: Server } & AsyncDisposable> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    mw(req, res, (err) => {
      res.statusCode = err ? 500 : 200;
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await mw.close();
    },
  };
}

/** A store whose answers the test controls. */
function controlledStore(): RateLimitStore & {
  calls: number;
  called: Promise<void>;
  answer: (d: Promise<RateLimitDecision>) => void;
} {
  let signal!: () => void;
  const called = new Promise<void>((resolve) => {
    signal = resolve;
  });
  let pending: Promise<RateLimitDecision> = new Promise(() => {});
  return {
    name: 'controlled',
    calls: 0,
    called,
    answer(d) {
      pending = d;
    },
    take() {
      this.calls++;
      signal();
      return pending;
    },
    async close() {},
  };
}

describe('rateLimit()', () => {
  it('admits capacity, then 429 with RateLimit-* and Retry-After, then refills on the clock', async () => {
    const clock = new FakeClock(0);
    const outcomes: RateLimitOutcome[] = [];
    await using srv = await serve(
      rateLimit({ capacity: 2, refillPerSecond: 0.5, clock, onDecision: (o) => outcomes.push(o) }),
    );
    const a = await fetch(srv.url);
    assert.equal(a.status, 200);
    assert.equal(a.headers.get('ratelimit-limit'), '2');
    assert.equal(a.headers.get('ratelimit-remaining'), '1');
    assert.equal(a.headers.get('ratelimit-reset'), '2');
    assert.equal((await fetch(srv.url)).status, 200);
    const limited = await fetch(srv.url);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '2');
    assert.equal(limited.headers.get('ratelimit-remaining'), '0');
    assert.equal(limited.headers.get('ratelimit-reset'), '4');
    assert.match(limited.headers.get('content-type') ?? '', /application\/json/);
    assert.deepEqual(await limited.json(), {
      error: {
        code: 'ERR_FG_RATE_LIMITED',
        message: 'rate limit exceeded',
        details: { limit: 2, retry_after_s: 2 },
        request_id: limited.headers.get('x-request-id'),
      },
    });
    await clock.advance(2000);
    assert.equal((await fetch(srv.url)).status, 200);
    assert.equal((await fetch(srv.url)).status, 429);
    assert.deepEqual(outcomes, ['allowed', 'allowed', 'limited', 'allowed', 'limited']);
  });

  it('applies the first matching per-route limit and a { limit, window } default', async () => {
    const clock = new FakeClock(0);
    await using srv = await serve(
      rateLimit({
        clock,
        limit: 3,
        window: '1m',
        routes: [
          { method: 'POST', path: '/api/login', capacity: 1, refillPerSecond: 0.01 },
          { path: '/api/files/**', limit: 2, window: '1h' },
          { path: '/open/*', capacity: 1000, refillPerSecond: 1000 },
        ],
      }),
    );
    const status = async (path: string, method = 'GET') => (await fetch(srv.url + path, { method })).status;
    assert.equal(await status('/api/login', 'POST'), 200);
    assert.equal(await status('/api/login?x=1', 'POST'), 429);
    // GET /api/login is not the POST route: it counts against the default bucket.
    assert.deepEqual([await status('/api/login'), await status('/x'), await status('/y')], [200, 200, 200]);
    assert.equal(await status('/z'), 429);
    assert.deepEqual(
      [await status('/api/files/a'), await status('/api/files/b/c'), await status('/api/files')],
      [200, 200, 429],
    );
    assert.equal(await status('/open/thing'), 200);
  });

  it('holds a per-route limit for every spelling of the path that routes to it', async () => {
    await using srv = await serve(
      rateLimit({ routes: [{ method: 'POST', path: '/api/login', capacity: 1, refillPerSecond: 0 }] }),
    );
    // Raw request targets: fetch() would clean some of these up before sending.
    const post = (target: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request(`${srv.url}${target}`, { method: 'POST', path: target }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
    assert.equal(await post('/api/login'), 200);
    for (const spelling of [
      '/api//login',
      '/api/./login',
      '/api/%6Cogin',
      '/api/login/',
      '/x/../api/login',
      '//api/login?a=1',
      '/api/%6cogin',
    ]) {
      assert.equal(await post(spelling), 429, spelling);
    }
    assert.equal(await post('/api/logout'), 200, 'other paths are not limited');
  });

  it('only counts routes when no default limit is given, and honours skip', async () => {
    await using srv = await serve(
      rateLimit({
        routes: [{ path: '/limited', capacity: 1, refillPerSecond: 0 }],
        skip: (r) => r.url === '/limited?skip',
      }),
    );
    const codes: number[] = [];
    for (const p of ['/free', '/free', '/limited', '/limited', '/limited?skip'])
      codes.push((await fetch(srv.url + p)).status);
    assert.deepEqual(codes, [200, 200, 200, 429, 200]);
    const noRetry = await fetch(`${srv.url}/limited`);
    assert.equal(noRetry.headers.get('retry-after'), null, 'a bucket that never refills gives no Retry-After');
  });

  it('fails open on a store error by default and publishes decisions on fleetgate:ratelimit', async () => {
    const seen: unknown[] = [];
    const onMessage = (m: unknown) => seen.push(m);
    subscribe('fleetgate:ratelimit', onMessage);
    const store: RateLimitStore = {
      name: 'broken',
      take: () => Promise.reject(new Error('ECONNREFUSED')),
      close: async () => {},
    };
    await using srv = await serve(rateLimit({ capacity: 1, refillPerSecond: 1, store }));
    try {
      const res = await fetch(srv.url);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('ratelimit-limit'), null);
      assert.deepEqual(seen, [
        { outcome: 'fail_open', key: 'default|ip:127.0.0.1', bucket: 'default', store: 'broken' },
      ]);
    } finally {
      unsubscribe('fleetgate:ratelimit', onMessage);
    }
  });

  it('fails closed with 503 ERR_FG_STORE_UNAVAILABLE when configured, also for a throwing store', async () => {
    const store: RateLimitStore = {
      name: 'throws',
      take: () => {
        throw new Error('boom');
      },
      close: async () => {},
    };
    await using srv = await serve(rateLimit({ capacity: 1, refillPerSecond: 1, store, failMode: 'closed' }));
    const res = await fetch(srv.url);
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), {
      error: {
        code: 'ERR_FG_STORE_UNAVAILABLE',
        message: 'rate-limit store unavailable',
        request_id: res.headers.get('x-request-id'),
      },
    });
  });

  it('answers after storeTimeoutMs when the store is slow, and ignores its late answer', async () => {
    const clock = new FakeClock(0);
    const store = controlledStore();
    await using srv = await serve(
      rateLimit({ capacity: 1, refillPerSecond: 1, store, clock, storeTimeoutMs: 100, failMode: 'closed' }),
    );
    const response = fetch(srv.url);
    await store.called;
    assert.equal(clock.pending, 1, 'one timeout timer races the store');
    await clock.advance(99);
    await clock.advance(1);
    const res = await response;
    assert.equal(res.status, 503);
    assert.equal(clock.pending, 0);
    // A store that answers in time clears its timer.
    store.answer(Promise.resolve({ allowed: true, limit: 1, remaining: 0, resetMs: 1000, retryAfterMs: 0 }));
    const ok = await fetch(srv.url);
    assert.equal(ok.status, 200);
    assert.equal(clock.pending, 0);
  });

  it('validates options and keeps DEFAULTS frozen', () => {
    assert.ok(Object.isFrozen(RATE_LIMIT_DEFAULTS));
    const bad = [
      {},
      { capacity: 0, refillPerSecond: 1 },
      { limit: 10, window: 'often' },
      { capacity: 1, refillPerSecond: 1, storeTimeoutMs: 0 },
      { capacity: 1, refillPerSecond: 1, failMode: 'maybe' as 'open' },
      { routes: [{ path: 'no-slash', capacity: 1, refillPerSecond: 1 }] },
    ];
    for (const opts of bad) {
      assert.throws(
        () => rateLimit(opts),
        (e: unknown) => isFleetgateError(e, 'ERR_FG_INVALID_CONFIG'),
        JSON.stringify(opts),
      );
    }
  });
});
