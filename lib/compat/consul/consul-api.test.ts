import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../clock.js';
import { MemoryBackend } from '../../registry/backends/memory.js';
import { Registry } from '../../registry/registry.js';
import { listen } from '../../test-support/http-test-kit.js';
import { type ConsulApiOptions, consulApi } from './consul-api.js';

async function setup(options: Partial<ConsulApiOptions> = {}) {
  const registry = new Registry({ backend: new MemoryBackend(), ownsBackend: true, ttlMs: 90_000 });
  await registry.ready();
  const api = consulApi({ registry, ...options });
  const server = await listen((req, res) => api(req, res));
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, json: text === '' ? undefined : JSON.parse(text) };
  };
  return {
    registry,
    call,
    async [Symbol.asyncDispose]() {
      await api.close();
      await server.close();
      await registry.close();
    },
  };
}

const web = (extra: Record<string, unknown> = {}) => ({
  ID: 'web-1',
  Name: 'web',
  Tags: ['v1'],
  Address: '127.0.0.1',
  Port: 3000,
  Meta: { team: 'a' },
  Check: { TTL: '10s', DeregisterCriticalServiceAfter: '1m' },
  ...extra,
});

describe('consulApi: agent', () => {
  it('registers a service whose TTL check starts critical, passes it, and deregisters', async () => {
    await using t = await setup();
    const r = await t.call('PUT', '/v1/agent/service/register', web());
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /application\/json/);
    const inst = t.registry.get('web', 'web-1');
    assert.equal(inst?.url, 'http://127.0.0.1:3000');
    assert.equal(inst?.status, 'DOWN', 'critical until the first pass');
    assert.equal(inst?.metadata.origin, 'consul');
    assert.deepEqual((await t.call('GET', '/v1/health/service/web?passing=true')).json, []);
    assert.equal((await t.call('PUT', '/v1/agent/check/pass/service%3Aweb-1')).status, 200);
    assert.equal(t.registry.get('web', 'web-1')?.status, 'UP');
    const healthy = (await t.call('GET', '/v1/health/service/web?passing=true')).json;
    assert.equal(healthy.length, 1);
    assert.deepEqual(healthy[0].Service, {
      ID: 'web-1',
      Service: 'web',
      Tags: ['v1'],
      Address: '127.0.0.1',
      Meta: { team: 'a' },
      Port: 3000,
      Weights: { Passing: 1, Warning: 1 },
      EnableTagOverride: false,
      CreateIndex: healthy[0].Service.CreateIndex,
      ModifyIndex: healthy[0].Service.ModifyIndex,
    });
    assert.equal(healthy[0].Checks[0].CheckID, 'service:web-1');
    assert.equal((await t.call('PUT', '/v1/agent/check/warn/service:web-1')).status, 200);
    assert.equal(t.registry.get('web', 'web-1')?.status, 'UNKNOWN');
    assert.deepEqual((await t.call('GET', '/v1/health/service/web?passing=true')).json, []);
    assert.equal((await t.call('GET', '/v1/health/service/web')).json[0].Checks[0].Status, 'warning');
    assert.equal((await t.call('PUT', '/v1/agent/check/fail/service:web-1')).status, 200);
    assert.equal(t.registry.get('web', 'web-1')?.status, 'DOWN');
    assert.equal((await t.call('PUT', '/v1/agent/check/pass/service:nobody')).status, 404);
    assert.equal((await t.call('PUT', '/v1/agent/service/deregister/web-1')).status, 200);
    assert.equal((await t.call('PUT', '/v1/agent/service/deregister/web-1')).status, 404);
    assert.deepEqual(t.registry.instances(), []);
  });

  it('refuses bad input with 400 and changes nothing', async () => {
    await using t = await setup();
    const cases: [string, unknown, string][] = [
      ['no Name', web({ Name: undefined }), 'Name'],
      ['no Port', web({ Port: undefined }), 'Port'],
      ['Tags not strings', web({ Tags: [1] }), 'Tags'],
      ['Meta not strings', web({ Meta: { a: 1 } }), 'Meta'],
      ['a bad TTL', web({ Check: { TTL: 'soon' } }), 'Check.TTL'],
      ['HTTP without Interval', web({ Check: { HTTP: 'http://127.0.0.1:3000/health' } }), 'Check.Interval'],
      ['an unsupported check', web({ Check: { Script: 'true' } }), 'Check'],
      ['bad Weights', web({ Weights: { Passing: 0 } }), 'Weights'],
    ];
    for (const [what, body, path] of cases) {
      const r = await t.call('PUT', '/v1/agent/service/register', body);
      assert.equal(r.status, 400, what);
      assert.ok(
        r.json.error.details.some((d: { path: string }) => d.path === path),
        `${what}: ${JSON.stringify(r.json)}`,
      );
    }
    assert.equal((await t.call('PUT', '/v1/agent/service/register', '[')).status, 400);
    assert.equal((await t.call('GET', '/v1/agent/service/register')).status, 405);
    assert.deepEqual(t.registry.instances(), []);
  });

  it('a TTL check lapses to critical, and the service leaves after DeregisterCriticalServiceAfter', async () => {
    const clock = new FakeClock(1_000_000);
    await using t = await setup({ clock });
    await t.call(
      'PUT',
      '/v1/agent/service/register',
      web({ Check: { TTL: '10s', DeregisterCriticalServiceAfter: '30s' } }),
    );
    await t.call('PUT', '/v1/agent/check/pass/service:web-1');
    assert.equal(t.registry.get('web', 'web-1')?.status, 'UP');
    await clock.advance(10_000);
    assert.equal(t.registry.get('web', 'web-1')?.status, 'DOWN', 'TTL lapsed: critical');
    await clock.advance(30_000);
    assert.equal(t.registry.get('web', 'web-1'), undefined, 'deregistered after 30 s critical');
  });
});

