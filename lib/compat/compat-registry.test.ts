/**
 * Zero-argument eurekaApi() and consulApi() translate onto the process-wide default registry
 * that registry() and discoveryProxy() share; a `registry` option still wins; a refused caller
 * creates nothing; closing gives the lease back.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { compose } from '../http/compose.js';
import { discoveryProxy } from '../proxy/discovery-proxy.js';
import { MemoryBackend } from '../registry/backends/memory.js';
import { closeDefaultRegistry, defaultRegistry, leaseDefaultRegistry } from '../registry/default-registry.js';
import { registry } from '../registry/http/registry-router.js';
import { Registry } from '../registry/registry.js';
import { echoUpstream, listen, type TestServer } from '../test-support/http-test-kit.js';
import { bindRegistry } from './compat-registry.js';
import { consulApi } from './consul/consul-api.js';
import { eurekaApi } from './eureka/eureka-api.js';

const eurekaBody = (port: number) => ({
  instance: {
    app: 'ORDERS',
    hostName: 'orders-host',
    ipAddr: '127.0.0.1',
    port: { $: port, '@enabled': 'true' },
    dataCenterInfo: { '@class': 'com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo', name: 'MyOwn' },
  },
});

/** A test server that `await using` closes. */
async function served(started: Promise<TestServer>): Promise<TestServer & AsyncDisposable> {
  const t = await started;
  return Object.assign(t, { [Symbol.asyncDispose]: () => t.close() });
}

describe('compat APIs without a registry option', () => {
  afterEach(() => closeDefaultRegistry());

  it('eurekaApi() and consulApi() register into the default registry that discoveryProxy() routes from', async () => {
    await using orders = await served(echoUpstream('orders'));
    await using web = await served(echoUpstream('web'));
    const eureka = eurekaApi();
    const consul = consulApi();
    const api = registry();
    const proxy = discoveryProxy();
    await using gateway = await served(listen(compose([api, eureka, consul, proxy])));
    try {
      const port = (url: string) => Number(new URL(url).port);
      const e = await fetch(`${gateway.url}/eureka/apps/ORDERS`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(eurekaBody(port(orders.url))),
      });
      assert.equal(e.status, 204);
      const c = await fetch(`${gateway.url}/v1/agent/service/register`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ID: 'web-1', Name: 'web', Address: '127.0.0.1', Port: port(web.url) }),
      });
      assert.equal(c.status, 200);
      const shared = await defaultRegistry();
      assert.deepEqual(shared.services().sort(), ['orders', 'web']);
      // Routed by name through the zero-argument proxy: one registry, not three.
      const viaProxy = await fetch(`${gateway.url}/orders/x`);
      assert.equal(viaProxy.status, 200);
      assert.equal(((await viaProxy.json()) as { name: string }).name, 'orders');
      const viaWeb = await fetch(`${gateway.url}/web/y`);
      assert.equal(viaWeb.status, 200);
      const listed = (await (await fetch(`${gateway.url}/v1/catalog/services`)).json()) as Record<string, unknown>;
      assert.deepEqual(Object.keys(listed).sort(), ['orders', 'web']);
    } finally {
      const shared = await defaultRegistry();
      await eureka.close();
      await consul.close();
      await api.close();
      await eureka.close(); // idempotent: does not give a lease back twice
      assert.ok(shared.instances().length > 0, 'still open: the proxy holds a lease');
      await proxy.close();
      await assert.rejects(
        shared.register({ service: 'z', url: 'http://127.0.0.1:9' }),
        { code: 'ERR_FG_CLOSED' },
        'the last lease closed it',
      );
    }
  });

  it('a caller refused by allowFrom creates no registry and gets 403', async () => {
    const eureka = eurekaApi({ allowFrom: ['10.0.0.0/8'] });
    const consul = consulApi({ allowFrom: ['10.0.0.0/8'] });
    await using gateway = await served(listen(compose([eureka, consul])));
    // A lease held here only to look: peek() says whether the default registry was ever built.
    const probe = leaseDefaultRegistry();
    try {
      assert.equal((await fetch(`${gateway.url}/eureka/apps`)).status, 403);
      assert.equal((await fetch(`${gateway.url}/v1/catalog/services`)).status, 403);
      assert.equal(probe.peek(), undefined);
    } finally {
      await eureka.close();
      await consul.close();
      await probe.release();
    }
  });

  it('a registry option still wins over the default one', async () => {
    await using own = new Registry({ backend: new MemoryBackend(), ownsBackend: true });
    await own.ready();
    const eureka = eurekaApi({ registry: own });
    const consul = consulApi({ registry: own });
    await using gateway = await served(listen(compose([eureka, consul])));
    try {
      const c = await fetch(`${gateway.url}/v1/agent/service/register`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ID: 'web-1', Name: 'web', Address: '127.0.0.1', Port: 3000 }),
      });
      assert.equal(c.status, 200);
      assert.deepEqual(own.services(), ['web']);
      const probe = leaseDefaultRegistry();
      assert.equal(probe.peek(), undefined, 'the default registry was never built');
      await probe.release();
    } finally {
      await eureka.close();
      await consul.close();
    }
  });

  it('answers 503 ERR_FG_CLOSED after close, and ready() resolves once the registry exists', async () => {
    const consul = consulApi();
    await consul.ready();
    const probe = leaseDefaultRegistry();
    assert.ok(probe.peek() !== undefined);
    await probe.release();
    await consul.close();
    await using gateway = await served(listen(consul));
    const res = await fetch(`${gateway.url}/v1/catalog/services`);
    assert.equal(res.status, 503);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'ERR_FG_CLOSED');
    const bound = bindRegistry(
      undefined,
      () => ({ close() {} }),
      () => new Error('closed'),
    );
    await bound.close();
    await assert.rejects(bound.get(), /closed/);
  });
});
