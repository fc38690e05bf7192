import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeInstance } from '../../fixtures/routing-instances.js';
import { PatternCache } from '../core/pattern-cache.js';
import type { RouteSpec } from '../registry/model.js';
import { ServiceRoutes } from './service-routes.js';

const get = (path: string, extra: Partial<RouteSpec> = {}): RouteSpec => ({ method: 'GET', path, ...extra });

describe('ServiceRoutes', () => {
  it('a heartbeat (same registration, equal routes) swaps nothing', () => {
    const routes = new ServiceRoutes('s', 'http', new PatternCache());
    const inst = makeInstance('s', 'i1', { routes: [get('/a'), get('/b/:id')] });
    assert.equal(routes.upsert(inst).length, 2);
    const copy = structuredClone({ ...inst, lastHeartbeat: inst.lastHeartbeat + 1, expiresAt: inst.expiresAt + 1 });
    assert.deepEqual(routes.upsert(copy), []);
  });

  it('takes details from the newest holder and the claim age from the oldest, through joins and leaves', () => {
    const routes = new ServiceRoutes('s', 'http', new PatternCache());
    routes.upsert(makeInstance('s', 'old', { registeredAt: 100, routes: [get('/a', { timeoutMs: 1 })] }));
    const [joined] = routes.upsert(
      makeInstance('s', 'new', { registeredAt: 200, routes: [get('/a', { timeoutMs: 2 })] }),
    );
    assert.equal(joined?.after?.route.timeoutMs, 2);
    assert.equal(joined?.after?.since, 100);
    const [oldLeft] = routes.remove('old');
    assert.equal(oldLeft?.after?.since, 200);
    assert.equal(oldLeft?.after?.route.timeoutMs, 2);
    // A middle holder leaving changes neither the newest nor the oldest: nothing to swap.
    routes.upsert(makeInstance('s', 'mid', { registeredAt: 250, routes: [get('/a', { timeoutMs: 2 })] }));
    routes.upsert(makeInstance('s', 'newest', { registeredAt: 300, routes: [get('/a', { timeoutMs: 2 })] }));
    assert.deepEqual(routes.remove('mid'), []);
    const [last] = [...routes.remove('new'), ...routes.remove('newest')].slice(-1);
    assert.equal(last?.after, undefined);
    assert.equal([...routes.routes()].length, 0);
    assert.equal(routes.instanceCount, 0);
  });

  it('answers which instance offers a key; sync keeps unchanged entries and drops the missing', () => {
    const routes = new ServiceRoutes('s', 'http', new PatternCache());
    const a = makeInstance('s', 'a', { routes: [get('/x')] });
    const b = makeInstance('s', 'b', { routes: [get('/x'), get('/y')] });
    routes.sync([a, b]);
    const [x, y] = [...routes.routes()];
    assert.equal(routes.offers('a', y!.key), false);
    assert.equal(routes.offers('b', y!.key), true);
    assert.equal(routes.offers('nobody', x!.key), undefined);
    const swaps = routes.sync([a]);
    assert.deepEqual(swaps, [{ before: y, after: undefined }]);
    assert.equal([...routes.routes()][0], x);
  });

  it('ignores routes of the other protocol and patterns that never compile', () => {
    const routes = new ServiceRoutes('s', 'http', new PatternCache());
    routes.upsert(
      makeInstance('s', 'i', { routes: [get('/ok'), get('/bad/**/x'), { method: '*', path: '/m', protocol: 'ws' }] }),
    );
    assert.deepEqual(
      [...routes.routes()].map((r) => r.route.path),
      ['/ok'],
    );
  });

  it('instances with equal lists (different objects) are one group; a re-registration moves an instance between groups', () => {
    const routes = new ServiceRoutes('s', 'http', new PatternCache());
    for (let i = 0; i < 3; i++) {
      routes.upsert(makeInstance('s', `i${i}`, { registeredAt: 100 + i, routes: [get('/a'), get('/b')] }));
    }
    const [a, b] = [...routes.routes()];
    assert.equal(a?.since, 100);
    // i1 re-registers with a new list: /c appears, /a and /b keep their entries (i0 still holds them).
    const swaps = routes.upsert(makeInstance('s', 'i1', { registeredAt: 200, routes: [get('/c')] }));
    assert.deepEqual(
      swaps.map((x) => [x.before?.route.path, x.after?.route.path]),
      [[undefined, '/c']],
    );
    assert.deepEqual([...routes.routes()].slice(0, 2), [a, b]);
    assert.equal(routes.offers('i1', a!.key), false);
    assert.equal(routes.offers('i2', a!.key), true);
    // The oldest leaves: the claim age moves to the next oldest of the group.
    const [aged] = routes.remove('i0');
    assert.equal(aged?.after?.since, 102);
    // The group's last instance leaves: its keys go, the other group's stays.
    assert.deepEqual(
      routes.remove('i2').map((x) => [x.before?.route.path, x.after]),
      [
        ['/a', undefined],
        ['/b', undefined],
      ],
    );
    assert.deepEqual(
      [...routes.routes()].map((r) => r.route.path),
      ['/c'],
    );
    assert.equal(routes.instanceCount, 1);
  });

  it('without keepKeyless holds only instances that offer a route of its protocol', () => {
    const routes = new ServiceRoutes('s', 'ws', new PatternCache(), undefined, false);
    const ws = { method: '*', path: '/chat', protocol: 'ws' as const };
    assert.deepEqual(routes.upsert(makeInstance('s', 'http-only', { routes: [get('/a')] })), []);
    assert.equal(routes.instanceCount, 0);
    const [added] = routes.upsert(makeInstance('s', 'chat', { registeredAt: 5, routes: [ws] }));
    assert.equal(added?.after?.route.path, '/chat');
    assert.equal(routes.instanceCount, 1);
    assert.equal(routes.offers('http-only', added!.after!.key), undefined);
    // Re-registered without its message route: it leaves, and the route with it.
    const [removed] = routes.upsert(makeInstance('s', 'chat', { registeredAt: 6, routes: [get('/a')] }));
    assert.equal(removed?.before, added?.after);
    assert.equal(removed?.after, undefined);
    assert.equal(routes.instanceCount, 0);
  });
});
