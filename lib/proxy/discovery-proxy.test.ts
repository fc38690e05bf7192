import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { Registry } from '../registry/registry.js';
import {
  echoUpstream,
  json,
  listen,
  memoryRegistry,
  registerInstance,
  send,
  type TestServer,
  waitFor,
} from '../test-support/http-test-kit.js';
import { packageVersion } from '../version.js';
import { type DiscoveryProxy, discoveryProxy } from './discovery-proxy.js';

/** A gateway server running `proxy` standalone. */
async function gateway(proxy: DiscoveryProxy): Promise<TestServer> {
  return listen((req, res) => proxy(req, res));
}

describe('discoveryProxy forwarding', () => {
  let registry: Registry;
  let echo: TestServer;
  let special: TestServer;
  let proxy: DiscoveryProxy;
  let gw: TestServer;
  let upstreamReqClosed: Promise<void>;
  let markUpstreamReqClosed: () => void;
  let hangArrived = false;

  before(async () => {
    registry = await memoryRegistry();
    echo = await echoUpstream('echo');
    upstreamReqClosed = new Promise((resolve) => {
      markUpstreamReqClosed = resolve;
    });
    special = await listen((req, res) => {
      switch (req.url) {
        case '/x/head':
          res.writeHead(200, { 'content-length': '5', 'x-kind': 'head' });
          res.end(req.method === 'HEAD' ? undefined : 'hello');
          return;
        case '/x/204':
          res.writeHead(204, { 'x-kind': 'none' });
          res.end();
          return;
        case '/x/304':
          res.writeHead(304, { etag: '"v1"' });
          res.end();
          return;
        case '/x/500':
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end('boom');
          return;
        case '/x/slow':
          return;
        case '/x/hang':
          hangArrived = true;
          req.on('close', () => markUpstreamReqClosed());
          return;
        case '/x/cut':
          res.writeHead(200, { 'content-length': '1000' });
          res.write('partial');
          setImmediate(() => res.socket?.destroy());
          return;
        default:
          res.writeHead(404);
          res.end();
      }
    });
    await registerInstance(registry, 'echo', echo.url, [
      { method: 'GET', path: '/api/items/:id' },
      { method: 'POST', path: '/api/items' },
      { method: 'PUT', path: '/api/upload' },
    ]);
    await registerInstance(registry, 'special', special.url, [
      { method: '*', path: '/x/**' },
      { method: 'GET', path: '/x/slow', timeoutMs: 100 },
    ]);
    proxy = discoveryProxy({
      registry,
      timeoutMs: 2000,
      staticRoutes: [{ method: 'GET', path: '/static/**', target: echo.url }],
    });
    gw = await gateway(proxy);
  });

  after(async () => {
    await gw.close();
    await proxy.close();
    await echo.close();
    await special.close();
    await registry.close();
  });

  it('forwards method, path, query and body, and stamps the response', async () => {
    const res = await send(`${gw.url}/api/items/7?q=1&r=%20`);
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-gateway'], 'fleetgate');
    assert.equal(res.headers['x-gateway-version'], packageVersion());
    assert.match(String(res.headers['server-timing']), /^gateway;dur=\d+\.\d{2}$/);
    const body = json<{ url: string; method: string }>(res);
    assert.equal(body.url, '/api/items/7?q=1&r=%20');
    const post = await send(`${gw.url}/api/items`, { method: 'POST', body: 'x'.repeat(70_000) });
    assert.equal(json<{ body: string }>(post).body.length, 70_000);
  });

  it('routes by service name with the prefix stripped, and static targets', async () => {
    const byName = json<{ name: string; url: string }>(await send(`${gw.url}/echo/free/path?a=b`));
    assert.deepEqual([byName.name, byName.url], ['echo', '/free/path?a=b']);
    const fixed = json<{ url: string }>(await send(`${gw.url}/static/file.txt`));
    assert.equal(fixed.url, '/static/file.txt');
  });

  it('answers HEAD, 204 and 304 without a body', async () => {
    const head = await send(`${gw.url}/x/head`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '5');
    assert.equal(head.body, '');
    const none = await send(`${gw.url}/x/204`);
    assert.deepEqual([none.status, none.body, none.headers['x-kind']], [204, '', 'none']);
    const notModified = await send(`${gw.url}/x/304`);
    assert.deepEqual([notModified.status, notModified.body, notModified.headers.etag], [304, '', '"v1"']);
  });

  it('makes curl-style Expect: 100-continue uploads work', async () => {
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${gw.url}/api/upload`, {
        method: 'PUT',
        headers: { expect: '100-continue', 'content-length': '11' },
      });
      req.on('continue', () => req.end('hello world'));
      req.on('response', (r) => {
        let body = '';
        r.setEncoding('utf8');
        r.on('data', (c: string) => {
          body += c;
        });
        r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
      });
      req.on('error', reject);
    });
    assert.equal(res.status, 200);
    const echoed = JSON.parse(res.body) as { body: string; headers: Record<string, string> };
    assert.equal(echoed.body, 'hello world');
    assert.equal(echoed.headers.expect, undefined);
  });

  it('times out per route with 504', async () => {
    const started = Date.now();
    const res = await send(`${gw.url}/x/slow`);
    assert.equal(res.status, 504);
    assert.equal(json<{ error: { code: string } }>(res).error.code, 'ERR_FG_UPSTREAM_TIMEOUT');
    assert.ok(Date.now() - started < 1500, 'the route timeout (100 ms) applies, not the default');
  });

  it('aborts the upstream request when the client goes away', async () => {
    const req = http.get(`${gw.url}/x/hang`);
    req.on('error', () => {});
    await waitFor(() => hangArrived, 2000, 'upstream reached');
    req.destroy();
    await upstreamReqClosed;
  });

  it('cuts the client response when the upstream dies mid-body', async () => {
    const outcome = await new Promise<string>((resolve) => {
      http
        .get(`${gw.url}/x/cut`, (res) => {
          res.on('data', () => {});
          res.on('end', () => resolve('ended'));
          res.on('error', () => resolve('error'));
          res.on('aborted', () => resolve('aborted'));
        })
        .on('error', () => resolve('error'));
    });
    assert.notEqual(outcome, 'ended');
  });

  it('passes 5xx through and explains routing', async () => {
    const res = await send(`${gw.url}/x/500`);
    assert.deepEqual([res.status, res.body], [500, 'boom']);
    const ex = proxy.explain('GET', '/api/items/1');
    assert.equal(ex.match?.service, 'echo');
    assert.equal(ex.chosen?.url, echo.url);
    assert.ok(proxy.routeTable !== undefined);
  });

  it('answers 404 standalone and calls next() inside a framework', async () => {
    const res = await send(`${gw.url}/nothing/here`);
    assert.equal(res.status, 404);
    assert.equal(json<{ error: { code: string } }>(res).error.code, 'ERR_FG_NO_ROUTE');
    let nextCalled = false;
    const app = await listen((req, r) =>
      proxy(req, r, () => {
        nextCalled = true;
        r.end('app route');
      }),
    );
    try {
      assert.equal((await send(`${app.url}/nothing/here`)).body, 'app route');
      assert.ok(nextCalled);
    } finally {
      await app.close();
    }
  });
});

describe('discoveryProxy lifecycle', () => {
  it('creates, owns and closes a registry from the environment when given none', async () => {
    const proxy = discoveryProxy();
    assert.equal(proxy.registry, undefined);
    const gw = await gateway(proxy);
    try {
      const res = await send(`${gw.url}/nope`);
      assert.equal(res.status, 404);
      assert.ok(proxy.registry !== undefined);
      await proxy.ready();
      assert.throws(() => discoveryProxy({ timeoutMs: -1 }));
    } finally {
      await gw.close();
      await proxy.close();
    }
  });

  it('answers the registry error while it cannot be created, and retries on the next request', async () => {
    const saved = process.env.REGISTRY_TYPE;
    process.env.REGISTRY_TYPE = 'BOGUS';
    const proxy = discoveryProxy();
    const gw = await gateway(proxy);
    try {
      const failed = await send(`${gw.url}/x`);
      assert.equal(failed.status, 500);
      assert.equal(json<{ error: { code: string } }>(failed).error.code, 'ERR_FG_INVALID_CONFIG');
      process.env.REGISTRY_TYPE = 'INMEMORY';
      assert.equal((await send(`${gw.url}/x`)).status, 404);
      assert.ok(proxy.registry !== undefined);
    } finally {
      if (saved === undefined) delete process.env.REGISTRY_TYPE;
      else process.env.REGISTRY_TYPE = saved;
      await gw.close();
      await proxy.close();
    }
  });

  it('closes the pool of an instance that leaves, and answers 503 once closed', async () => {
    const registry = await memoryRegistry();
    const up = await echoUpstream('a');
    const proxy = discoveryProxy({ registry });
    const gw = await gateway(proxy);
    try {
      const id = await registerInstance(registry, 'a', up.url, [{ method: 'GET', path: '/a' }]);
      assert.equal((await send(`${gw.url}/a`)).status, 200);
      assert.equal(proxy.engine?.pools.size, 1);
      await registry.deregister('a', id);
      await waitFor(() => proxy.engine?.pools.size === 0, 2000, 'pool closed');
      assert.equal((await send(`${gw.url}/a`)).status, 404);
      await proxy.close();
      const closed = await send(`${gw.url}/a`);
      assert.equal(closed.status, 503);
      assert.equal(json<{ error: { code: string } }>(closed).error.code, 'ERR_FG_CLOSED');
    } finally {
      await gw.close();
      await proxy.close();
      await up.close();
      await registry.close();
    }
  });

  it('never sends traffic to a DOWN instance by default: 503 at once, no connection upstream', async () => {
    const registry = await memoryRegistry();
    const up = await echoUpstream('lone');
    let connections = 0;
    up.server.on('connection', () => connections++);
    const panics: string[] = [];
    const proxy = discoveryProxy({
      registry,
      metrics: { recordProxyRequest: () => {}, recordPanicRouting: (s) => panics.push(s) },
    });
    const gw = await gateway(proxy);
    try {
      await registerInstance(registry, 'lone', up.url, [{ method: 'GET', path: '/lone' }], { instanceId: 'l1' });
      assert.equal((await send(`${gw.url}/lone`)).status, 200);
      const before = connections;
      await registry.setStatus('lone', 'l1', 'DOWN');
      for (let i = 0; i < 3; i++) {
        const res = await send(`${gw.url}/lone`);
        assert.equal(res.status, 503);
        assert.equal(json<{ error: { code: string } }>(res).error.code, 'ERR_FG_NO_HEALTHY_INSTANCE');
      }
      assert.equal(connections, before, 'no connect attempt upstream');
      assert.equal(up.hits, 1);
      assert.equal(proxy.explain('GET', '/lone').panic, false);
      assert.deepEqual(panics, []);
    } finally {
      await gw.close();
      await proxy.close();
      await up.close();
      await registry.close();
    }
  });

  it('spreads over DOWN instances only with panicThreshold on, and counts and explains it', async () => {
    const registry = await memoryRegistry();
    const up = await echoUpstream('lone');
    const panics: string[] = [];
    const proxy = discoveryProxy({
      registry,
      panicThreshold: 0.5,
      metrics: { recordProxyRequest: () => {}, recordPanicRouting: (s) => panics.push(s) },
    });
    const gw = await gateway(proxy);
    try {
      await registerInstance(registry, 'lone', up.url, [{ method: 'GET', path: '/lone' }], { instanceId: 'l1' });
      await registry.setStatus('lone', 'l1', 'DOWN');
      assert.equal((await send(`${gw.url}/lone`)).status, 200);
      assert.deepEqual(panics, ['lone']);
      const explained = proxy.explain('GET', '/lone');
      assert.equal(explained.panic, true);
      assert.equal(explained.panicThreshold, 0.5);
    } finally {
      await gw.close();
      await proxy.close();
      await up.close();
      await registry.close();
    }
  });

  it('refuses an invalid panicThreshold', () => {
    for (const panicThreshold of [-0.1, 1.5, Number.NaN]) {
      assert.throws(() => discoveryProxy({ panicThreshold }), { code: 'ERR_FG_INVALID_CONFIG' });
    }
  });

  it('opens the circuit after consecutive 5xx and keeps the instance out, even in panic mode', async () => {
    const registry = await memoryRegistry();
    const flaky = await listen((_req, res) => {
      res.writeHead(500);
      res.end('down');
    });
    const proxy = discoveryProxy({
      registry,
      panicThreshold: 0.5,
      breaker: { consecutiveFailures: 3, halfOpenAfterMs: 60_000 },
    });
    const gw = await gateway(proxy);
    try {
      await registerInstance(registry, 'flaky', flaky.url, [{ method: 'GET', path: '/flaky' }], { instanceId: 'f1' });
      for (let i = 0; i < 3; i++) assert.equal((await send(`${gw.url}/flaky`)).status, 500);
      await waitFor(() => proxy.engine!.breakers.isOpen('flaky', 'f1'), 1000, 'circuit open');
      const res = await send(`${gw.url}/flaky`);
      assert.equal(res.status, 503);
      const body = json<{ error: { code: string; details?: unknown } }>(res);
      assert.equal(body.error.code, 'ERR_FG_NO_HEALTHY_INSTANCE');
      assert.equal(body.error.details, undefined, 'no instance ids in client bodies');
      assert.deepEqual(proxy.explain('GET', '/flaky').excluded, [{ instanceId: 'f1', reason: 'circuit-open' }]);
      assert.equal(flaky.hits, 3);
    } finally {
      await gw.close();
      await proxy.close();
      await flaky.close();
      await registry.close();
    }
  });

  it('supports await using and leaves a registry it was given open', async () => {
    const registry = await memoryRegistry();
    {
      await using proxy = discoveryProxy({ registry });
      assert.ok(proxy.engine !== undefined);
    }
    await registry.register({ service: 'still', url: 'http://127.0.0.1:1' });
    assert.deepEqual(registry.services(), ['still']);
    await registry.close();
  });
});
