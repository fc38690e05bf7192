import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Clock, FakeClock, realClock } from '../../clock.js';
import { MemoryBackend } from '../../registry/backends/memory.js';
import { Registry } from '../../registry/registry.js';
import { listen } from '../../test-support/http-test-kit.js';
import { type EurekaApiOptions, eurekaApi } from './eureka-api.js';

async function setup(options: Partial<EurekaApiOptions> = {}, clock: Clock = realClock) {
  const registry = new Registry({ backend: new MemoryBackend({ clock }), ownsBackend: true, ttlMs: 90_000, clock });
  await registry.ready();
  const api = eurekaApi({ registry, clock, ...options });
  const server = await listen((req, res) => api(req, res));
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      text,
      json: text === '' ? undefined : JSON.parse(text),
    };
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

function instance(extra: Record<string, unknown> = {}) {
  return {
    instance: {
      app: 'ORDERS',
      hostName: 'orders-host',
      ipAddr: '127.0.0.1',
      port: { $: 8081, '@enabled': 'true' },
      vipAddress: 'orders.vip',
      dataCenterInfo: { '@class': 'com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo', name: 'MyOwn' },
      healthCheckUrl: 'http://127.0.0.1:8081/health',
      metadata: { zone: 'a' },
      ...extra,
    },
  };
}

describe('eurekaApi: registration', () => {
  it('registers under both prefixes (204) as a registry instance with its origin', async () => {
    await using t = await setup();
    assert.equal((await t.call('POST', '/eureka/apps/ORDERS', instance())).status, 204);
    const v2 = instance({ instanceId: 'host:orders:8082', port: 8082, hostName: 'h2' });
    assert.equal((await t.call('POST', '/eureka/v2/apps/orders', v2)).status, 204);
    const [a, b] = t.registry.instances('orders').sort((x, y) => x.url.localeCompare(y.url));
    assert.equal(a?.instanceId, 'orders-host');
    assert.equal(a?.url, 'http://127.0.0.1:8081');
    assert.equal(a?.healthEndpoint, '/health');
    assert.equal(a?.status, 'UP');
    assert.equal(a?.metadata.origin, 'eureka');
    assert.match(b!.instanceId, /^host-orders-8082-[0-9a-f]{12}$/, 'a Eureka id fleetgate cannot hold is mapped');
    assert.equal(b?.url, 'http://127.0.0.1:8082');
  });

  it('uses securePort when only it is enabled, and keeps dataCenterInfo without @class', async () => {
    await using t = await setup();
    const body = instance({
      port: { $: 80, '@enabled': false },
      securePort: { $: 8443, '@enabled': 'true' },
      dataCenterInfo: { name: 'MyOwn' },
      status: 'STARTING',
    });
    assert.equal((await t.call('POST', '/eureka/apps/ORDERS', body)).status, 204);
    const inst = t.registry.get('orders', 'orders-host');
    assert.equal(inst?.url, 'https://127.0.0.1:8443');
    assert.equal(inst?.status, 'DOWN', 'STARTING is not in service yet');
  });

  it('refuses bad input with 400 and changes nothing', async () => {
    await using t = await setup();
    const cases: [string, unknown, string][] = [
      ['no hostName', instance({ hostName: undefined }), 'instance.hostName'],
      ['no ipAddr', instance({ ipAddr: '' }), 'instance.ipAddr'],
      ['no app', instance({ app: undefined }), 'instance.app'],
      ['app differs from the path', instance({ app: 'BILLING' }), 'instance.app'],
      ['no dataCenterInfo.name', instance({ dataCenterInfo: { '@class': 'x' } }), 'instance.dataCenterInfo.name'],
      ['a port that is not a port', instance({ port: { $: 'abc' } }), 'instance.port'],
      ['no port at all', instance({ port: undefined }), 'instance.port'],
      ['metadata that is not strings', instance({ metadata: { a: { b: 1 } } }), 'instance.metadata'],
      ['no instance wrapper', { app: 'ORDERS' }, 'instance'],
      ['a bad status', instance({ status: 'SLEEPY' }), 'instance.status'],
    ];
    for (const [what, body, path] of cases) {
      const r = await t.call('POST', '/eureka/apps/ORDERS', body);
      assert.equal(r.status, 400, what);
      assert.equal(r.json.error.code, 'ERR_FG_INVALID_BODY', what);
      assert.ok(
        r.json.error.details.some((d: { path: string }) => d.path === path),
        `${what}: ${JSON.stringify(r.json.error.details)}`,
      );
    }
    assert.equal((await t.call('POST', '/eureka/apps/ORDERS', '{oops')).status, 400, 'malformed JSON');
    assert.equal((await t.call('POST', '/eureka/apps/bad%20name', instance({ app: 'bad name' }))).status, 400);
    assert.deepEqual(t.registry.instances(), []);
  });
});

