/**
 * The unmodified eureka-js-client 4.5.0 joins a fleet through the `fleetgate` bin: it registers
 * (default servicePath `/eureka/v2/apps/`, and `/eureka/apps/` as Spring uses), heartbeats,
 * fetches the registry, resolves instances by app and by vipAddress, re-registers after the
 * gateway restarts (heartbeat 404), and deregisters on stop; requests through the gateway reach
 * the Eureka-registered service by name.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Eureka, type EurekaConfig } from 'eureka-js-client';
import { waitFor } from '../lib/conformance/wait-for.js';
import { type GatewayProcess, startGateway } from './support/gateway-process.js';
import { startUpstream, type Upstream } from './support/upstream-service.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function client(gatewayPort: number, app: string, upstream: Upstream, servicePath?: string): Eureka {
  const port = Number(new URL(upstream.url).port);
  const config: EurekaConfig = {
    instance: {
      app,
      hostName: 'localhost',
      ipAddr: '127.0.0.1',
      port: { $: port, '@enabled': 'true' },
      vipAddress: `${app.toLowerCase()}.vip`,
      dataCenterInfo: { '@class': 'com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo', name: 'MyOwn' },
      healthCheckUrl: `${upstream.url}/health`,
      metadata: { team: 'checkout' },
    },
    eureka: {
      host: '127.0.0.1',
      port: gatewayPort,
      heartbeatInterval: 150,
      registryFetchInterval: 150,
      maxRetries: 0,
      ...(servicePath === undefined ? {} : { servicePath }),
    },
    logger: quiet,
  };
  return new Eureka(config);
}

const start = (c: Eureka) => new Promise<void>((resolve, reject) => c.start((err) => (err ? reject(err) : resolve())));
const stop = (c: Eureka) => new Promise<void>((resolve) => c.stop(() => resolve()));

async function services(
  gateway: GatewayProcess,
): Promise<Record<string, { instances: { metadata: { origin?: string } }[] }>> {
  const res = await fetch(`${gateway.url}/internal/services`);
  return ((await res.json()) as { services: Record<string, { instances: { metadata: { origin?: string } }[] }> })
    .services;
}

describe('eureka-js-client 4.5.0 through the fleetgate bin', () => {
  let gateway: GatewayProcess & { url: string; port: number };
  let orders: Upstream;
  let billing: Upstream;
  before(async () => {
    gateway = await startGateway({ HEALTH_CHECK_INTERVAL: '200ms' });
    orders = await startUpstream('orders');
    billing = await startUpstream('billing');
  });
  after(async () => {
    await gateway?.stop();
    await orders?.close();
    await billing?.close();
  });

  it('registers, heartbeats, discovers by app and vip, routes, survives a gateway restart, deregisters', async () => {
    const a = client(gateway.port, 'ORDERS', orders); // default servicePath /eureka/v2/apps/
    const b = client(gateway.port, 'BILLING', billing, '/eureka/apps/');
    let heartbeats = 0;
    a.on('heartbeat', () => heartbeats++);
    try {
      await start(a);
      await start(b);
      const listed = await services(gateway);
      assert.equal(listed.orders?.instances[0]?.metadata.origin, 'eureka', '/internal/services shows the origin');
      assert.equal(listed.billing?.instances.length, 1);
      const health = (await (await fetch(`${gateway.url}/health`)).json()) as {
        services: Record<string, { instances: { origin?: string }[] }>;
      };
      assert.equal(health.services.orders?.instances[0]?.origin, 'eureka', '/health shows the origin');

      await waitFor(() => a.getInstancesByAppId('BILLING').length === 1, { description: 'ORDERS to see BILLING' });
      assert.equal(a.getInstancesByAppId('ORDERS')[0]?.hostName, 'localhost');
      assert.equal(b.getInstancesByVipAddress('orders.vip').length, 1);
      await waitFor(() => heartbeats >= 2, { description: 'two heartbeats' });

      const routed = await fetch(`${gateway.url}/orders/hello`);
      assert.equal(routed.status, 200);
      assert.deepEqual(await routed.json(), { upstream: 'orders', method: 'GET', path: '/hello' });

      // The gateway restarts on the same port with an empty in-memory registry: the next
      // heartbeat gets 404 and the client registers again, unchanged.
      const port = gateway.port;
      await gateway.stop();
      gateway = await startGateway({ PORT: String(port), HEALTH_CHECK_INTERVAL: '200ms' });
      await waitFor(async () => (await services(gateway)).orders?.instances.length === 1, {
        timeoutMs: 10_000,
        description: 'ORDERS to re-register after the restart',
      });
      assert.equal((await fetch(`${gateway.url}/orders/again`)).status, 200);
    } finally {
      await stop(a);
      await stop(b);
    }
    const after = await services(gateway);
    assert.equal(after.orders, undefined, 'deregistered on stop');
    assert.equal(after.billing, undefined, 'deregistered on stop');
  });
});
