import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createGateway } from './gateway.js';
import { MemoryBackend } from './registry/backends/memory.js';
import { createRegistry } from './registry/create-registry.js';

describe('createGateway operator endpoints', () => {
  test('outside callers get 403 from operator endpoints and a redacted /health; the admin token opens them', async () => {
    await using registry = await createRegistry({ backend: new MemoryBackend(), ownsBackend: true });
    // 127.0.0.1 is outside ADMIN_ALLOW_FROM here, so this test's own requests come from an outsider.
    await using gateway = await createGateway({
      registry,
      env: { ADMIN_ALLOW_FROM: '10.0.0.0/8', ADMIN_TOKEN: 'ops-token' },
      healthChecks: false,
    });
    const { port } = await gateway.listen(0, '127.0.0.1');
    const base = `http://127.0.0.1:${port}`;
    const reg = await fetch(`${base}/internal/register-service`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        service: 'sagjan',
        url: 'http://127.0.0.1:7812',
        routes: [{ method: 'GET', path: '/api/comments/*' }],
        instance_id: 'sagjan-1',
      }),
    });
    assert.equal(reg.status, 200, 'registration stays governed by REGISTRY_ALLOW_FROM');

    for (const path of ['/metrics', '/_fleetgate/explain?path=/api/comments/1', '/internal/services', '//metrics']) {
      const res = await fetch(`${base}${path}`);
      assert.equal(res.status, 403, path);
      const body = (await res.json()) as { error: { code: string } };
      assert.equal(body.error.code, 'ERR_FG_FORBIDDEN', path);
    }

    const redacted = await fetch(`${base}/health`);
    assert.equal(redacted.status, 200);
    const text = await redacted.text();
    assert.deepEqual(JSON.parse(text), {
      status: 'healthy',
      service: 'fleetgate',
      services: { sagjan: { status: 'UP' } },
    });
    assert.ok(!text.includes('7812') && !text.includes('sagjan-1'));

    const auth = { authorization: 'Bearer ops-token' };
    assert.equal((await fetch(`${base}/metrics`, { headers: auth })).status, 200);
    const explained = await fetch(`${base}/_fleetgate/explain?path=/api/comments/1`, { headers: auth });
    assert.equal(explained.status, 200);
    assert.equal(((await explained.json()) as { chosen: { instanceId: string } }).chosen.instanceId, 'sagjan-1');
    assert.equal((await fetch(`${base}/internal/services`, { headers: auth })).status, 200);
    const full = (await (await fetch(`${base}/health`, { headers: auth })).json()) as {
      services: { sagjan: { url: string } };
    };
    assert.equal(full.services.sagjan.url, 'http://127.0.0.1:7812');
  });

  test('loopback callers are operators by default', async () => {
    await using registry = await createRegistry({ backend: new MemoryBackend(), ownsBackend: true });
    await using gateway = await createGateway({ registry, env: {}, healthChecks: false });
    const { port } = await gateway.listen(0, '127.0.0.1');
    assert.equal((await fetch(`http://127.0.0.1:${port}/metrics`)).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${port}/internal/services`)).status, 200);
  });
});
