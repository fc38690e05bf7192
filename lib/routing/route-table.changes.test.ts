/** The route table following registry changes: incremental updates, heartbeats, rebuilds. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeInstance } from '../../fixtures/routing-instances.js';
import { RouteTable } from './route-table.js';
import {
  countingReads,
  fakeRegistry,
  get,
  instanceInput,
  route,
  StubRegistry,
  table_ids,
} from './route-table.test-kit.js';

describe('RouteTable following the registry', () => {
  it('follows register, re-register, deregister and expiry incrementally', async () => {
    await using fx = await fakeRegistry({ ttlMs: 10_000 });
    await using table = new RouteTable({ registry: fx.registry, nameRouting: false });
    assert.equal(table.size, 0);

    await fx.registry.register(instanceInput('orders', 'o1', { routes: [get('/orders'), get('/orders/:id')] }));
    assert.equal(route(table, 'GET', '/orders/1')?.service, 'orders');
    assert.equal(table.size, 2);

    // Re-registering with other routes swaps them.
    await fx.registry.register(instanceInput('orders', 'o1', { routes: [get('/v2/orders/:id')] }));
    assert.equal(route(table, 'GET', '/orders/1'), undefined);
    assert.equal(route(table, 'GET', '/v2/orders/1')?.service, 'orders');
    assert.deepEqual(table.routesOf('orders'), [get('/v2/orders/:id')]);

    await fx.registry.register(instanceInput('carts', 'k1', { routes: [get('/carts/:id')] }));
    assert.equal(await fx.registry.deregister('orders', 'o1'), true);
    assert.equal(route(table, 'GET', '/v2/orders/1'), undefined);
    assert.deepEqual(table.routesOf('orders'), []);
    assert.equal(table.size, 1);

    // Heartbeats keep the route; a lease that lapses takes it out after the sweep.
    await fx.clock.advance(6000);
    await fx.registry.heartbeat('carts', 'k1');
    await fx.clock.advance(6000);
    assert.equal(route(table, 'GET', '/carts/1')?.service, 'carts');
    await fx.clock.advance(12_000);
    assert.equal(fx.registry.instances('carts').length, 0);
    assert.equal(route(table, 'GET', '/carts/1'), undefined);
    assert.equal(table.size, 0);
  });

  it('a heartbeat leaves every table entry untouched and never re-reads the service', async () => {
    await using fx = await fakeRegistry({ ttlMs: 10_000 });
    const { registry, reads } = countingReads(fx.registry);
    await using table = new RouteTable({ registry, nameRouting: false });
    for (let i = 0; i < 50; i++) {
      await fx.registry.register(instanceInput('big', `b${i}`, { routes: [get('/big/:id'), get('/big/x/*')] }));
    }
    const before = table.entryOf('big', 'GET', '/big/:id');
    const beforeRoutes = table.routesOf('big');
    assert.ok(before);
    reads.count = 0;
    await fx.clock.advance(1000);
    for (let i = 0; i < 50; i++) await fx.registry.heartbeat('big', `b${i}`);
    assert.equal(reads.count, 0, 'no heartbeat walks the service');
    assert.equal(table.entryOf('big', 'GET', '/big/:id'), before);
    for (const [i, r] of table.routesOf('big').entries()) assert.equal(r, beforeRoutes[i]);
    assert.equal(route(table, 'GET', '/big/1')?.route, before.route);
  });

  it("a registration swaps only the routes it changes and leaves other services' entries alone", async () => {
    await using fx = await fakeRegistry();
    const { registry, reads } = countingReads(fx.registry);
    await using table = new RouteTable({ registry, nameRouting: false });
    for (let s = 0; s < 20; s++) {
      await fx.registry.register(instanceInput(`s${s}`, 'i1', { routes: [get(`/s${s}/a`), get(`/s${s}/b/:id`)] }));
    }
    const others = Array.from({ length: 20 }, (_, s) => table.entryOf(`s${s}`, 'GET', `/s${s}/a`));
    const keptB = table.entryOf('s3', 'GET', '/s3/b/:id');
    reads.count = 0;
    // A second instance of s3 adds one route and repeats one: only the new one enters the table.
    await fx.registry.register(instanceInput('s3', 'i2', { routes: [get('/s3/a'), get('/s3/c')] }));
    assert.equal(reads.count, 0, 'the registration did not re-read any service');
    for (const [s, entry] of others.entries()) assert.equal(table.entryOf(`s${s}`, 'GET', `/s${s}/a`), entry, `s${s}`);
    assert.equal(table.entryOf('s3', 'GET', '/s3/b/:id'), keptB);
    assert.equal(route(table, 'GET', '/s3/c')?.service, 's3');
    assert.deepEqual(table_ids(table, route(table, 'GET', '/s3/c')!), ['i2']);
    // Leaving takes only that instance's own route out.
    await fx.registry.deregister('s3', 'i2');
    assert.equal(route(table, 'GET', '/s3/c'), undefined);
    assert.equal(table.entryOf('s3', 'GET', '/s3/a'), others[3]);
  });

  it('during a rolling deploy sends a new route only to instances that registered it', async () => {
    await using fx = await fakeRegistry();
    await fx.registry.register(instanceInput('api', 'old', { routes: [get('/a')], version: '1' }));
    await fx.registry.register(instanceInput('api', 'new', { routes: [get('/a'), get('/b/:id')], version: '2' }));
    await using table = new RouteTable({ registry: fx.registry });
    const ids = (raw: string) =>
      table
        .instancesFor(route(table, 'GET', raw)!)
        .map((i) => i.instanceId)
        .sort();
    assert.deepEqual(ids('/a'), ['new', 'old']);
    assert.deepEqual(ids('/b/1'), ['new']);
    assert.deepEqual(
      table
        .routesOf('api')
        .map((r) => r.path)
        .sort(),
      ['/a', '/b/:id'],
    );
    // The union shrinks when the only instance with the route leaves.
    await fx.registry.deregister('api', 'new');
    assert.equal(route(table, 'GET', '/b/1'), undefined);
  });

  it('keeps ws message routes in a table of their own', async () => {
    await using fx = await fakeRegistry();
    await fx.registry.register(
      instanceInput('chat', 'c1', {
        routes: [get('/http/x'), { method: '*', path: '/chat/send', protocol: 'ws', public: true }],
      }),
    );
    await using http = new RouteTable({ registry: fx.registry, nameRouting: false });
    await using ws = new RouteTable({ registry: fx.registry, protocol: 'ws', nameRouting: false });
    assert.equal(route(http, 'GET', '/chat/send'), undefined);
    assert.equal(route(http, 'GET', '/http/x')?.service, 'chat');
    assert.equal(route(ws, '*', '/chat/send')?.route.public, true);
    assert.equal(route(ws, 'GET', '/http/x'), undefined);
    assert.deepEqual(table_ids(ws, route(ws, '*', '/chat/send')!), ['c1']);
  });

  it('removes its listeners on close (no leak) and stops following', async () => {
    await using fx = await fakeRegistry();
    const before = fx.registry.listenerCount('change');
    const table = new RouteTable({ registry: fx.registry });
    assert.equal(fx.registry.listenerCount('change'), before + 1);
    await table.close();
    await table.close();
    assert.equal(fx.registry.listenerCount('change'), before);
    assert.equal(fx.registry.listenerCount('self-preservation'), 0);
    await fx.registry.register(instanceInput('late', 'l1', { routes: [get('/late')] }));
    assert.equal(route(table, 'GET', '/late'), undefined);
  });

  it('resolves a collision between services in favour of the older claim', () => {
    const registry = new StubRegistry([
      makeInstance('young', 'y1', { registeredAt: 2000, routes: [get('/same/:id')] }),
      makeInstance('old', 'o1', { registeredAt: 1000, routes: [get('/same/:x')] }),
    ]);
    const table = new RouteTable({ registry });
    const hit = route(table, 'GET', '/same/1');
    assert.equal(hit?.service, 'old');
    assert.deepEqual(hit?.params, { x: '1' });
    registry.remove('old', 'o1');
    assert.equal(route(table, 'GET', '/same/1')?.service, 'young');
    assert.deepEqual(route(table, 'GET', '/same/1')?.params, { id: '1' });
  });

  it('skips an invalid registered pattern instead of failing', () => {
    const registry = new StubRegistry([makeInstance('s', 'i', { routes: [get('/ok'), get('/bad/**/x')] })]);
    const table = new RouteTable({ registry, nameRouting: false });
    assert.equal(route(table, 'GET', '/ok')?.service, 's');
    assert.equal(table.size, 1);
  });

  it("keeps a DOWN instance's routes: the selector, not the table, leaves it out (503, not 404)", async () => {
    await using fx = await fakeRegistry();
    await fx.registry.register(instanceInput('svc', 's1', { routes: [get('/s')] }));
    await using table = new RouteTable({ registry: fx.registry, nameRouting: false });
    await fx.registry.setStatus('svc', 's1', 'DOWN');
    const hit = route(table, 'GET', '/s');
    assert.equal(hit?.service, 'svc');
    assert.deepEqual(
      table.instancesFor(hit!).map((i) => i.status),
      ['DOWN'],
    );
  });

  it('rebuilds when self-preservation changes which instances are live', () => {
    const registry = new StubRegistry([]);
    const table = new RouteTable({ registry, nameRouting: false });
    registry.list.push(makeInstance('kept', 'k1', { routes: [get('/kept')] }));
    registry.emit('self-preservation', { active: true, preserved: 1 });
    assert.equal(route(table, 'GET', '/kept')?.service, 'kept');
  });

  it('rebuilds once the registry is ready and on resync', async () => {
    const registry = new StubRegistry([]);
    const table = new RouteTable({ registry, nameRouting: false });
    registry.list.push(makeInstance('s', 'i', { routes: [get('/x')] }));
    registry.resolveReady();
    await registry.ready();
    await Promise.resolve();
    assert.equal(route(table, 'GET', '/x')?.service, 's');
    registry.list.length = 0;
    registry.emit('change', { type: 'resync' });
    assert.equal(route(table, 'GET', '/x'), undefined);
    await table.close();
  });
});
