/**
 * fleetgateTarget() as http-proxy-middleware's `router`: the same route table and balancer,
 * inside Express + createProxyMiddleware.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { type FleetgateTarget, fleetgateTarget } from '../lib/proxy/http-proxy-target.js';
import type { Registry } from '../lib/registry/registry.js';
import {
  echoUpstream,
  json,
  listen,
  memoryRegistry,
  registerInstance,
  send,
  type TestServer,
} from '../lib/test-support/http-test-kit.js';

type Echo = { name: string; url: string };

describe('fleetgateTarget with http-proxy-middleware', () => {
  let registry: Registry;
  let target: FleetgateTarget;
  let app: TestServer;
  const ups: TestServer[] = [];

  before(async () => {
    registry = await memoryRegistry();
    for (const name of ['a', 'b']) {
      const s = await echoUpstream(name);
      ups.push(s);
      await registerInstance(registry, 'items', s.url, [{ method: 'GET', path: '/api/items/:id' }], {
        instanceId: name,
      });
    }
    target = fleetgateTarget(registry);
    const e = express();
    e.use(createProxyMiddleware({ router: target, pathRewrite: target.pathRewrite, changeOrigin: true }));
    e.use((_req, res) => {
      res.status(404).json({ fallthrough: true });
    });
    app = await listen(e);
  });

  after(async () => {
    await app.close();
    await target.close();
    for (const s of ups) await s.close();
    await registry.close();
  });

  it('routes with the table and balances round-robin', async () => {
    const names = new Map<string, number>();
    for (let i = 0; i < 10; i++) {
      const e = json<Echo>(await send(`${app.url}/api/items/${i}`));
      assert.equal(e.url, `/api/items/${i}`);
      names.set(e.name, (names.get(e.name) ?? 0) + 1);
    }
    assert.deepEqual(Object.fromEntries(names), { a: 5, b: 5 });
  });

  it('rewrites name-routed and dotted paths to what the route matched', async () => {
    const byName = json<Echo>(await send(`${app.url}/items/some/path?x=1`));
    assert.equal(byName.url, '/some/path?x=1');
    const dotted = json<Echo>(await send(`${app.url}/api/x/../items/7`));
    assert.equal(dotted.url, '/api/items/7');
  });

  it('answers undefined when nothing matches', () => {
    const req = { url: '/nothing', method: 'GET', headers: {} } as Parameters<FleetgateTarget>[0];
    assert.equal(target(req), undefined);
    assert.equal(target({ ...req, url: '/a%2fb' } as typeof req), undefined);
    assert.ok(target.routeTable.size >= 1);
  });
});