describe('consulApi: catalog and blocking queries', () => {
  it('lists services and instances with X-Consul-Index, and a blocking query wakes on a change', async () => {
    await using t = await setup();
    const first = await t.call('GET', '/v1/catalog/services');
    const index = Number(first.headers.get('x-consul-index'));
    assert.ok(index >= 1);
    assert.deepEqual(first.json, {});
    const blocked = t.call('GET', `/v1/health/service/web?index=${index}&wait=30s`);
    await t.call('PUT', '/v1/agent/service/register', web({ Check: undefined }));
    const woke = await blocked;
    assert.ok(Number(woke.headers.get('x-consul-index')) > index, 'the index moved');
    assert.equal(woke.json.length, 1);
    assert.equal(woke.json[0].Checks[0].Status, 'passing', 'no TTL check: passing');
    await t.registry.register({ service: 'native', instanceId: 'n1', url: 'http://127.0.0.1:9000' });
    assert.deepEqual((await t.call('GET', '/v1/catalog/services')).json, { web: ['v1'], native: [] });
    const entry = (await t.call('GET', '/v1/catalog/service/web')).json[0];
    assert.deepEqual([entry.ServiceID, entry.ServiceName, entry.ServicePort], ['web-1', 'web', 3000]);
    const short = await t.call('GET', `/v1/catalog/services?index=${woke.headers.get('x-consul-index')}0&wait=50ms`);
    assert.equal(short.status, 200, 'a wait runs out with the current answer');
  });

  it('never replaces an instance that was not registered through Consul (403, unchanged)', async () => {
    await using t = await setup();
    await t.registry.register({ service: 'web', instanceId: 'web-1', url: 'http://127.0.0.1:7000' });
    const r = await t.call('PUT', '/v1/agent/service/register', web());
    assert.equal(r.status, 403);
    assert.equal(r.json.error.code, 'ERR_FG_NOT_OWNER');
    assert.equal((await t.call('PUT', '/v1/agent/service/deregister/web-1')).status, 404, 'not a Consul service');
    assert.equal(t.registry.get('web', 'web-1')?.url, 'http://127.0.0.1:7000');
  });

  it('sits behind allow-from and the token (X-Consul-Token)', async () => {
    {
      await using t = await setup({ allowFrom: ['10.0.0.0/8'] });
      assert.equal((await t.call('PUT', '/v1/agent/service/register', web())).status, 403);
    }
    await using t = await setup({ token: 's3cret' });
    assert.equal((await t.call('PUT', '/v1/agent/service/register', web())).status, 401);
    const ok = await t.call('PUT', '/v1/agent/service/register', web(), { 'x-consul-token': 's3cret' });
    assert.equal(ok.status, 200);
  });
});
