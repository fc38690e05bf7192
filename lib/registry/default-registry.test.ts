/**
 * The process-wide default registry: zero-argument middlewares share one, it is created once
 * (and again after a failed creation), and the last lease given back closes it once.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { healthAggregator } from '../health/health-aggregator.js';
import { compose } from '../http/compose.js';
import { discoveryProxy } from '../proxy/discovery-proxy.js';
import { closeDefaultRegistry, defaultRegistry, leaseDefaultRegistry } from './default-registry.js';
import { registry } from './http/registry-router.js';

const register = (reg: Awaited<ReturnType<typeof defaultRegistry>>) =>
  reg.register({ service: 'a', url: 'http://127.0.0.1:9', routes: [{ method: 'GET', path: '/a' }] });

describe('default registry', () => {
  afterEach(() => closeDefaultRegistry());

  it('is one registry for every lease, created once', async () => {
    const one = leaseDefaultRegistry();
    const two = leaseDefaultRegistry();
    const [a, b] = await Promise.all([one.get(), two.get()]);
    assert.equal(a, b);
    assert.equal(await defaultRegistry(), a);
    assert.equal(one.peek(), a);
    await one.release();
    await one.release(); // idempotent: does not count twice
    await register(a); // still open: the second lease holds it
    await two.release();
    await assert.rejects(register(a), { code: 'ERR_FG_CLOSED' });
    const three = leaseDefaultRegistry();
    const c = await three.get();
    assert.notEqual(c, a, 'a new registry after the last lease closed the old one');
    await three.release();
  });

  it('tries again after a failed creation', async () => {
    const saved = process.env.REGISTRY_TYPE;
    const lease = leaseDefaultRegistry();
    try {
      process.env.REGISTRY_TYPE = 'BOGUS';
      await assert.rejects(lease.get(), { code: 'ERR_FG_INVALID_CONFIG' });
      process.env.REGISTRY_TYPE = 'INMEMORY';
      assert.ok(await lease.get());
    } finally {
      if (saved === undefined) delete process.env.REGISTRY_TYPE;
      else process.env.REGISTRY_TYPE = saved;
      await lease.release();
    }
  });

  it('zero-argument registry(), healthAggregator() and discoveryProxy() share it', async () => {
    const upstream = createServer((_req, res) => res.end('from a'));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const api = registry();
    const health = healthAggregator();
    const proxy = discoveryProxy();
    const server = createServer(compose([api, health, proxy]));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const empty = await fetch(`${base}/health`);
      assert.equal(empty.status, 200);
      const reg = await fetch(`${base}/internal/register-service`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ service: 'a', url: upstreamUrl, routes: [{ method: 'GET', path: '/a' }] }),
      });
      assert.equal(reg.status, 200);
      const res = await fetch(`${base}/a`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'from a');
      const report = (await (await fetch(`${base}/health`)).json()) as { services: object };
      assert.deepEqual(Object.keys(report.services), ['a']);
      assert.equal(proxy.registry, await defaultRegistry());
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      upstream.closeAllConnections();
      await new Promise((resolve) => upstream.close(resolve));
      const shared = await defaultRegistry();
      await proxy.close();
      await api.close();
      await register(shared); // the health middleware's lease still holds it
      await health.close();
      await assert.rejects(register(shared), { code: 'ERR_FG_CLOSED' });
    }
  });

  it('healthAggregator() refuses a registry option that is not one, with a coded error', () => {
    assert.throws(() => healthAggregator({ registry: {} as never }), { code: 'ERR_FG_INVALID_CONFIG' });
    assert.throws(() => healthAggregator({ registry: null as never }), { code: 'ERR_FG_INVALID_CONFIG' });
  });
});