describe('eurekaApi: heartbeat, status, metadata, delete', () => {
  it('heartbeats (200), 404 for unknown ids, honours ?status=, overrides, metadata and delete', async () => {
    await using t = await setup();
    await t.call('POST', '/eureka/v2/apps/ORDERS', instance());
    assert.equal((await t.call('PUT', '/eureka/v2/apps/ORDERS/orders-host')).status, 200);
    const unknown = await t.call('PUT', '/eureka/v2/apps/ORDERS/nobody');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.error.code, 'ERR_FG_UNKNOWN_INSTANCE');
    assert.equal((await t.call('PUT', '/eureka/v2/apps/ORDERS/orders-host?status=OUT_OF_SERVICE')).status, 200);
    assert.equal(t.registry.get('orders', 'orders-host')?.status, 'DRAINING');
    assert.equal((await t.call('DELETE', '/eureka/v2/apps/ORDERS/orders-host/status?value=UP')).status, 200);
    assert.equal(t.registry.get('orders', 'orders-host')?.status, 'UP');
    assert.equal((await t.call('PUT', '/eureka/v2/apps/ORDERS/orders-host/status?value=OUT_OF_SERVICE')).status, 200);
    assert.equal(t.registry.get('orders', 'orders-host')?.status, 'DRAINING');
    assert.equal((await t.call('PUT', '/eureka/v2/apps/ORDERS/orders-host/status?value=NAP')).status, 400);
    assert.equal((await t.call('PUT', '/eureka/v2/apps/ORDERS/orders-host/metadata?release=42')).status, 200);
    const got = await t.call('GET', '/eureka/v2/apps/ORDERS/orders-host');
    assert.deepEqual(got.json.instance.metadata, { zone: 'a', release: '42' });
    assert.equal(got.json.instance.status, 'OUT_OF_SERVICE');
    assert.equal((await t.call('DELETE', '/eureka/v2/apps/ORDERS/orders-host')).status, 200);
    assert.equal((await t.call('DELETE', '/eureka/v2/apps/ORDERS/orders-host')).status, 404);
    assert.deepEqual(t.registry.instances(), []);
  });
});

describe('eurekaApi: reads', () => {
  it("serves the registry in Eureka's shape: arrays always, port objects, the real lease", async () => {
    await using t = await setup();
    const empty = await t.call('GET', '/eureka/apps/');
    assert.equal(empty.status, 200);
    assert.match(empty.headers.get('content-type') ?? '', /application\/json/);
    assert.deepEqual(empty.json.applications.application, []);
    await t.call('POST', '/eureka/apps/ORDERS', instance());
    await t.registry.register({ service: 'billing', instanceId: 'b1', url: 'http://127.0.0.1:9000' });
    const all = (await t.call('GET', '/eureka/apps')).json.applications;
    assert.deepEqual(
      all.application.map((a: { name: string }) => a.name),
      ['BILLING', 'ORDERS'],
    );
    assert.equal(all.apps__hashcode, 'UP_2_');
    const orders = all.application[1].instance;
    assert.ok(Array.isArray(orders) && orders.length === 1, 'instance is an array even for one');
    assert.deepEqual(orders[0].port, { $: 8081, '@enabled': 'true' });
    assert.equal(orders[0].leaseInfo.durationInSecs, 90);
    assert.equal(orders[0].vipAddress, 'orders.vip');
    assert.equal(orders[0].hostName, 'orders-host');
    const native = all.application[0].instance[0];
    assert.deepEqual([native.app, native.ipAddr, native.port.$], ['BILLING', '127.0.0.1', 9000]);

    assert.equal((await t.call('GET', '/eureka/apps/orders')).json.application.instance.length, 1);
    assert.equal((await t.call('GET', '/eureka/apps/NOPE')).status, 404);
    assert.equal((await t.call('GET', '/eureka/vips/orders.vip')).json.applications.application[0].name, 'ORDERS');
    assert.deepEqual((await t.call('GET', '/eureka/vips/none')).json.applications.application, []);
    assert.equal((await t.call('GET', '/eureka/instances/orders-host')).json.instance.app, 'ORDERS');
    assert.equal((await t.call('GET', '/eureka/v2/instances/nobody')).status, 404);
  });

  it("applies the client's leaseInfo.durationInSecs as the instance's lease, capped at the registry TTL", async () => {
    await using t = await setup();
    await t.call('POST', '/eureka/apps/ORDERS', instance({ leaseInfo: { durationInSecs: 30 } }));
    const inst = t.registry.get('orders', 'orders-host')!;
    assert.equal(inst.expiresAt - inst.lastHeartbeat, 30_000);
    assert.equal((await t.call('PUT', '/eureka/apps/ORDERS/orders-host')).status, 200);
    const renewed = t.registry.get('orders', 'orders-host')!;
    assert.equal(renewed.expiresAt - renewed.lastHeartbeat, 30_000);
    const got = await t.call('GET', '/eureka/apps/ORDERS/orders-host');
    assert.equal(got.json.instance.leaseInfo.durationInSecs, 30);
    assert.equal(got.json.instance.leaseInfo.renewalIntervalInSecs, 10);
    await t.call('POST', '/eureka/apps/BILLING', instance({ app: 'BILLING', leaseInfo: { durationInSecs: 900 } }));
    const billing = (await t.call('GET', '/eureka/apps/BILLING')).json.application.instance[0];
    assert.equal(billing.leaseInfo.durationInSecs, 90);
  });

  it('serves deltas with actionType from the registry changes', async () => {
    await using t = await setup();
    await t.call('POST', '/eureka/apps/ORDERS', instance());
    await t.call('POST', '/eureka/apps/ORDERS', instance({ hostName: 'h2', instanceId: 'o2' }));
    await t.call('PUT', '/eureka/apps/ORDERS/o2/status?value=OUT_OF_SERVICE');
    await t.call('DELETE', '/eureka/apps/ORDERS/orders-host');
    const delta = (await t.call('GET', '/eureka/apps/delta')).json.applications;
    const actions = Object.fromEntries(
      delta.application[0].instance.map((i: { instanceId: string; actionType: string }) => [
        i.instanceId,
        i.actionType,
      ]),
    );
    assert.deepEqual(actions, { 'orders-host': 'DELETED', o2: 'MODIFIED' });
    assert.equal(delta.apps__hashcode, 'OUT_OF_SERVICE_1_');
    assert.ok(Number(delta.versions__delta) >= 4);
  });
});

