import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { describe, it } from 'node:test';
import request from 'supertest';
import { fakeRegistry, instanceInput } from '../../fixtures/registry-doubles.js';
import { isFleetgateError } from '../errors.js';
import { compose } from '../http/compose.js';
import { MemoryBackend } from './backends/memory.js';
import { createRegistry } from './create-registry.js';
import { registry as registryRouter } from './http/registry-router.js';
import { closeServer, listen } from './http/registry-router.test-kit.js';
import type { RouteSpec } from './model.js';
import { REGISTRY_DEFAULTS } from './registry-options.js';

const get = (path: string): RouteSpec => ({ method: 'GET', path });

/** Asserts `p` rejects with `code`, naming `limit`, and returns the error's details. */
async function refused(p: Promise<unknown>, code: string, limit: string): Promise<Record<string, unknown>> {
  let details: Record<string, unknown> = {};
  await assert.rejects(p, (err) => {
    assert.ok(isFleetgateError(err), String(err));
    assert.equal(err.code, code);
    assert.match(err.message, new RegExp(limit));
    details = err.details as Record<string, unknown>;
    assert.equal(details.limit, limit);
    return true;
  });
  return details;
}

describe('registry limits', () => {
  it('has sane defaults and refuses a limit below 1', async () => {
    assert.equal(REGISTRY_DEFAULTS.maxInstances, 20_000);
    assert.equal(REGISTRY_DEFAULTS.maxInstancesPerService, 5_000);
    assert.equal(REGISTRY_DEFAULTS.maxRoutesPerService, 500);
    await assert.rejects(fakeRegistry({ maxInstances: 0 }), (e) => isFleetgateError(e, 'ERR_FG_INVALID_CONFIG'));
  });

  it('refuses a new instance beyond maxInstances (429 ERR_FG_MAX_INSTANCES) and changes nothing', async () => {
    await using fx = await fakeRegistry({ maxInstances: 3 });
    for (const [s, i] of [
      ['a', '1'],
      ['a', '2'],
      ['b', '1'],
    ]) {
      await fx.registry.register(instanceInput(s!, i!));
    }
    const before = fx.registry.instances();
    const d = await refused(
      fx.registry.register(instanceInput('c', '1')),
      'ERR_FG_MAX_INSTANCES',
      'REGISTRY_MAX_INSTANCES',
    );
    assert.deepEqual([d.max, d.count], [3, 3]);
    assert.deepEqual(fx.registry.instances(), before);
    assert.deepEqual(await fx.backend.list(), before);
    // Re-registering a held instance adds none; once one leaves, a new one fits.
    await fx.registry.register(instanceInput('a', '1'));
    await fx.registry.deregister('b', '1');
    await fx.registry.register(instanceInput('c', '1'));
  });

  it('refuses a new instance beyond maxInstancesPerService (429), counting registrations in flight', async () => {
    await using fx = await fakeRegistry({ maxInstancesPerService: 2 });
    const results = await Promise.allSettled(['1', '2', '3'].map((i) => fx.registry.register(instanceInput('a', i))));
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'fulfilled', 'rejected'],
    );
    const err = (results[2] as PromiseRejectedResult).reason;
    assert.ok(isFleetgateError(err, 'ERR_FG_MAX_SERVICE_INSTANCES'));
    assert.equal(err.status, 429);
    assert.equal(fx.registry.instances('a').length, 2);
    await fx.registry.register(instanceInput('other', '1')); // other services are not affected
  });

  it('counts a registration once while the store has already reported it but not yet answered', async () => {
    // A store whose watch event reaches the cache before its register call returns: the instance
    // is both cached and in flight for a while, and must not count twice against the limit.
    class ReportsFirst extends MemoryBackend {
      gate: Promise<void> | undefined;
      override async register(...args: Parameters<MemoryBackend['register']>) {
        const instance = await super.register(...args);
        await this.gate;
        return instance;
      }
    }
    const backend = new ReportsFirst();
    let open!: () => void;
    backend.gate = new Promise((resolve) => {
      open = resolve;
    });
    await using registry = await createRegistry({ backend, ownsBackend: true, maxInstancesPerService: 2 });
    const first = registry.register(instanceInput('a', '1'));
    const again = registry.register(instanceInput('a', '1')); // the same id twice at once is one instance
    while (registry.get('a', '1') === undefined) await new Promise((resolve) => setImmediate(resolve));
    const second = registry.register(instanceInput('a', '2'));
    const third = registry.register(instanceInput('a', '3'));
    open();
    const results = await Promise.allSettled([first, again, second, third]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'fulfilled', 'fulfilled', 'rejected'],
      results.map((r) => (r.status === 'rejected' ? String(r.reason) : r.status)).join('; '),
    );
    assert.ok(isFleetgateError((results[3] as PromiseRejectedResult).reason, 'ERR_FG_MAX_SERVICE_INSTANCES'));
    assert.deepEqual(
      registry
        .instances('a')
        .map((i) => i.instanceId)
        .sort(),
      ['1', '2'],
    );
  });

  it('refuses routes beyond maxRoutesPerService (409), counting each distinct route once', async () => {
    await using fx = await fakeRegistry({ maxRoutesPerService: 3 });
    await fx.registry.register(instanceInput('a', '1', { routes: [get('/a/1'), get('/a/2')] }));
    // The same routes again from another instance add nothing; a different spelling of one shape neither.
    await fx.registry.register(instanceInput('a', '2', { routes: [get('/a/1'), get('/a/2'), get('/a/3')] }));
    const d = await refused(
      fx.registry.register(instanceInput('a', '3', { routes: [get('/a/4')] })),
      'ERR_FG_MAX_SERVICE_ROUTES',
      'REGISTRY_MAX_ROUTES_PER_SERVICE',
    );
    assert.deepEqual([d.max, d.count, d.service], [3, 4, 'a']);
    assert.equal(fx.registry.get('a', '3'), undefined);
    // A re-registration that swaps a route only it held stays within the limit.
    await fx.registry.register(instanceInput('a', '2', { routes: [get('/a/1'), get('/a/4')] }));
    assert.equal(fx.registry.get('a', '2')?.routes.at(-1)?.path, '/a/4');
  });

  it('answers the coded status through the HTTP API', async () => {
    const reg = await createRegistry({ backend: new MemoryBackend(), ownsBackend: true, maxInstancesPerService: 1 });
    const mw = registryRouter({ registry: reg });
    const server = createServer(compose([mw]));
    const base = await listen(server);
    try {
      const body = { service: 'svc', url: 'http://127.0.0.1:7001', instance_id: 'one' };
      await request(base).post('/internal/register-service').send(body).expect(200);
      const res = await request(base)
        .post('/internal/register-service')
        .send({ ...body, instance_id: 'two' })
        .expect(429);
      assert.equal(res.body.error.code, 'ERR_FG_MAX_SERVICE_INSTANCES');
      assert.equal(res.body.error.details.limit, 'REGISTRY_MAX_INSTANCES_PER_SERVICE');
    } finally {
      await closeServer(server);
      await mw.close();
      await reg.close();
    }
  });
});
