import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, test } from 'node:test';
import { FlakyBackend, fakeRegistry, instanceInput } from '../../fixtures/registry-doubles.js';
import { FakeClock } from '../clock.js';
import { isFleetgateError, isRouteConflictError, isStoreUnavailableError } from '../errors.js';
import { MemoryBackend } from './backends/memory.js';
import { createRegistry } from './create-registry.js';
import { REGISTRY_DEFAULTS, Registry } from './registry.js';
import type { RegistryChange } from './registry-api.js';

describe('Registry', () => {
  test('FlakyBackend fails like a dead store (plain errors) and mutes its watch on demand', async () => {
    const clock = new FakeClock();
    await using flaky = new FlakyBackend(new MemoryBackend({ clock }));
    const events: string[] = [];
    flaky.watch((e) => events.push(e.type));
    await flaky.register(instanceInput('a', 'a1'), { ttlMs: 1000 });
    flaky.muted = true;
    await flaky.register(instanceInput('a', 'a2'), { ttlMs: 1000 });
    flaky.failing = true;
    await assert.rejects(flaky.list(), (err) => !isFleetgateError(err) && /ECONNREFUSED/.test(String(err)));
    assert.deepEqual(events, ['register']);
  });

  test('a 90 s lease: present at 89 s, gone at 91 s, one expired event', async () => {
    await using fx = await fakeRegistry({ ttlMs: 90_000 });
    const expired: string[] = [];
    fx.registry.on('expired', (inst) => expired.push(inst.instanceId));
    await fx.registry.register(instanceInput('sagjan', 's1'));
    await fx.clock.advance(89_000);
    assert.equal(fx.registry.instances('sagjan').length, 1);
    assert.equal(fx.registry.get('sagjan', 's1')?.instanceId, 's1');
    await fx.clock.advance(2_000);
    assert.deepEqual(fx.registry.instances('sagjan'), []);
    assert.equal(fx.registry.get('sagjan', 's1'), undefined);
    assert.deepEqual(fx.registry.services(), []);
    assert.deepEqual(expired, ['s1']);
  });

  test('readers drop an expired lease before any sweep runs', async () => {
    const clock = new FakeClock();
    // Sweeps far apart: only the read-time filter can hide the instance.
    await using registry = new Registry({
      backend: new MemoryBackend({ clock, sweepIntervalMs: 3_600_000 }),
      clock,
      ttlMs: 1000,
      sweepIntervalMs: 3_600_000,
      ownsBackend: true,
    });
    await registry.ready();
    await registry.register(instanceInput('a', 'a1'));
    await clock.advance(1000);
    assert.deepEqual(registry.instances(), []);
  });

  test("an instance's own lease: shorter honoured and kept by heartbeats, longer capped at the TTL", async () => {
    const clock = new FakeClock();
    await using registry = new Registry({
      backend: new MemoryBackend({ clock, sweepIntervalMs: 3_600_000 }),
      clock,
      ttlMs: 90_000,
      sweepIntervalMs: 3_600_000,
      ownsBackend: true,
    });
    await registry.ready();
    const short = await registry.register({ ...instanceInput('a', 'a1'), leaseMs: 30_000 });
    assert.equal(short.expiresAt - short.lastHeartbeat, 30_000);
    const long = await registry.register({ ...instanceInput('b', 'b1'), leaseMs: 3_600_000 });
    assert.equal(long.expiresAt - long.lastHeartbeat, 90_000, 'capped at the registry TTL');
    const tiny = await registry.register({ ...instanceInput('c', 'c1'), leaseMs: 5 });
    assert.equal(tiny.expiresAt - tiny.lastHeartbeat, 1000, 'at least MIN_LEASE_MS');
    await clock.advance(20_000);
    const renewed = await registry.heartbeat('a', 'a1');
    assert.equal(renewed.expiresAt - renewed.lastHeartbeat, 30_000, 'a heartbeat renews the same lease');
    await clock.advance(29_000);
    assert.deepEqual(
      registry.instances().map((i) => i.instanceId),
      ['a1', 'b1'],
    );
    await clock.advance(2_000);
    assert.deepEqual(
      registry.instances().map((i) => i.instanceId),
      ['b1'],
    );
  });

  test('the cache is fed by the backend watch, without re-listing', async () => {
    await using fx = await fakeRegistry();
    const changes: string[] = [];
    fx.registry.on('change', (c) => changes.push(`${c.type}:${c.instanceId}`));
    fx.registry.on('renew', (c) => changes.push(`renew ${c.type}:${c.instanceId}`));
    let lists = 0;
    const list = fx.backend.list.bind(fx.backend);
    fx.backend.list = (s?: string) => {
      lists++;
      return list(s);
    };
    await fx.backend.register(instanceInput('obr', 'o1'), { ttlMs: 90_000 });
    assert.equal(fx.registry.get('obr', 'o1')?.url, 'http://127.0.0.1:7002');
    await fx.clock.advance(10_000);
    await fx.backend.heartbeat('obr', 'o1', { ttlMs: 90_000 });
    assert.equal(fx.registry.get('obr', 'o1')?.lastHeartbeat, fx.clock.now());
    await fx.backend.setStatus('obr', 'o1', 'DOWN');
    assert.equal(fx.registry.get('obr', 'o1')?.status, 'DOWN');
    await fx.backend.deregister('obr', 'o1');
    assert.equal(fx.registry.get('obr', 'o1'), undefined);
    assert.deepEqual(changes, ['register:o1', 'renew heartbeat:o1', 'status:o1', 'deregister:o1']);
    assert.equal(lists, 0);
  });

  test('a registration through the registry is announced once (direct update and watch echo merge)', async () => {
    await using fx = await fakeRegistry();
    const changes: RegistryChange[] = [];
    const registered: string[] = [];
    fx.registry.on('change', (c) => changes.push(c));
    fx.registry.on('registered', (i) => registered.push(i.instanceId));
    const inst = await fx.registry.register(instanceInput('a', 'a1'));
    assert.equal(inst.epoch, 1);
    await fx.clock.advance(1000);
    await fx.registry.heartbeat('a', 'a1');
    const again = await fx.registry.register(instanceInput('a', 'a1'));
    assert.equal(again.epoch, 2);
    assert.deepEqual(
      changes.map((c) => c.type),
      ['register', 'register'],
      'a routine heartbeat is a renewal, not a change',
    );
    assert.deepEqual(registered, ['a1', 'a1']);
    assert.equal(changes[1]?.previous?.epoch, 1);
    assert.equal(await fx.registry.deregister('a', 'a1'), true);
    assert.equal(await fx.registry.deregister('a', 'a1'), false);
  });

  test('a routine heartbeat is a renew event only: change listeners are not woken', async () => {
    await using fx = await fakeRegistry();
    const { clock, registry } = fx;
    const seen: string[] = [];
    registry.on('change', (c) => seen.push(`change ${c.type}`));
    registry.on('renew', (c) => seen.push(`renew ${c.type} ${c.instance!.lastHeartbeat - c.previous!.lastHeartbeat}`));
    await registry.register(instanceInput('a', 'a1'));
    await clock.advance(400);
    await registry.heartbeat('a', 'a1');
    assert.deepEqual(seen, ['change register', 'renew heartbeat 400']);
  });

  test('a heartbeat that revives a lease the cache saw expire is a change, not a renewal', async () => {
    // The store's clock runs behind the gateway's (skew, or a renewal computed elsewhere): the store
    // still holds the lease when the gateway's cache already counts it expired (no sweep yet). The heartbeat brings it back, and
    // every change listener (route table, dashboard…) must hear of it.
    const clock = new FakeClock();
    const storeClock = new FakeClock();
    const backend = new MemoryBackend({ clock: storeClock });
    const registry = new Registry({ backend, clock, ownsBackend: true, ttlMs: 1000, sweepIntervalMs: 3_600_000 });
    try {
      await registry.ready();
      const seen: string[] = [];
      registry.on('change', (c) => seen.push(`change ${c.type}`));
      registry.on('renew', (c) => seen.push(`renew ${c.type}`));
      await registry.register(instanceInput('a', 'a1'));
      await clock.advance(1500);
      await storeClock.advance(900); // the store renews at its 900 ms: until 1900, live at the gateway's 1500
      assert.equal(registry.get('a', 'a1'), undefined, 'the cache counts the lease expired');
      await registry.heartbeat('a', 'a1');
      assert.deepEqual(seen, ['change register', 'change heartbeat']);
      assert.equal(registry.get('a', 'a1')?.instanceId, 'a1', 'live again');
      await clock.advance(200);
      await storeClock.advance(200);
      await registry.heartbeat('a', 'a1');
      assert.deepEqual(seen.at(-1), 'renew heartbeat', 'the next one, on a live lease, is routine again');
    } finally {
      await registry.close();
    }
  });

  test('instances from the cache are frozen: callers cannot corrupt it', async () => {
    await using fx = await fakeRegistry();
    await fx.registry.register(instanceInput('a', 'a1', { metadata: { nested: { v: 1 } } }));
    const inst = fx.registry.get('a', 'a1')!;
    assert.throws(() => {
      inst.url = 'http://evil';
    }, TypeError);
    assert.throws(() => {
      (inst.metadata['nested'] as { v: number }).v = 2;
    }, TypeError);
  });

  test('a route conflict with another service is refused and changes nothing', async () => {
    await using fx = await fakeRegistry();
    await fx.registry.register(instanceInput('sagjan', 's1', { routes: [{ method: 'GET', path: '/api/:id' }] }));
    const before = fx.registry.instances();
    await assert.rejects(
      fx.registry.register(instanceInput('obr', 'o1', { routes: [{ method: 'get', path: '/api/:x' }] })),
      (err) => {
        assert.ok(isRouteConflictError(err));
        assert.equal(err.status, 409);
        const details = err.details as { route: { path: string }; conflictsWith: { service: string; path: string } };
        assert.equal(details.route.path, '/api/:x');
        assert.deepEqual([details.conflictsWith.service, details.conflictsWith.path], ['sagjan', '/api/:id']);
        return true;
      },
    );
    assert.deepEqual(fx.registry.instances(), before);
    assert.equal((await fx.backend.list()).length, 1);
    // Same service shares routes; another method or a ws route does not collide.
    await fx.registry.register(instanceInput('sagjan', 's2', { routes: [{ method: 'GET', path: '/api/:id' }] }));
    await fx.registry.register(instanceInput('obr', 'o1', { routes: [{ method: 'POST', path: '/api/:x' }] }));
    await fx.registry.register(
      instanceInput('chat', 'c1', { routes: [{ method: 'GET', path: '/api/:x', protocol: 'ws' }] }),
    );
    assert.equal(fx.registry.instances().length, 4);
    // Once every instance holding the route has left, another service may take it.
    await fx.registry.deregister('sagjan', 's1');
    await assert.rejects(
      fx.registry.register(instanceInput('x', 'x1', { routes: [{ method: 'GET', path: '/api/:v' }] })),
    );
    await fx.registry.deregister('sagjan', 's2');
    await fx.registry.register(instanceInput('x', 'x1', { routes: [{ method: 'GET', path: '/api/:v' }] }));
  });

  test('a registration may not override a static gateway route (method * collides with every method)', async () => {
    await using fx = await fakeRegistry({ staticRoutes: [{ method: '*', path: '/admin/**' }] });
    await assert.rejects(
      fx.registry.register(instanceInput('a', 'a1', { routes: [{ method: 'DELETE', path: '/admin/**' }] })),
      (err) => isRouteConflictError(err) && (err.details as { conflictsWith: { static?: true } }).conflictsWith.static,
    );
    assert.deepEqual(fx.registry.instances(), []);
  });

  test('a dead store: calls reject with ERR_FG_STORE_UNAVAILABLE, the cache keeps the last-known state', async () => {
    const clock = new FakeClock();
    const flaky = new FlakyBackend(new MemoryBackend({ clock }));
    await using registry = new Registry({ backend: flaky, clock, ownsBackend: true });
    await registry.ready();
    await registry.register(instanceInput('a', 'a1'));
    const before = registry.instances();
    flaky.failing = true;
    await assert.rejects(registry.register(instanceInput('a', 'a2')), (err) => {
      assert.ok(isStoreUnavailableError(err));
      assert.match(String((err as Error).cause), /ECONNREFUSED/);
      return true;
    });
    await assert.rejects(registry.heartbeat('a', 'a1'), isStoreUnavailableError);
    assert.deepEqual(registry.instances(), before);
    assert.equal(registry.health().connected, false);
    assert.match(registry.health().degradedReason ?? '', /FLAKY store failed/);
    flaky.failing = false;
    await registry.heartbeat('a', 'a1');
    assert.equal(registry.health().degradedReason, undefined);
    assert.equal(registry.health().connected, true);
  });

  test('resync re-lists and announces what differs; instances the store lost go through expiry', async () => {
    const clock = new FakeClock();
    const flaky = new FlakyBackend(new MemoryBackend({ clock }));
    await using registry = new Registry({ backend: flaky, clock, ownsBackend: true });
    await registry.ready();
    await registry.register(instanceInput('a', 'a1'));
    await registry.register(instanceInput('b', 'b1'));
    flaky.muted = true; // the gateway misses these changes
    await flaky.register(instanceInput('c', 'c1'), { ttlMs: 90_000 });
    await flaky.setStatus('b', 'b1', 'DRAINING');
    await flaky.deregister('a', 'a1');
    flaky.muted = false;
    const changes: string[] = [];
    registry.on('change', (c) => changes.push(`${c.type}:${c.instanceId ?? ''}`));
    const expired: string[] = [];
    registry.on('expired', (i) => expired.push(i.instanceId));
    flaky.resync();
    await clock.advance(0);
    assert.deepEqual(changes.sort(), ['register:c1', 'resync:', 'status:b1']);
    assert.equal(registry.get('b', 'b1')?.status, 'DRAINING');
    assert.equal(registry.get('a', 'a1'), undefined, 'a lost lease is out of routing at once');
    await clock.advance(1000);
    assert.deepEqual(expired, ['a1']);
  });

  test('ready() rejects while the store is down at start, and resolves after a sweep re-lists', async () => {
    const clock = new FakeClock();
    const flaky = new FlakyBackend(new MemoryBackend({ clock }));
    flaky.failing = true;
    await using registry = new Registry({ backend: flaky, clock, ownsBackend: true });
    await assert.rejects(registry.ready(), isStoreUnavailableError);
    assert.match(registry.health().degradedReason ?? '', /cannot list/);
    flaky.failing = false;
    await clock.advance(1000);
    await registry.ready();
    assert.equal(registry.health().degradedReason, undefined);
  });

  test('setStatus goes through the backend; without the capability it stays local and survives heartbeats', async () => {
    await using fx = await fakeRegistry();
    await fx.registry.register(instanceInput('a', 'a1'));
    assert.equal((await fx.registry.setStatus('a', 'a1', 'DOWN'))?.status, 'DOWN');
    assert.equal((await fx.backend.get('a', 'a1'))?.status, 'DOWN');
    assert.equal(await fx.registry.setStatus('a', 'nope', 'DOWN'), undefined);

    const clock = new FakeClock();
    const bare = new FlakyBackend(new MemoryBackend({ clock }));
    Object.defineProperty(bare, 'setStatus', { value: undefined });
    await using registry = new Registry({ backend: bare, clock, ownsBackend: true });
    await registry.ready();
    await registry.register(instanceInput('a', 'a1'));
    assert.equal((await registry.setStatus('a', 'a1', 'DRAINING'))?.status, 'DRAINING');
    await registry.heartbeat('a', 'a1');
    assert.equal(registry.get('a', 'a1')?.status, 'DRAINING');
  });

  test('publishes registrations on the fleetgate:registry diagnostics channel', async () => {
    await using fx = await fakeRegistry();
    const seen: string[] = [];
    const onMessage = (msg: unknown) => seen.push((msg as RegistryChange).type);
    subscribe('fleetgate:registry', onMessage);
    try {
      await fx.registry.register(instanceInput('a', 'a1'));
      await fx.registry.heartbeat('a', 'a1'); // routine: not published
      await fx.registry.deregister('a', 'a1');
    } finally {
      unsubscribe('fleetgate:registry', onMessage);
    }
    assert.deepEqual(seen, ['register', 'deregister']);
  });

  test('close() is idempotent, closes an owned backend, and later calls reject with ERR_FG_CLOSED', async () => {
    const { registry, backend } = await fakeRegistry();
    await Promise.all([registry.close(), registry.close()]);
    await registry.close();
    await assert.rejects(registry.register(instanceInput('a', 'a1')), (err) => isFleetgateError(err, 'ERR_FG_CLOSED'));
    await assert.rejects(backend.list(), (err) => isFleetgateError(err, 'ERR_FG_CLOSED'));
  });

  test('options: DEFAULTS are frozen and invalid values are refused up front', () => {
    assert.ok(Object.isFrozen(REGISTRY_DEFAULTS));
    assert.equal(REGISTRY_DEFAULTS.ttlMs, 90_000);
    const backend = new MemoryBackend({ clock: new FakeClock() });
    for (const bad of [{ ttlMs: 0 }, { preserveThreshold: 1.5 }, { sweepIntervalMs: -1 }, { preserveMinExpired: 0 }]) {
      assert.throws(
        () => new Registry({ backend, ...bad }),
        (err) => isFleetgateError(err, 'ERR_FG_INVALID_CONFIG'),
      );
    }
    return backend.close();
  });

  test('createRegistry() builds the backend from the environment and owns it', async () => {
    const registry = await createRegistry({ env: { REGISTRY_TYPE: 'INMEMORY', REGISTRY_TTL: '5s' } });
    assert.equal(registry.ttlMs, 5000);
    assert.equal(registry.health().type, 'INMEMORY');
    await registry.register(instanceInput('a', 'a1'));
    assert.equal(registry.instances('a').length, 1);
    await registry.close();
    await assert.rejects(registry.backend.list(), (err) => isFleetgateError(err, 'ERR_FG_CLOSED'));
    await assert.rejects(createRegistry({ env: { REGISTRY_TTL: 'soon' } }), (err) =>
      isFleetgateError(err, 'ERR_FG_INVALID_CONFIG'),
    );
  });
});
