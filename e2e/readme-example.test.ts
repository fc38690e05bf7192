/**
 * The README's "Express in ten lines", run as written (only the port and the import paths are
 * pointed at this checkout) under Express 5 and Express 4: the zero-argument registry(),
 * healthAggregator() and discoveryProxy() share one default registry, so a registration is
 * routable at once; /health lists it and the rate limit answers its headers.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { readmeBlock, runReadmeSnippet } from './support/readme-snippet.js';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const EXAMPLE = readmeBlock('Express in ten lines');

describe('README: Express in ten lines, verbatim', () => {
  let upstream: Server;
  let upstreamUrl: string;
  before(async () => {
    upstream = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ from: 'sagjan', path: req.url }));
    });
    upstreamUrl = await listen(upstream);
  });
  after(async () => {
    upstream.closeAllConnections();
    await new Promise((resolve) => upstream.close(resolve));
  });

  it('uses the zero-argument form', () => {
    for (const call of ['registry()', 'healthAggregator()', 'discoveryProxy()']) {
      assert.ok(EXAMPLE.includes(`app.use(${call})`), `README example mounts ${call}`);
    }
    assert.ok(!EXAMPLE.includes('createRegistry'), 'README example needs no registry of its own');
  });

  for (const express of ['express', 'express4']) {
    it(`registers a service and proxies to it (${express})`, async () => {
      await using app = await runReadmeSnippet(EXAMPLE, { express });
      const registered = await fetch(`${app.url}/internal/register-service`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          service: 'sagjan',
          url: upstreamUrl,
          routes: [{ method: 'GET', path: '/api/comments/*' }],
        }),
      });
      assert.equal(registered.status, 200, app.output());
      const proxied = await fetch(`${app.url}/api/comments/42`);
      assert.equal(proxied.status, 200, app.output());
      assert.equal(proxied.headers.get('x-gateway'), 'fleetgate');
      assert.ok(proxied.headers.get('ratelimit-limit'));
      assert.deepEqual(await proxied.json(), { from: 'sagjan', path: '/api/comments/42' });
      const byName = await fetch(`${app.url}/sagjan/api/comments/7`);
      assert.equal(byName.status, 200);
      const health = (await (await fetch(`${app.url}/health`)).json()) as { status: string; services: object };
      assert.equal(health.status, 'healthy');
      assert.deepEqual(Object.keys(health.services), ['sagjan']);
      const missing = await fetch(`${app.url}/nothing/here`);
      assert.equal(missing.status, 404);
    });
  }
});
