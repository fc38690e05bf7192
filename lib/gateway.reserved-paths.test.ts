/**
 * The gateway's own endpoints are matched after the same normalisation as the proxy: every
 * spelling of them is answered by the gateway, and none reaches a service.
 */
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { createGateway } from './gateway.js';
import { MemoryBackend } from './registry/backends/memory.js';
import { createRegistry } from './registry/create-registry.js';

/** GET with the raw target as given (fetch would clean `./` and more up before sending). */
function get(base: string, target: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}/`, { path: target }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('gateway endpoints after normalisation', () => {
  test('no spelling of /health, /internal/** or /_fleetgate/** reaches a service', async () => {
    let upstreamHits = 0;
    const upstream = createServer((_req, res) => {
      upstreamHits++;
      res.end('upstream');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    await using registry = await createRegistry({ backend: new MemoryBackend(), ownsBackend: true });
    await using gateway = await createGateway({ registry, env: {}, healthChecks: false });
    const { port } = await gateway.listen(0, '127.0.0.1');
    const base = `http://127.0.0.1:${port}`;
    // Services named like the gateway's path prefixes would otherwise get them by name fallback.
    for (const service of ['health', 'internal', '_fleetgate', 'metrics']) {
      await registry.register({ service, instanceId: `${service}-1`, url: upstreamUrl });
    }
    try {
      for (const target of ['/health/', '//health', '/./health', '/x/../health']) {
        const res = await get(base, target);
        assert.equal(res.status, 200, target);
        assert.equal(JSON.parse(res.body).service, 'fleetgate', target);
      }
      for (const target of ['//internal/services', '/%69nternal/services', '/internal/./services']) {
        const res = await get(base, target);
        assert.equal(res.status, 200, target);
        assert.ok(JSON.parse(res.body).services.health, target);
      }
      for (const target of ['//_fleetgate/explain?method=GET&path=/x', '/%5Ffleetgate/explain?path=/x']) {
        const res = await get(base, target);
        assert.notEqual(res.body, 'upstream', target);
      }
      for (const target of ['//metrics', '/internal/nothing', '/_fleetgate/nothing']) {
        assert.notEqual((await get(base, target)).body, 'upstream', target);
      }
      assert.equal(upstreamHits, 0);
      // The name fallback still works below non-reserved paths.
      assert.equal((await get(base, '/health/deep')).body, 'upstream');
    } finally {
      upstream.closeAllConnections();
      await new Promise((resolve) => upstream.close(resolve));
    }
  });
});
