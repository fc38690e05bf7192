/**
 * The unmodified `consul` 2.0.1 npm client against the `fleetgate` bin: a service registers with
 * a TTL check (critical until its first pass), passes it, shows in `health.service({ passing:
 * true })`, a `watch` on `health.service` fires promptly on a registration (blocking query woken
 * by the registry's change), requests reach it through the gateway, and it deregisters.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Consul from 'consul';
import { waitFor } from '../lib/conformance/wait-for.js';
import { type GatewayProcess, startGateway } from './support/gateway-process.js';
import { startUpstream, type Upstream } from './support/upstream-service.js';

type HealthEntry = { Service: { ID: string; Port: number }; Checks: { Status: string }[] };

describe('consul 2.0.1 through the fleetgate bin', () => {
  let gateway: GatewayProcess & { url: string; port: number };
  let web: Upstream;
  before(async () => {
    gateway = await startGateway();
    web = await startUpstream('web');
  });
  after(async () => {
    await gateway?.stop();
    await web?.close();
  });

  it('registers with a TTL check, passes it, is discovered and watched, routes, deregisters', async (t) => {
    const consul = new Consul({ host: '127.0.0.1', port: gateway.port });
    const port = Number(new URL(web.url).port);
    const changes: { at: number; entries: HealthEntry[] }[] = [];
    const watch = consul.watch({ method: consul.health.service, options: { service: 'web', wait: '30s' } });
    watch.on('change', (data: HealthEntry[]) => changes.push({ at: performance.now(), entries: data }));
    watch.on('error', () => {});
    try {
      await waitFor(() => changes.length >= 1, { description: 'the first watch answer' });
      assert.deepEqual(changes[0]?.entries, []);

      await consul.agent.service.register({
        id: 'web-1',
        name: 'web',
        address: '127.0.0.1',
        port,
        tags: ['v1'],
        // The typings ask for a timeout on every check; a TTL check ignores it.
        check: { name: 'web ttl', ttl: '30s', timeout: '1s', deregistercriticalserviceafter: '1m' },
      });
      const registeredAt = performance.now(); // the registration has been answered
      const seen = await waitFor(() => changes.find((c) => c.entries.length === 1), {
        description: 'the watch to see the registration',
      });
      const latency = Math.max(0, seen.at - registeredAt);
      t.diagnostic(`watch fired ${latency.toFixed(1)} ms after the registration was answered`);
      assert.ok(latency <= 100, `watch fired within 100 ms (took ${latency.toFixed(1)} ms)`);

      const before = (await consul.health.service({ service: 'web', passing: true })) as HealthEntry[];
      assert.deepEqual(before, [], 'a TTL check is critical until its first pass');
      await consul.agent.check.pass('service:web-1');
      const passing = (await consul.health.service({ service: 'web', passing: true })) as HealthEntry[];
      assert.deepEqual(
        passing.map((e) => [e.Service.ID, e.Service.Port, e.Checks[0]?.Status]),
        [['web-1', port, 'passing']],
      );
      const catalog = (await consul.catalog.service.list()) as Record<string, string[]>;
      assert.deepEqual(catalog.web, ['v1']);

      const routed = await fetch(`${gateway.url}/web/hello`);
      assert.equal(routed.status, 200);
      assert.deepEqual(await routed.json(), { upstream: 'web', method: 'GET', path: '/hello' });

      const listed = (await (await fetch(`${gateway.url}/internal/services`)).json()) as {
        services: Record<string, { instances: { metadata: { origin?: string } }[] }>;
      };
      assert.equal(listed.services.web?.instances[0]?.metadata.origin, 'consul');
      const health = (await (await fetch(`${gateway.url}/health`)).json()) as {
        services: Record<string, { instances: { origin?: string }[] }>;
      };
      assert.equal(health.services.web?.instances[0]?.origin, 'consul', '/health shows the origin');

      await consul.agent.service.deregister('web-1');
      assert.deepEqual(await consul.health.service('web'), []);
    } finally {
      watch.end();
    }
  });
});
