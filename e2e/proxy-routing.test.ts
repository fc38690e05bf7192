/**
 * discoveryProxy routing end to end: real upstream servers, a real Registry on the memory
 * backend, the proxy standalone on node:http.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type DiscoveryProxy, discoveryProxy } from '../lib/proxy/discovery-proxy.js';
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

type Echo = { name: string; method: string; url: string };
type ErrorBody = { error: { code: string; message: string } };

describe('proxy routing', () => {
  let registry: Registry;
  const ups = new Map<string, TestServer>();
  let proxy: DiscoveryProxy;
  let strict: DiscoveryProxy;
  let gw: TestServer;
  let strictGw: TestServer;

  const up = async (name: string) => {
    const s = await echoUpstream(name);
    ups.set(name, s);
    return s.url;
  };

  before(async () => {
    registry = await memoryRegistry();
    // Registrations of different services may not overlap (409), so precedence between
    // overlapping patterns is shown on static routes, which share the same trie and order.
    const precedence = [
      { method: 'GET', path: '/api/**', target: await up('rest') },
      { method: 'GET', path: '/api/*/orders', target: await up('star') },
      { method: 'GET', path: '/api/:tenant/items', target: await up('param') },
      { method: 'GET', path: '/api/acme/items', target: await up('exact') },
    ];
    await registerInstance(registry, 'exact', ups.get('exact')!.url, [{ method: 'GET', path: '/admin/users' }]);
    await registerInstance(registry, 'reader', await up('reader'), [{ method: 'GET', path: '/m/things' }]);
    await registerInstance(registry, 'writer', await up('writer'), [{ method: 'POST', path: '/m/things' }]);
    await registerInstance(registry, 'pub', await up('pub'), [{ method: 'GET', path: '/public/**' }]);
    await registerInstance(registry, 'secret', await up('secret'), [{ method: 'GET', path: '/secret-area/only' }]);
    const staticUp = await up('static');
    const dead = await listen(() => {});
    const deadUrl = dead.url;
    await dead.close();
    await registerInstance(registry, 'gone', deadUrl, [{ method: 'GET', path: '/gone/**' }]);
    const drainingId = await registerInstance(registry, 'draining', await up('draining'), [
      { method: 'GET', path: '/draining' },
    ]);
    await registry.setStatus('draining', drainingId, 'DRAINING');

    proxy = discoveryProxy({
      registry,
      staticRoutes: [{ method: 'GET', path: '/admin/**', target: staticUp }, ...precedence],
    });
    strict = discoveryProxy({ registry, nameRouting: false });
    gw = await listen((req, res) => proxy(req, res));
    strictGw = await listen((req, res) => strict(req, res));
  });

  after(async () => {
    await gw.close();
    await strictGw.close();
    await proxy.close();
    await strict.close();
    for (const s of ups.values()) await s.close();
    await registry.close();
  });

  const who = async (path: string, method = 'GET', base = gw.url) => json<Echo>(await send(base + path, { method }));

  it('prefers the most specific pattern: static > :param > * > **', async () => {
    assert.equal((await who('/api/acme/items')).name, 'exact');
    assert.equal((await who('/api/other/items')).name, 'param');
    assert.equal((await who('/api/other/orders')).name, 'star');
    assert.equal((await who('/api/x/y/z')).name, 'rest');
    assert.equal((await who('/api')).name, 'rest');
  });

  it('lets static gateway routes win over registrations', async () => {
    assert.equal((await who('/admin/users')).name, 'static');
  });

  it('routes by method', async () => {
    assert.equal((await who('/m/things')).name, 'reader');
    assert.equal((await who('/m/things', 'POST')).name, 'writer');
    const del = await send(`${gw.url}/m/things`, { method: 'DELETE' });
    assert.equal(del.status, 404);
    assert.equal(json<ErrorBody>(del).error.code, 'ERR_FG_NO_ROUTE');
  });

  it('falls back to /{service}/… with the prefix stripped', async () => {
    const e = await who('/reader/anything/at/all?x=1');
    assert.deepEqual([e.name, e.url], ['reader', '/anything/at/all?x=1']);
    assert.equal((await send(`${strictGw.url}/reader/anything`)).status, 404);
  });

  it('answers 404, 503, 502 with their codes', async () => {
    const notFound = await send(`${gw.url}/no/such/thing`);
    assert.deepEqual([notFound.status, json<ErrorBody>(notFound).error.code], [404, 'ERR_FG_NO_ROUTE']);
    assert.equal(notFound.headers['x-gateway'], 'fleetgate');
    const unavailable = await send(`${gw.url}/draining`);
    assert.deepEqual(
      [unavailable.status, json<ErrorBody>(unavailable).error.code],
      [503, 'ERR_FG_NO_HEALTHY_INSTANCE'],
    );
    assert.equal(unavailable.headers['x-gateway'], 'fleetgate');
    const bad = await send(`${gw.url}/gone/x`);
    assert.deepEqual([bad.status, json<ErrorBody>(bad).error.code], [502, 'ERR_FG_UPSTREAM_CONNECT']);
    assert.equal(bad.headers['x-gateway'], 'fleetgate');
  });

  it('never lets path traversal reach an unregistered route', async () => {
    const variants = [
      '/public/../secret-area/other',
      '/public/./../secret-area/other',
      '/public/%2e%2e/secret-area/other',
      '/public/%2E%2E/secret-area/other',
      '/public/.%2e/secret-area/other',
      '/public/..%2fsecret-area%2fother',
      '/public/%2e%2e%2fsecret-area%2fother',
      '/public/..%5csecret-area%5cother',
      '/public/..\\secret-area\\other',
      '//secret-area/other',
      '/public/%252e%252e/secret-area/other',
      '/public/a/../../../../secret-area/other',
    ];
    const secret = ups.get('secret')!;
    const before = secret.hits;
    for (const v of variants) {
      const res = await send(strictGw.url + v);
      assert.ok([400, 404].includes(res.status) || json<Echo>(res).name === 'pub', `${v} → ${res.status} ${res.body}`);
      if (res.status === 200) assert.ok(!json<Echo>(res).url.includes('..'), `${v} forwarded with dots`);
    }
    assert.equal(secret.hits, before, 'the secret service received nothing');
    // What does get through is the normalised path, never the raw one.
    assert.equal((await who('/public/a/../b/%7e', 'GET', strictGw.url)).url, '/public/b/~');
    assert.equal((await send(`${strictGw.url}/secret-area/only`)).status, 200);
  });
});