describe('eurekaApi: delta after renewals', () => {
  it('shows an added instance as renewed since, and a deleted one as it was last', async () => {
    const clock = new FakeClock();
    await using t = await setup({}, clock);
    await t.call('POST', '/eureka/apps/ORDERS', instance());
    await t.call('POST', '/eureka/apps/ORDERS', instance({ hostName: 'h2', instanceId: 'o2' }));
    const before = t.registry.get('orders', 'orders-host')!;
    await clock.advance(5);
    assert.equal((await t.call('PUT', '/eureka/apps/ORDERS/orders-host')).status, 200);
    const renewed = t.registry.get('orders', 'orders-host')!;
    assert.ok(renewed.lastHeartbeat > before.lastHeartbeat, 'the renewal moved the heartbeat time');
    const o2 = t.registry.get('orders', 'o2')!;
    await t.call('DELETE', '/eureka/apps/ORDERS/o2');
    const delta = (await t.call('GET', '/eureka/apps/delta')).json.applications;
    const byId = new Map(delta.application[0].instance.map((i: { instanceId: string }) => [i.instanceId, i])) as Map<
      string,
      { actionType: string; leaseInfo: { lastRenewalTimestamp: number } }
    >;
    assert.equal(byId.get('orders-host')?.actionType, 'ADDED');
    assert.equal(byId.get('orders-host')?.leaseInfo.lastRenewalTimestamp, renewed.lastHeartbeat);
    assert.equal(byId.get('o2')?.actionType, 'DELETED');
    assert.equal(byId.get('o2')?.leaseInfo.lastRenewalTimestamp, o2.lastHeartbeat);
    assert.equal(delta.apps__hashcode, 'UP_1_');
  });
});

describe('eurekaApi: ownership', () => {
  it('never changes an instance that was not registered through Eureka (403, unchanged)', async () => {
    await using t = await setup();
    await t.registry.register({ service: 'orders', instanceId: 'orders-host', url: 'http://127.0.0.1:7000' });
    for (const [method, path, body] of [
      ['POST', '/eureka/apps/ORDERS', instance()],
      ['PUT', '/eureka/apps/ORDERS/orders-host', undefined],
      ['DELETE', '/eureka/apps/ORDERS/orders-host', undefined],
      ['PUT', '/eureka/apps/ORDERS/orders-host/status?value=OUT_OF_SERVICE', undefined],
      ['PUT', '/eureka/apps/ORDERS/orders-host/metadata?a=b', undefined],
    ] as const) {
      const r = await t.call(method, path, body);
      assert.equal(r.status, 403, `${method} ${path}`);
      assert.equal(r.json.error.code, 'ERR_FG_NOT_OWNER');
    }
    const inst = t.registry.get('orders', 'orders-host');
    assert.deepEqual([inst?.url, inst?.status, inst?.metadata], ['http://127.0.0.1:7000', 'UP', {}]);
  });
});

describe('eurekaApi: guards', () => {
  it("sits behind the registration API's allow-from and token", async () => {
    {
      await using t = await setup({ allowFrom: ['10.0.0.0/8'] });
      const r = await t.call('POST', '/eureka/apps/ORDERS', instance());
      assert.equal(r.status, 403);
      assert.deepEqual(t.registry.instances(), []);
    }
    await using t = await setup({ token: 's3cret' });
    assert.equal((await t.call('GET', '/eureka/apps/')).status, 401);
    assert.equal((await t.call('POST', '/eureka/apps/ORDERS', instance())).status, 401);
    const basic = `Basic ${Buffer.from('eureka:s3cret').toString('base64')}`;
    assert.equal((await t.call('POST', '/eureka/apps/ORDERS', instance(), { authorization: basic })).status, 204);
    assert.equal((await t.call('GET', '/eureka/apps/', undefined, { authorization: 'Bearer s3cret' })).status, 200);
  });
});
