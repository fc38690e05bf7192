/**
 * Header handling through discoveryProxy: hop-by-hop headers stripped both ways, X-Forwarded-*,
 * X-Request-Id and traceparent kept or generated.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type DiscoveryProxy, discoveryProxy } from '../lib/proxy/discovery-proxy.js';
import type { Registry } from '../lib/registry/registry.js';
import {
  json,
  listen,
  memoryRegistry,
  registerInstance,
  send,
  type TestServer,
} from '../lib/test-support/http-test-kit.js';

type Seen = { headers: Record<string, string> };

describe('proxy headers', () => {
  let registry: Registry;
  let proxy: DiscoveryProxy;
  let gw: TestServer;
  let up: TestServer;

  before(async () => {
    registry = await memoryRegistry();
    up = await listen((req, res) => {
      const body = JSON.stringify({ headers: req.headers });
      res.writeHead(200, [
        'Content-Type',
        'application/json',
        'Content-Length',
        String(Buffer.byteLength(body)),
        'Connection',
        'X-Resp-Hop',
        'X-Resp-Hop',
        'secret',
        'Proxy-Authenticate',
        'Basic',
        'Set-Cookie',
        'a=1',
        'Set-Cookie',
        'b=2',
      ]);
      res.end(body);
    });
    await registerInstance(registry, 'h', up.url, [{ method: '*', path: '/h/**' }]);
    proxy = discoveryProxy({ registry });
    gw = await listen((req, res) => proxy(req, res));
  });

  after(async () => {
    await gw.close();
    await proxy.close();
    await up.close();
    await registry.close();
  });

  it('strips hop-by-hop headers in both directions', async () => {
    const res = await send(`${gw.url}/h/x`, {
      headers: {
        Connection: 'keep-alive, X-Hop',
        'X-Hop': 'secret',
        'Keep-Alive': 'timeout=5',
        TE: 'trailers',
        'Proxy-Authorization': 'Basic Zm9vOmJhcg==',
        'X-Kept': 'yes',
      },
    });
    const seen = json<Seen>(res).headers;
    for (const h of ['x-hop', 'te', 'proxy-authorization', 'keep-alive']) assert.equal(seen[h], undefined, h);
    assert.equal(seen['x-kept'], 'yes');
    assert.equal(res.headers['x-resp-hop'], undefined);
    assert.equal(res.headers['proxy-authenticate'], undefined);
    assert.deepEqual(res.headers['set-cookie'], ['a=1', 'b=2']);
  });

  it('adds X-Forwarded-For/Proto/Host, replacing what an untrusted client sent', async () => {
    const seen = json<Seen>(await send(`${gw.url}/h/x`, { headers: { 'x-forwarded-for': '203.0.113.7' } })).headers;
    assert.equal(seen['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen['x-forwarded-proto'], 'http');
    assert.equal(seen['x-forwarded-host'], `127.0.0.1:${gw.port}`);
    assert.equal(seen.host, `127.0.0.1:${up.port}`, 'the instance sees its own host');
  });

  it('extends X-Forwarded-* from a trusted proxy', async () => {
    await using trusting = discoveryProxy({ registry, trustProxy: ['loopback'] });
    const server = await listen((req, res) => trusting(req, res));
    try {
      const headers = {
        'x-forwarded-for': '203.0.113.7',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'a.example',
      };
      const seen = json<Seen>(await send(`${server.url}/h/x`, { headers })).headers;
      assert.equal(seen['x-forwarded-for'], '203.0.113.7, 127.0.0.1');
      assert.equal(seen['x-forwarded-proto'], 'https');
      assert.equal(seen['x-forwarded-host'], 'a.example');
    } finally {
      await server.close();
    }
  });

  it('keeps or generates X-Request-Id and echoes it', async () => {
    const kept = await send(`${gw.url}/h/x`, { headers: { 'x-request-id': 'req-42' } });
    assert.equal(json<Seen>(kept).headers['x-request-id'], 'req-42');
    assert.equal(kept.headers['x-request-id'], 'req-42');
    const made = await send(`${gw.url}/h/x`);
    const id = json<Seen>(made).headers['x-request-id'];
    assert.match(id ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(made.headers['x-request-id'], id);
    const other = json<Seen>(await send(`${gw.url}/h/x`)).headers['x-request-id'];
    assert.notEqual(other, id);
  });

  it('propagates a valid traceparent and starts one otherwise', async () => {
    const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    assert.equal(json<Seen>(await send(`${gw.url}/h/x`, { headers: { traceparent: tp } })).headers.traceparent, tp);
    const started = json<Seen>(await send(`${gw.url}/h/x`)).headers.traceparent;
    assert.match(started ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const replaced = json<Seen>(await send(`${gw.url}/h/x`, { headers: { traceparent: 'bogus' } })).headers.traceparent;
    assert.match(replaced ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it('stamps X-Gateway and Server-Timing', async () => {
    const res = await send(`${gw.url}/h/x`);
    assert.equal(res.headers['x-gateway'], 'fleetgate');
    assert.match(String(res.headers['server-timing']), /^gateway;dur=\d+\.\d\d$/);
  });
});
