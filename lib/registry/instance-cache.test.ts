import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InstanceCache } from './instance-cache.js';
import type { ServiceInstance } from './model.js';
import { compileRoute } from './route-claims.js';

function instance(overrides: Partial<ServiceInstance> = {}): ServiceInstance {
  return {
    service: 'orders',
    instanceId: 'orders-1',
    url: 'http://127.0.0.1:7000',
    routes: [{ method: 'GET', path: '/api/orders/:id' }],
    weight: 1,
    metadata: { zone: 'a' },
    registeredAt: 1000,
    lastHeartbeat: 1000,
    expiresAt: 91_000,
    status: 'UP',
    epoch: 1,
    ...overrides,
  };
}

const ORDERS_ROUTE = compileRoute({ method: 'GET', path: '/api/orders/:id' })!;
const ITEMS_ROUTE = compileRoute({ method: 'GET', path: '/api/items/:id' })!;

describe('InstanceCache', () => {
  test('a renewal of the same registration shares its frozen routes and metadata and counts its claims once', () => {
    const cache = new InstanceCache();
    cache.upsert(instance(), 1000);
    const first = cache.get('orders', 'orders-1')!.instance;
    const renewed = instance({ lastHeartbeat: 31_000, expiresAt: 121_000, status: 'DOWN' });
    const result = cache.upsert(renewed, 31_000);
    assert.equal(result?.previous, first);
    const second = cache.get('orders', 'orders-1')!.instance;
    assert.notEqual(second, first);
    assert.equal(second.routes, first.routes);
    assert.equal(second.metadata, first.metadata);
    assert.deepEqual(
      { lastHeartbeat: second.lastHeartbeat, expiresAt: second.expiresAt, status: second.status },
      { lastHeartbeat: 31_000, expiresAt: 121_000, status: 'DOWN' },
    );
    assert.ok(Object.isFrozen(second) && Object.isFrozen(second.routes[0]) && Object.isFrozen(second.metadata));
    assert.equal(cache.routeClaims.holders('orders', ORDERS_ROUTE), 1);
    assert.equal(cache.routeClaims.distinctOf('orders'), 1);
    // The caller's object is not the one stored, so mutating it changes nothing.
    renewed.expiresAt = 0;
    assert.equal(cache.get('orders', 'orders-1')!.instance.expiresAt, 121_000);
  });

  test('a re-registration (new epoch) stores its own data and moves the claims', () => {
    const cache = new InstanceCache();
    cache.upsert(instance(), 1000);
    const again = instance({
      epoch: 2,
      registeredAt: 5000,
      lastHeartbeat: 5000,
      routes: [{ method: 'GET', path: '/api/items/:id' }],
      metadata: { zone: 'b' },
    });
    cache.upsert(again, 5000);
    const held = cache.get('orders', 'orders-1')!.instance;
    assert.deepEqual(held.routes, again.routes);
    assert.deepEqual(held.metadata, { zone: 'b' });
    assert.equal(cache.routeClaims.holders('orders', ORDERS_ROUTE), 0);
    assert.equal(cache.routeClaims.holders('orders', ITEMS_ROUTE), 1);
  });

  test('an older version or an echo of the same state changes nothing', () => {
    const cache = new InstanceCache();
    cache.upsert(instance({ lastHeartbeat: 2000, expiresAt: 92_000 }), 2000);
    assert.equal(cache.upsert(instance(), 2000), undefined);
    assert.equal(cache.upsert(instance({ lastHeartbeat: 2000, expiresAt: 92_000 }), 2000), undefined);
  });

  test('instances of one service with equal routes and metadata share one frozen copy; others get their own', () => {
    const cache = new InstanceCache();
    const input = instance();
    cache.upsert(input, 1000);
    cache.upsert(instance({ instanceId: 'orders-2', url: 'http://127.0.0.1:7001' }), 1000);
    cache.upsert(instance({ instanceId: 'orders-3', metadata: { zone: 'b' } }), 1000);
    const [one, two, three] = ['orders-1', 'orders-2', 'orders-3'].map((id) => cache.get('orders', id)!.instance);
    assert.equal(two!.routes, one!.routes);
    assert.equal(two!.metadata, one!.metadata);
    assert.notEqual(three!.metadata, one!.metadata);
    assert.deepEqual(three!.metadata, { zone: 'b' });
    assert.equal(two!.url, 'http://127.0.0.1:7001');
    assert.ok(Object.isFrozen(one) && Object.isFrozen(one!.routes[0]) && Object.isFrozen(one!.metadata));
    assert.equal(cache.routeClaims.holders('orders', ORDERS_ROUTE), 3);
    // The caller's objects stay the caller's: changing them changes nothing cached.
    (input.routes[0] as { path: string }).path = '/changed';
    input.metadata.zone = 'z';
    assert.equal(one!.routes[0]!.path, '/api/orders/:id');
    assert.equal(one!.metadata.zone, 'a');
    const other = instance({ instanceId: 'orders-4', routes: [{ method: 'GET', path: '/api/items/:id' }] });
    cache.upsert(other, 1000);
    assert.deepEqual(cache.get('orders', 'orders-4')!.instance.routes, [{ method: 'GET', path: '/api/items/:id' }]);
    assert.equal(cache.routeClaims.holders('orders', ITEMS_ROUTE), 1);
    assert.equal(cache.routeClaims.holders('orders', ORDERS_ROUTE), 3);
  });

  test('takeExpired takes each lease once at its end: renewals move it, lost leases come at once, removed never', () => {
    const cache = new InstanceCache();
    const keys = (entries: { instance: ServiceInstance }[]) => entries.map((e) => e.instance.instanceId).sort();
    for (const id of ['a', 'b', 'c', 'd']) cache.upsert(instance({ instanceId: id }), 1000);
    cache.upsert(instance({ instanceId: 'a', lastHeartbeat: 31_000, expiresAt: 121_000 }), 31_000);
    cache.markLost('orders', 'b');
    cache.remove('orders', 'c');
    assert.deepEqual(keys(cache.takeExpired(31_000)), ['b'], 'the lost lease at once');
    assert.deepEqual(keys(cache.takeExpired(31_000)), [], 'once');
    assert.deepEqual(keys(cache.takeExpired(90_999)), [], 'd ends at 91 s, not before');
    assert.deepEqual(keys(cache.takeExpired(91_000)), ['d']);
    assert.deepEqual(keys(cache.takeExpired(120_999)), [], 'a was renewed to 121 s; c was removed');
    // Renewed after it was taken (a held instance coming back): on the wheel again at its new end.
    cache.upsert(instance({ instanceId: 'd', lastHeartbeat: 95_000, expiresAt: 185_000 }), 95_000);
    assert.deepEqual(keys(cache.takeExpired(121_000)), ['a']);
    assert.deepEqual(keys(cache.takeExpired(185_000)), ['d']);
  });
});
