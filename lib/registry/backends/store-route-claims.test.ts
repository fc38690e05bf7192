/**
 * Route claims: the decision (core overlap rule, expiry, union of a service's own routes) and two
 * gateways (two Registry instances on one real Redis, and on one real etcd) racing 50 times with
 * colliding routes: exactly one wins each time.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  type EtcdServer,
  etcdSkipReason,
  type RedisServer,
  redisSkipReason,
  startEtcd,
  startRedis,
} from '../../../sandbox/servers/index.js';
import { isFleetgateError } from '../../errors.js';
import { Registry } from '../registry.js';
import { race } from './claim-race.test-kit.js';
import { EtcdBackend } from './etcd.js';
import { RedisBackend } from './redis.js';
import { decideClaim } from './store-claim-book.js';
import { claimCovers, type ServiceClaim } from './store-route-claims.js';

const get = (path: string) => ({ method: 'GET', path, protocol: 'http' as const });

describe('decideClaim', () => {
  const now = 1_000_000;
  const claims = (entries: [string, ServiceClaim][]) => new Map(entries);

  it('refuses an overlap with a live claim of another service, by meaning, not by text', () => {
    const current = claims([['victim', { routes: [get('/api/comments/*')], expiresAt: now + 1 }]]);
    for (const path of ['/api/comments/:id', '/api/comments/7', '/**', '/api/**']) {
      assert.throws(
        () => decideClaim('attacker', [get(path)], current, now, 90_000),
        (err) => isFleetgateError(err, 'ERR_FG_ROUTE_CONFLICT'),
        path,
      );
    }
    assert.doesNotThrow(() => decideClaim('other', [get('/api/comments/7/likes')], current, now, 90_000));
    assert.doesNotThrow(() => decideClaim('other', [{ ...get('/api/comments/*'), method: 'POST' }], current, now, 1));
  });

  it('lets other services claim the same path only with provably disjoint predicates or gateways', () => {
    const header = (value: string) => ({ headers: [{ name: 'x-tenant', value }] });
    const current = claims([
      ['a', { routes: [{ ...get('/api/**'), predicates: header('a') }], expiresAt: now + 10 }],
      ['pub', { routes: [{ ...get('/pub/**'), gateways: ['public'] }], expiresAt: now + 10 }],
    ]);
    assert.doesNotThrow(() => decideClaim('b', [{ ...get('/api/**'), predicates: header('b') }], current, now, 1));
    for (const bad of [
      get('/api/x'),
      { ...get('/api/**'), predicates: header('a') },
      { ...get('/api/**'), predicates: { claims: [{ name: 'tenant', value: 'b' }] } },
    ]) {
      assert.throws(
        () => decideClaim('b', [bad], current, now, 1),
        (err) => isFleetgateError(err, 'ERR_FG_ROUTE_CONFLICT'),
      );
    }
    assert.doesNotThrow(() => decideClaim('int', [{ ...get('/pub/**'), gateways: ['internal'] }], current, now, 1));
    assert.throws(() => decideClaim('int', [get('/pub/x')], current, now, 1));
  });

  it('ignores expired claims; keeps and extends a service its own live routes', () => {
    const current = claims([
      ['gone', { routes: [get('/a/*')], expiresAt: now }],
      ['me', { routes: [get('/b/*')], expiresAt: now + 500_000 }],
    ]);
    assert.deepEqual(decideClaim('new', [get('/a/:x')], current, now, 10).routes, [get('/a/:x')]);
    const mine = decideClaim('me', [get('/b/*'), get('/c')], current, now, 10);
    assert.deepEqual(mine, { routes: [get('/b/*'), get('/c')], expiresAt: now + 500_000 });
  });
});

describe('claimCovers', () => {
  const now = 1_000_000;
  const current = new Map<string, ServiceClaim>([
    ['me', { routes: [get('/b/*'), get('/c')], expiresAt: now + 600 }],
    ['old', { routes: [get('/d')], expiresAt: now + 400 }],
  ]);

  it('true only for a live claim of the same service holding every route with half a TTL left', () => {
    assert.equal(claimCovers('me', [get('/c')], current, now, 1000), true);
    assert.equal(claimCovers('me', [get('/b/*'), get('/c')], current, now, 1000), true);
    assert.equal(claimCovers('me', [get('/b/*'), get('/new')], current, now, 1000), false, 'a route not held');
    assert.equal(claimCovers('me', [{ ...get('/c'), method: 'POST' }], current, now, 1000), false, 'another method');
    assert.equal(claimCovers('me', [{ ...get('/c'), protocol: 'ws' }], current, now, 1000), false, 'another protocol');
    assert.equal(claimCovers('old', [get('/d')], current, now, 1000), false, 'less than half a TTL left');
    assert.equal(claimCovers('other', [get('/c')], current, now, 1000), false, 'another service');
  });
});

const redisSkip = await redisSkipReason();
const etcdSkip = await etcdSkipReason();
let redis: RedisServer | undefined;
let etcd: EtcdServer | undefined;
before(async () => {
  if (redisSkip === undefined) redis = await startRedis();
  if (etcdSkip === undefined) etcd = await startEtcd();
});
after(async () => {
  await redis?.stop();
  await etcd?.stop();
});

describe('route claims across two gateways', () => {
  it('on one Redis: 50 races with colliding routes, exactly one winner each', { skip: redisSkip }, async () => {
    const prefix = `claims-${randomUUID().slice(0, 8)}`;
    await race(() => RedisBackend.fromUrls([redis!.url], { keyPrefix: prefix }), 50);
  });

  it('on one Redis: 200 instances of one service registering at once through two gateways all succeed', {
    skip: redisSkip,
  }, async () => {
    // Before claims were skipped when already held, every registration rewrote the one record and
    // a herd of one service lost the compare-and-set to itself until it answered 503.
    const prefix = `herd-${randomUUID().slice(0, 8)}`;
    const gateways = [0, 1].map(
      () => new Registry({ backend: RedisBackend.fromUrls([redis!.url], { keyPrefix: prefix }), ownsBackend: true }),
    );
    try {
      await Promise.all(gateways.map((g) => g.ready()));
      const results = await Promise.allSettled(
        Array.from({ length: 200 }, (_, i) =>
          gateways[i % 2]!.register({
            service: 'herd',
            instanceId: `herd-${i}`,
            url: 'http://127.0.0.1:7001',
            routes: [{ method: 'GET', path: '/herd/**' }],
          }),
        ),
      );
      const failed = results.filter((r) => r.status === 'rejected').map((r) => String(r.reason));
      assert.deepEqual(failed, []);
      assert.equal((await gateways[0]!.backend.list('herd')).length, 200);
    } finally {
      await Promise.all(gateways.map((g) => g.close()));
    }
  });

  it('on one etcd: 50 races with colliding routes, exactly one winner each', { skip: etcdSkip }, async () => {
    const root = `/claims-${randomUUID().slice(0, 8)}/`;
    await race(() => EtcdBackend.fromEndpoints(etcd!.endpoints, { root }), 50);
  });
});
