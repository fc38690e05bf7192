import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createGateway, GATEWAY_DEFAULTS } from './gateway.js';
import type { Middleware } from './http/compose.js';
import { MemoryBackend } from './registry/backends/memory.js';
import { createRegistry } from './registry/create-registry.js';

const FURT_BODY = {
  service: 'sagjan',
  url: 'http://127.0.0.1:7812',
  health_endpoint: '/health',
  routes: [{ method: 'GET', path: '/api/comments/*' }],
  instance_id: 'sagjan-1',
};

describe('createGateway', () => {
  test('refuses an instance at its own listen address, on every registration (the address is remembered)', async () => {
    await using registry = await createRegistry({ backend: new MemoryBackend(), ownsBackend: true });
    await using gateway = await createGateway({ registry, env: {} });
    const { port } = await gateway.listen(0, '127.0.0.1');
    for (let i = 0; i < 2; i++) {
      const reg = await fetch(`http://127.0.0.1:${port}/internal/register-service`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...FURT_BODY, instance_id: `self-${i}`, url: `http://localhost:${port}` }),
      });
      assert.equal(reg.status, 400);
      assert.equal(((await reg.json()) as { error: { code: string } }).error.code, 'ERR_FG_SELF_TARGET');
    }
    assert.deepEqual(registry.instances(), [], 'a refusal registers nothing');
  });

  test('serves the registration API, a basic /health, and JSON 404 ERR_FG_NO_ROUTE', async () => {
    assert.ok(Object.isFrozen(GATEWAY_DEFAULTS));
    await using registry = await createRegistry({ backend: new MemoryBackend(), ownsBackend: true });
    await using gateway = await createGateway({ registry, env: {} });
    const { port } = await gateway.listen(0, '127.0.0.1');
    const base = `http://127.0.0.1:${port}`;

    const empty = (await (await fetch(`${base}/health`)).json()) as Record<string, unknown>;
    assert.equal(empty.status, 'healthy');
    assert.equal(empty.service, 'fleetgate');
    assert.match(String(empty.version), /^\d+\.\d+\.\d+/);
    assert.deepEqual(empty.registry, { type: 'INMEMORY', connected: true, self_preservation: false });
    assert.deepEqual(empty.services, {});

    const reg = await fetch(`${base}/internal/register-service`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(FURT_BODY),
    });
    assert.equal(reg.status, 200);
    const health = (await (await fetch(`${base}/health`)).json()) as {
      services: Record<string, { status: string; url: string; instances: { instance_id: string }[] }>;
    };
    assert.equal(health.services.sagjan?.status, 'UP');
    assert.equal(health.services.sagjan?.url, 'http://127.0.0.1:7812');
    assert.deepEqual(
      health.services.sagjan?.instances.map((i) => i.instance_id),
      ['sagjan-1'],
    );
    await registry.setStatus('sagjan', 'sagjan-1', 'DOWN');
    const down = (await (await fetch(`${base}/health`)).json()) as typeof health;
    assert.equal(down.services.sagjan?.status, 'DOWN');

    const missing = await fetch(`${base}/api/nothing`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'ERR_FG_NO_ROUTE');
  });

  test('close() stops accepting, lets an in-flight request finish, then closes', async () => {
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow: Middleware = async (req, res, next) => {
      if (req.url !== '/slow') return next();
      entered();
      await released;
      res.end('done');
    };
    await using registry = await createRegistry({ backend: new MemoryBackend(), ownsBackend: true });
    const gateway = await createGateway({ registry, env: {}, middlewares: [slow] });
    const { port } = await gateway.listen(0, '127.0.0.1');
    const base = `http://127.0.0.1:${port}`;
    const pending = fetch(`${base}/slow`);
    await inside;
    let closed = false;
    const closing = gateway.close({ graceMs: 10_000 }).then(() => {
      closed = true;
    });
    await assert.rejects(fetch(`${base}/health`), 'no new connections once closing');
    assert.equal(closed, false, 'waits for the in-flight request');
    release();
    const res = await pending;
    assert.equal(await res.text(), 'done');
    await closing;
    assert.equal(closed, true);
  });

  test('without a registry it creates one from env and closes it; invalid env is ERR_FG_INVALID_CONFIG', async () => {
    const gateway = await createGateway({ env: { REGISTRY_TTL: '5s' } });
    assert.equal(gateway.registry.ttlMs, 5000);
    await gateway.close();
    await assert.rejects(gateway.registry.register({ service: 'a', url: 'http://127.0.0.1:1' }), {
      code: 'ERR_FG_CLOSED',
    });
    await assert.rejects(createGateway({ env: { REGISTRY_TTL: 'banana' } }), (err: Error & { code?: string }) => {
      return err.code === 'ERR_FG_INVALID_CONFIG' && err.message.includes('REGISTRY_TTL');
    });
  });
});
