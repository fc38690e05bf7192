import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../clock.js';
import { isPathFailure, normalizePath } from '../core/path-normalize.js';
import { setRequestClaims } from '../core/request-claims.js';
import { isFleetgateError } from '../errors.js';
import { MemoryBackend } from '../registry/backends/memory.js';
import type { RegistrationInput, RouteSpec } from '../registry/model.js';
import { Registry } from '../registry/registry.js';
import { WeightedBalancer } from './balancers/weighted.js';
import { resolveRequest } from './resolve-request.js';
import { RouteTable } from './route-table.js';

async function fakeRegistry(staticRoutes: RouteSpec[] = []) {
  const clock = new FakeClock();
  const registry = new Registry({ backend: new MemoryBackend({ clock }), clock, ownsBackend: true, staticRoutes });
  await registry.ready();
  return { registry, [Symbol.asyncDispose]: () => registry.close() };
}

function input(
  service: string,
  id: string,
  routes: RouteSpec[],
  extra: Partial<RegistrationInput> = {},
): RegistrationInput {
  return { service, instanceId: id, url: `http://127.0.0.1:${7000 + id.length}`, routes, ...extra };
}

/** The instance ids a request reaches, the way the proxy resolves it. */
function reach(
  table: RouteTable,
  rawUrl: string,
  headers: Record<string, string> = {},
  claims?: Record<string, unknown>,
): string[] {
  const req = { headers };
  if (claims !== undefined) setRequestClaims(req, claims);
  const r = resolveRequest(table, 'GET', rawUrl, req);
  return r.kind === 'route' ? table.instancesFor(r.match).map((i) => i.instanceId) : [];
}

const beta = { headers: [{ name: 'x-beta', value: 'true' }] };
const betaClaim = { claims: [{ name: 'groups', value: 'beta-testers' }] };

