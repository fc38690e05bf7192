import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isFleetgateError } from '../errors.js';
import { ROUTE_TABLE_DEFAULTS, RouteTable } from './route-table.js';
import { any, fakeRegistry, get, instanceInput, route } from './route-table.test-kit.js';

describe('RouteTable', () => {
  it('freezes its defaults', () => {
    assert.ok(Object.isFrozen(ROUTE_TABLE_DEFAULTS));
    assert.equal(ROUTE_TABLE_DEFAULTS.nameRouting, true);
    assert.equal(ROUTE_TABLE_DEFAULTS.protocol, 'http');
  });

  it('matches registered routes with params and keeps the query for upstream', async () => {
    await using fx = await fakeRegistry();
    await fx.registry.register(instanceInput('comments', 'c1', { routes: [get('/api/comments/:id')] }));
    await using table = new RouteTable({ registry: fx.registry });
    const hit = route(table, 'GET', '/api/comments/7?expand=author&x=%2F');
    assert.ok(hit);
    assert.equal(hit.service, 'comments');
    assert.equal(hit.pattern, '/api/comments/:id');
    assert.deepEqual(hit.params, { id: '7' });
    assert.equal(hit.upstreamPath, '/api/comments/7?expand=author&x=%2F');
    assert.equal(hit.viaNameFallback, false);
    assert.equal(hit.isStatic, false);
    assert.deepEqual(
      table.instancesFor(hit).map((i) => i.instanceId),
      ['c1'],
    );
  });

  it("applies precedence among one service's overlapping routes: static > param > * > **", async () => {
    // Overlapping routes of different services are refused at registration; within one service
    // precedence decides, and each route reaches only the instances that registered it.
    await using fx = await fakeRegistry();
    await fx.registry.register(instanceInput('api', 'me', { routes: [get('/api/users/me')] }));
    await fx.registry.register(instanceInput('api', 'param', { routes: [get('/api/users/:id')] }));
    await fx.registry.register(instanceInput('api', 'star', { routes: [get('/api/users/*/*')] }));
    await fx.registry.register(instanceInput('api', 'rest', { routes: [any('/api/**')] }));
    await using table = new RouteTable({ registry: fx.registry, nameRouting: false });
    const owner = (path: string) => {
      const hit = route(table, 'GET', path);
      return hit === undefined ? [] : table.instancesFor(hit).map((i) => i.instanceId);
    };
    assert.deepEqual(owner('/api/users/me'), ['me']);
    assert.deepEqual(owner('/api/users/42'), ['param']);
    assert.deepEqual(owner('/api/users/42/posts'), ['star']);
    assert.deepEqual(owner('/api/orders'), ['rest']);
    assert.deepEqual(owner('/api/users/42/posts/1'), ['rest']);
  });

  it('routes by method; an exact method beats * for the same pattern', async () => {
    await using fx = await fakeRegistry();
    await fx.registry.register(instanceInput('reader', 'r1', { routes: [get('/items/:id')] }));
    await fx.registry.register(instanceInput('writer', 'w1', { routes: [{ method: 'post', path: '/items/:id' }] }));
    await using table = new RouteTable({ registry: fx.registry, nameRouting: false });
    assert.equal(route(table, 'GET', '/items/1')?.service, 'reader');
    assert.equal(route(table, 'HEAD', '/items/1')?.service, 'reader');
    assert.equal(route(table, 'post', '/items/1')?.service, 'writer');
    assert.equal(route(table, 'DELETE', '/items/1'), undefined);
  });

  it('reaches only registered routes; traversal cannot reach others', async () => {
    await using fx = await fakeRegistry();
    await fx.registry.register(instanceInput('public', 'p1', { routes: [get('/api/public/**')] }));
    await using table = new RouteTable({ registry: fx.registry, nameRouting: false });
    assert.equal(route(table, 'GET', '/api/public/a')?.service, 'public');
    for (const raw of ['/api/public/../admin', '/api/public/%2e%2e/admin', '/api/public/.%2E/admin', '/admin']) {
      assert.equal(route(table, 'GET', raw), undefined, raw);
    }
  });

  it('falls back to /{service}/... by name, stripping the prefix and keeping the query', async () => {
    await using fx = await fakeRegistry();
    await fx.registry.register(instanceInput('sagjan', 's1', { routes: [get('/api/comments/*')] }));
    await using table = new RouteTable({ registry: fx.registry });
    const hit = route(table, 'POST', '/sagjan/internal/x?q=1');
    assert.ok(hit);
    assert.equal(hit.service, 'sagjan');
    assert.equal(hit.viaNameFallback, true);
    assert.equal(hit.upstreamPath, '/internal/x?q=1');
    assert.equal(hit.pattern, '/sagjan/**');
    assert.deepEqual(
      table.instancesFor(hit).map((i) => i.instanceId),
      ['s1'],
    );
    assert.equal(route(table, 'GET', '/sagjan')?.upstreamPath, '/');
    assert.equal(route(table, 'GET', '/sagjan/?a')?.upstreamPath, '/?a');
    assert.equal(route(table, 'GET', '/nobody/x'), undefined);
    // A registered route still wins over the fallback.
    assert.equal(route(table, 'GET', '/api/comments/1')?.viaNameFallback, false);

    await using off = new RouteTable({ registry: fx.registry, nameRouting: false });
    assert.equal(route(off, 'GET', '/sagjan/x'), undefined);
  });

  it('gives static routes precedence over registrations', async () => {
    await using fx = await fakeRegistry();
    await fx.registry.register(instanceInput('rogue', 'r1', { routes: [get('/auth/login'), get('/api/x')] }));
    await fx.registry.register(instanceInput('auth', 'a1'));
    await using table = new RouteTable({
      registry: fx.registry,
      staticRoutes: [
        { path: '/auth/**', service: 'auth', timeoutMs: 2000 },
        { method: 'GET', path: '/docs/**', target: 'http://127.0.0.1:9999' },
      ],
    });
    const login = route(table, 'GET', '/auth/login');
    assert.equal(login?.service, 'auth');
    assert.equal(login?.isStatic, true);
    assert.equal(login?.route.timeoutMs, 2000);
    assert.deepEqual(
      table.instancesFor(login!).map((i) => i.instanceId),
      ['a1'],
    );
    const docs = route(table, 'GET', '/docs/a?b');
    assert.equal(docs?.target, 'http://127.0.0.1:9999');
    assert.equal(docs?.service, undefined);
    assert.equal(docs?.upstreamPath, '/docs/a?b');
    assert.deepEqual(table.instancesFor(docs!), []);
    assert.equal(route(table, 'GET', '/api/x')?.service, 'rogue');
    assert.equal(table.staticRoutes().length, 2);
  });

  it('refuses invalid static routes with ERR_FG_INVALID_CONFIG', async () => {
    await using fx = await fakeRegistry();
    for (const bad of [
      { path: '/a' },
      { path: '/a', service: 's', target: 'http://x' },
      { path: '/a', target: 'not a url' },
      { path: '/a/**/b', service: 's' },
    ]) {
      assert.throws(
        () => new RouteTable({ registry: fx.registry, staticRoutes: [bad] }),
        (err) => isFleetgateError(err, 'ERR_FG_INVALID_CONFIG'),
        JSON.stringify(bad),
      );
    }
  });
});
