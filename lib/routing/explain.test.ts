import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../clock.js';
import { MemoryBackend } from '../registry/backends/memory.js';
import { Registry } from '../registry/registry.js';
import { createBalancer } from './balancers/index.js';
import { explain } from './explain.js';
import { RouteTable } from './route-table.js';

async function setup() {
  const clock = new FakeClock();
  const registry = new Registry({ backend: new MemoryBackend({ clock }), clock, ownsBackend: true });
  await registry.ready();
  const reg = (instanceId: string, extra: object) =>
    registry.register({ service: 'api', instanceId, url: `http://127.0.0.1:${7100 + instanceId.length}`, ...extra });
  await reg('a', { routes: [{ method: 'GET', path: '/items/:id' }] });
  await reg('bb', { routes: [{ method: 'GET', path: '/items/:id' }], status: 'DOWN' });
  await reg('ccc', { routes: [{ method: 'GET', path: '/items/:id' }], status: 'DRAINING' });
  await reg('dddd', { routes: [] });
  const table = new RouteTable({ registry, staticRoutes: [{ path: '/docs/**', target: 'http://127.0.0.1:9000' }] });
  return {
    clock,
    registry,
    table,
    async [Symbol.asyncDispose]() {
      await table.close();
      await registry.close();
    },
  };
}

describe('explain', () => {
  it('shows the match, candidates, exclusions with reasons, the choice and panic (when opted in)', async () => {
    await using fx = await setup();
    const out = explain(fx.table, fx.registry, 'get', '/items/../items/7?x=1', {
      now: fx.clock.now(),
      panicThreshold: 0.5,
    });
    assert.deepEqual(JSON.parse(JSON.stringify(out)), out, 'JSON-able');
    assert.equal(out.method, 'GET');
    assert.equal(out.normalizedPath, '/items/7');
    assert.deepEqual(out.match, {
      pattern: '/items/:id',
      service: 'api',
      viaNameFallback: false,
      isStatic: false,
      params: { id: '7' },
      upstreamPath: '/items/7?x=1',
    });
    assert.deepEqual(
      out.candidates.map((c) => [c.instanceId, c.status]),
      [
        ['a', 'UP'],
        ['bb', 'DOWN'],
        ['ccc', 'DRAINING'],
      ],
    );
    assert.deepEqual(
      out.withoutRoute.map((c) => c.instanceId),
      ['dddd'],
    );
    // 1 healthy of 3 live: panic, so the DOWN one is usable and only the draining one is excluded.
    assert.equal(out.panic, true);
    assert.equal(out.panicThreshold, 0.5);
    assert.deepEqual(out.excluded, [{ instanceId: 'ccc', reason: 'draining' }]);
    assert.ok(out.chosen !== undefined && ['a', 'bb'].includes(out.chosen.instanceId));
  });

  it('by default (panic off) excludes the DOWN instance and does not report a threshold', async () => {
    await using fx = await setup();
    const out = explain(fx.table, fx.registry, 'GET', '/items/1', {
      now: fx.clock.now(),
      balancer: createBalancer('least-connections'),
    });
    assert.equal(out.panic, false);
    assert.equal('panicThreshold' in out, false);
    assert.deepEqual(out.excluded, [
      { instanceId: 'bb', reason: 'down' },
      { instanceId: 'ccc', reason: 'draining' },
    ]);
    assert.deepEqual(out.chosen, { instanceId: 'a', url: 'http://127.0.0.1:7101' });
  });

  it('explains name fallback, static targets, misses and refused paths', async () => {
    await using fx = await setup();
    const byName = explain(fx.table, fx.registry, 'POST', '/api/anything', { now: fx.clock.now() });
    assert.equal(byName.match?.viaNameFallback, true);
    assert.equal(byName.match?.upstreamPath, '/anything');
    assert.equal(byName.candidates.length, 4);

    const docs = explain(fx.table, fx.registry, 'GET', '/docs/x');
    assert.equal(docs.match?.isStatic, true);
    assert.equal(docs.match?.target, 'http://127.0.0.1:9000');
    assert.equal(docs.match?.service, null);
    assert.deepEqual(docs.candidates, []);

    const miss = explain(fx.table, fx.registry, 'GET', '/nothing/here');
    assert.equal(miss.match, null);
    assert.equal(miss.normalizedPath, '/nothing/here');

    const bad = explain(fx.table, fx.registry, 'GET', '/a%2F..%2Fb');
    assert.equal(bad.normalizedPath, null);
    assert.match(bad.error!, /slash/);
  });

  it('says when a path is a reserved gateway path, and when a name fallback is shadowed', async () => {
    await using fx = await setup();
    for (const raw of ['//internal/services', '/%69nternal/services', '/./health', '/health/']) {
      const out = explain(fx.table, fx.registry, 'GET', raw);
      assert.equal(out.match, null, raw);
      assert.ok(out.reserved, raw);
    }
    await fx.registry.register({ service: 'items', instanceId: 'i1', url: 'http://127.0.0.1:7200' });
    const shadowed = explain(fx.table, fx.registry, 'GET', '/items/7');
    assert.equal(shadowed.match?.service, 'api');
    assert.deepEqual(shadowed.nameFallbackShadowed, { service: 'items', by: 'api', pattern: '/items/:id' });
  });
});
