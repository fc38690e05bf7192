import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { makeInstance } from '../../fixtures/routing-instances.js';
import { FakeClock } from '../clock.js';
import { isPathFailure, normalizePath } from '../core/path-normalize.js';
import { isFleetgateError } from '../errors.js';
import { MemoryBackend } from '../registry/backends/memory.js';
import type { RegistrationInput, RouteSpec, ServiceInstance } from '../registry/model.js';
import { Registry } from '../registry/registry.js';
import type { RegistryApi, RegistryEventMap } from '../registry/registry-api.js';
import { ROUTE_TABLE_DEFAULTS, RouteTable } from './route-table.js';

const get = (path: string): RouteSpec => ({ method: 'GET', path });
const any = (path: string): RouteSpec => ({ method: '*', path });

/** The real Registry over a MemoryBackend, both on one FakeClock. */
async function fakeRegistry(options: { ttlMs?: number } = {}) {
  const clock = new FakeClock();
  const backend = new MemoryBackend({ clock });
  const registry = new Registry({ backend, clock, ownsBackend: true, ...options });
  await registry.ready();
  return {
    clock,
    registry,
    async [Symbol.asyncDispose]() {
      await registry.close();
    },
  };
}

function instanceInput(service: string, instanceId: string, extra: Partial<RegistrationInput> = {}): RegistrationInput {
  return { service, instanceId, url: `http://127.0.0.1:${7000 + instanceId.length}`, ...extra };
}

/** Matches a raw URL the way the proxy does: normalise, then look up. */
function route(table: RouteTable, method: string, rawUrl: string) {
  const n = normalizePath(rawUrl);
  assert.ok(!isPathFailure(n));
  return table.match(method, n.path, n.query);
}

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

/** The registry seen through a proxy that counts reads of `instances()` (a walk over a service). */
function countingReads(target: Registry): { registry: RegistryApi; reads: { count: number } } {
  const reads = { count: 0 };
  const registry = new Proxy(target, {
    get(t, prop) {
      if (prop === 'instances') {
        return (service?: string) => {
          reads.count++;
          return t.instances(service);
        };
      }
      const value = Reflect.get(t, prop, t);
      return typeof value === 'function' ? value.bind(t) : value;
    },
  });
  return { registry, reads };
}

function table_ids(table: RouteTable, hit: NonNullable<ReturnType<RouteTable['match']>>): string[] {
  return table.instancesFor(hit).map((i) => i.instanceId);
}

/** A hand-driven registry: for states the real one refuses to create (colliding services). */
class StubRegistry extends EventEmitter<RegistryEventMap> implements RegistryApi {
  readonly ttlMs = 90_000;
  readonly list: ServiceInstance[];
  #resolve!: () => void;
  readonly #ready = new Promise<void>((r) => {
    this.#resolve = r;
  });

  constructor(list: ServiceInstance[]) {
    super();
    this.list = list;
  }
  resolveReady(): void {
    this.#resolve();
  }
  remove(service: string, instanceId: string): void {
    const i = this.list.findIndex((x) => x.service === service && x.instanceId === instanceId);
    const [previous] = this.list.splice(i, 1);
    this.emit('change', { type: 'deregister', service, instanceId, ...(previous ? { previous } : {}) });
  }
  ready(): Promise<void> {
    return this.#ready;
  }
  instances(service?: string): ServiceInstance[] {
    return this.list.filter((i) => service === undefined || i.service === service);
  }
  get(service: string, instanceId: string): ServiceInstance | undefined {
    return this.list.find((i) => i.service === service && i.instanceId === instanceId);
  }
  services(): string[] {
    return [...new Set(this.list.map((i) => i.service))];
  }
  register(): Promise<ServiceInstance> {
    throw new Error('not used');
  }
  heartbeat(): Promise<ServiceInstance> {
    throw new Error('not used');
  }
  deregister(): Promise<boolean> {
    throw new Error('not used');
  }
  setStatus(): Promise<ServiceInstance | undefined> {
    throw new Error('not used');
  }
  health(): ReturnType<RegistryApi['health']> {
    return { type: 'STUB', connected: true, selfPreservation: { active: false, preserved: 0 } };
  }
  async close(): Promise<void> {}
  async [Symbol.asyncDispose](): Promise<void> {}
}
