/**
 * The README's "Express in ten lines", run as written (port 0 instead of 8080): registration,
 * /health, the rate limit and the proxy all answer, so the first thing a user copies works.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import express from 'express';
import { createRegistry, discoveryProxy, healthAggregator, rateLimit, registry } from '../lib/index.js';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('README: Express in ten lines', () => {
  it('registers a service and proxies to it', async () => {
    const upstream = createServer((req, res) => res.end(JSON.stringify({ from: 'sagjan', path: req.url })));
    const upstreamUrl = await listen(upstream);

    const reg = await createRegistry({ env: {} });
    const app = express();
    app.use(registry({ registry: reg }));
    app.use(healthAggregator({ registry: reg }));
    app.use(rateLimit({ capacity: 100, refillPerSecond: 50 }));
    const proxy = discoveryProxy({ registry: reg });
    app.use(proxy);
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const registered = await fetch(`${base}/internal/register-service`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          service: 'sagjan',
          url: upstreamUrl,
          routes: [{ method: 'GET', path: '/api/comments/*' }],
        }),
      });
      assert.equal(registered.status, 200);
      const proxied = await fetch(`${base}/api/comments/42`);
      assert.equal(proxied.status, 200);
      assert.equal(proxied.headers.get('x-gateway'), 'fleetgate');
      assert.ok(proxied.headers.get('ratelimit-limit'));
      assert.deepEqual(await proxied.json(), { from: 'sagjan', path: '/api/comments/42' });
      const health = (await (await fetch(`${base}/health`)).json()) as { status: string; services: object };
      assert.equal(health.status, 'healthy');
      assert.deepEqual(Object.keys(health.services), ['sagjan']);
    } finally {
      await proxy.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await reg.close();
      upstream.closeAllConnections();
      await new Promise((resolve) => upstream.close(resolve));
    }
  });
});