describe('RouteTable with predicates', () => {
  it('sends beta testers (by header or claim) to v2 and everyone else to v1, within one service', async () => {
    await using fx = await fakeRegistry();
    const path = '/api/comments/**';
    await fx.registry.register(input('comments', 'v1', [{ method: 'GET', path }], { version: 'v1' }));
    await fx.registry.register(
      input(
        'comments',
        'v2',
        [
          { method: 'GET', path, predicates: beta },
          { method: 'GET', path, predicates: betaClaim },
        ],
        { version: 'v2' },
      ),
    );
    await using table = new RouteTable({ registry: fx.registry, nameRouting: false });
    assert.deepEqual(reach(table, '/api/comments/7'), ['v1']);
    assert.deepEqual(reach(table, '/api/comments/7', { 'x-beta': 'true' }), ['v2']);
    assert.deepEqual(reach(table, '/api/comments/7', { 'x-beta': 'no' }), ['v1']);
    assert.deepEqual(reach(table, '/api/comments/7', {}, { groups: ['beta-testers'] }), ['v2']);
    assert.deepEqual(reach(table, '/api/comments/7', {}, { groups: ['staff'] }), ['v1']);
  });

  it('combines with weighted splits: the plain route splits v1/v2 by weight, the beta route is all v2', async () => {
    await using fx = await fakeRegistry();
    const path = '/api/orders/**';
    await fx.registry.register(input('orders', 'v1', [{ method: 'GET', path }], { version: 'v1', weight: 9 }));
    await fx.registry.register(
      input(
        'orders',
        'v2',
        [
          { method: 'GET', path },
          { method: 'GET', path, predicates: beta },
        ],
        {
          version: 'v2',
          weight: 1,
        },
      ),
    );
    await using table = new RouteTable({ registry: fx.registry, nameRouting: false });
    const balancer = new WeightedBalancer();
    const picks = (headers: Record<string, string>) => {
      const counts: Record<string, number> = {};
      const r = resolveRequest(table, 'GET', '/api/orders/1', { headers });
      assert.equal(r.kind, 'route');
      if (r.kind !== 'route') return counts;
      const candidates = table.instancesFor(r.match);
      for (let i = 0; i < 100; i++) {
        const id = balancer.pick(candidates, {})!.instanceId;
        counts[id] = (counts[id] ?? 0) + 1;
      }
      return counts;
    };
    assert.deepEqual(picks({}), { v1: 90, v2: 10 });
    assert.deepEqual(picks({ 'x-beta': 'true' }), { v2: 100 });
  });

  it('falls back to a less specific route when the predicates of a more specific one fail', async () => {
    await using fx = await fakeRegistry();
    await fx.registry.register(input('shop', 'beta', [{ method: 'GET', path: '/shop/items/:id', predicates: beta }]));
    await fx.registry.register(input('shop', 'all', [{ method: '*', path: '/shop/**' }]));
    await using table = new RouteTable({ registry: fx.registry, nameRouting: false });
    assert.deepEqual(reach(table, '/shop/items/1', { 'x-beta': 'true' }), ['beta']);
    assert.deepEqual(reach(table, '/shop/items/1'), ['all']);
  });

  it('routes static routes by host and query, strips a prefix, and picks instances by version', async () => {
    await using fx = await fakeRegistry();
    await fx.registry.register(input('shop', 'one', [], { version: 'v1' }));
    await fx.registry.register(input('shop', 'two', [], { version: 'v2' }));
    await using table = new RouteTable({
      registry: fx.registry,
      nameRouting: false,
      staticRoutes: [
        {
          path: '/store/**',
          service: 'shop',
          version: 'v2',
          stripPrefix: '/store',
          predicates: { query: [{ name: 'beta', value: '1' }] },
        },
        { path: '/store/**', service: 'shop', version: 'v1', stripPrefix: '/store' },
        { path: '/**', target: 'http://127.0.0.1:9/', predicates: { hosts: ['*.admin.example'] } },
      ],
    });
    assert.deepEqual(reach(table, '/store/cart?beta=1'), ['two']);
    assert.deepEqual(reach(table, '/store/cart'), ['one']);
    const m = table.match('GET', '/store/cart', '?x=1');
    assert.equal(m?.upstreamPath, '/cart?x=1');
    assert.equal(table.match('GET', '/store', '')?.upstreamPath, '/');
    assert.equal(
      table.match('GET', '/other', '', { headers: { host: 'eu.admin.example' } })?.target,
      'http://127.0.0.1:9/',
    );
    assert.equal(table.match('GET', '/other', '', { headers: { host: 'admin.example' } }), undefined);
  });

  it('keeps routes that target other gateways out of the table', async () => {
    await using fx = await fakeRegistry();
    await fx.registry.register(input('pub', 'p1', [{ method: 'GET', path: '/pub/**', gateways: ['public'] }]));
    await fx.registry.register(input('both', 'b1', [{ method: 'GET', path: '/both/**' }]));
    const statics = [{ path: '/static/**', target: 'http://127.0.0.1:9/', gateways: ['public'] }];
    await using publicTable = new RouteTable({
      registry: fx.registry,
      nameRouting: false,
      gatewayName: 'public',
      staticRoutes: statics,
    });
    await using internalTable = new RouteTable({
      registry: fx.registry,
      nameRouting: false,
      gatewayName: 'internal',
      staticRoutes: statics,
    });
    await using unnamed = new RouteTable({ registry: fx.registry, nameRouting: false, staticRoutes: statics });
    assert.deepEqual(reach(publicTable, '/pub/x'), ['p1']);
    assert.deepEqual(reach(internalTable, '/pub/x'), []);
    assert.deepEqual(reach(unnamed, '/pub/x'), []);
    for (const t of [publicTable, internalTable, unnamed]) assert.deepEqual(reach(t, '/both/x'), ['b1']);
    assert.ok(publicTable.match('GET', '/static/a', ''));
    assert.equal(internalTable.match('GET', '/static/a', ''), undefined);
  });

  it('swaps static routes at once and keeps the old ones when the new set is invalid', async () => {
    await using fx = await fakeRegistry();
    await using table = new RouteTable({
      registry: fx.registry,
      staticRoutes: [{ path: '/a/**', target: 'http://127.0.0.1:1/' }],
    });
    table.setStaticRoutes([{ path: '/b/**', target: 'http://127.0.0.1:2/' }]);
    assert.equal(table.match('GET', '/a/x', ''), undefined);
    assert.equal(table.match('GET', '/b/x', '')?.target, 'http://127.0.0.1:2/');
    assert.throws(
      () =>
        table.setStaticRoutes([
          { path: '/c/**', target: 'http://127.0.0.1:3/', predicates: { headers: [{ name: 'x', regex: '(a+)+' }] } },
        ]),
      (err) => isFleetgateError(err, 'ERR_FG_INVALID_CONFIG') && /predicates.headers\[0\].regex/.test(err.message),
    );
    assert.equal(table.match('GET', '/b/x', '')?.target, 'http://127.0.0.1:2/');
  });

  it('refuses invalid static route options with ERR_FG_INVALID_CONFIG', async () => {
    await using fx = await fakeRegistry();
    for (const bad of [
      { path: '/shop/**', target: 'http://127.0.0.1:1/', stripPrefix: '/sh' },
      { path: '/shop/**', target: 'http://127.0.0.1:1/', stripPrefix: 'shop' },
      { path: '/:x/**', target: 'http://127.0.0.1:1/', stripPrefix: '/:x' },
      { path: '/shop/**', target: 'http://127.0.0.1:1/', version: 'v2' },
      { path: '/shop/**', target: 'http://127.0.0.1:1/', gateways: ['bad name'] },
    ]) {
      assert.throws(
        () => new RouteTable({ registry: fx.registry, staticRoutes: [bad] }),
        (err) => isFleetgateError(err, 'ERR_FG_INVALID_CONFIG'),
        JSON.stringify(bad),
      );
    }
  });

  it('without a request, routes with predicates never match (explain, message frames)', async () => {
    await using fx = await fakeRegistry();
    await fx.registry.register(input('s', 'i', [{ method: 'GET', path: '/x', predicates: beta }]));
    await using table = new RouteTable({ registry: fx.registry, nameRouting: false });
    const n = normalizePath('/x');
    assert.ok(!isPathFailure(n));
    assert.equal(table.match('GET', n.path, n.query), undefined);
  });
});
