/**
 * Rate limits from `fleetgate.yaml` through the bin: a global limit, a per-route limit and a
 * per-key-class limit each answer 429 `ERR_FG_RATE_LIMITED` at the configured count (memory
 * store); and with `store: redis` on a real redis-server two bin processes share one budget.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RedisServer, redisSkipReason, startRedis } from '../sandbox/servers/redis-server.js';
import { startGateway } from './support/gateway-process.js';

const FREE_KEY = 'free-key-0123456789';

/** Sends `n` GETs one after the other and returns their statuses; keeps the last body for its error code. */
async function statuses(url: string, n: number, headers: Record<string, string> = {}) {
  const out: number[] = [];
  let last = '';
  for (let i = 0; i < n; i++) {
    const res = await fetch(url, { headers });
    last = await res.text();
    out.push(res.status);
  }
  return { out, last };
}

const redisSkip = await redisSkipReason();

const times = (n: number, status: number): number[] => Array.from({ length: n }, () => status);

describe('rate limits from fleetgate.yaml through the bin', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fleetgate-rl-'));
  let upstream: Server;
  let target = '';

  before(async () => {
    upstream = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    target = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  });

  after(() => {
    upstream.closeAllConnections();
    upstream.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('global, per-route and per-key-class limits refuse at the configured count (memory store)', async () => {
    const path = join(dir, 'memory.yaml');
    writeFileSync(
      path,
      `
apiKeys:
  required: false
  keys:
    - { name: free-1, key: ${FREE_KEY}, rateLimitClass: free }
rateLimits:
  global: { limit: 5, window: 1h }
  routes:
    - { path: /tight/**, limit: 3, window: 1h }
  classes:
    free: { limit: 2, window: 1h }
routes:
  - { path: /open/**, target: "${target}" }
  - { path: /tight/**, target: "${target}" }
  - { path: /keyed/**, target: "${target}" }
`,
    );
    await using gw = await startGateway({ FLEETGATE_CONFIG: path });

    // Per route: /tight has its own bucket of 3, which leaves the global budget untouched.
    const tight = await statuses(`${gw.url}/tight/a`, 4);
    assert.deepEqual(tight.out, [...times(3, 200), 429], gw.output());
    assert.match(tight.last, /ERR_FG_RATE_LIMITED/);

    // Per key class: 2 per key of class `free`. These requests also spend 3 of the 5 global tokens.
    const keyed = await statuses(`${gw.url}/keyed/a`, 3, { 'x-api-key': FREE_KEY });
    assert.deepEqual(keyed.out, [...times(2, 200), 429]);
    assert.match(keyed.last, /ERR_FG_RATE_LIMITED/);

    // Global: 5 per client address, 3 already spent above.
    const open = await statuses(`${gw.url}/open/a`, 3);
    assert.deepEqual(open.out, [...times(2, 200), 429]);
    assert.match(open.last, /ERR_FG_RATE_LIMITED/);
    // The route bucket is still its own: spent, and still refusing.
    assert.deepEqual((await statuses(`${gw.url}/tight/b`, 1)).out, [429]);
  });

  describe('with store: redis', { skip: redisSkip }, () => {
    let redis: RedisServer;
    before(async () => {
      redis = await startRedis();
    });
    after(async () => {
      await redis?.stop();
    });

    it('two bin processes share one budget on a real Redis', async () => {
      const path = join(dir, 'redis.yaml');
      writeFileSync(
        path,
        `
rateLimits:
  store: redis
  redisUrl: ${redis.url}
  failMode: closed
  global: { limit: 6, window: 1h }
routes:
  - { path: /open/**, target: "${target}" }
`,
      );
      await using a = await startGateway({ FLEETGATE_CONFIG: path }, { name: 'gw-a' });
      await using b = await startGateway({ FLEETGATE_CONFIG: path }, { name: 'gw-b' });
      // Alternate between the two gateways: 6 admitted in total, then both refuse.
      const seen: number[] = [];
      let last = '';
      for (let i = 0; i < 10; i++) {
        const res = await fetch(`${(i % 2 === 0 ? a : b).url}/open/x`);
        last = await res.text();
        seen.push(res.status);
      }
      assert.deepEqual(seen, [...times(6, 200), ...times(4, 429)], `${a.output()}\n${b.output()}`);
      assert.match(last, /ERR_FG_RATE_LIMITED/);
    });
  });
});
