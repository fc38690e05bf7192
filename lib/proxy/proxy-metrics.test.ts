/**
 * The proxy feeds its metrics sink where things happen: a retry on another instance (by the
 * failure that caused it), a breaker opening (and its series leaving with the instance), and a
 * Via loop refused with 508. Real upstreams on loopback; the sink is createMetrics() itself.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMetrics } from '../telemetry/metrics.js';
import { echoUpstream, listen, memoryRegistry, registerInstance } from '../test-support/http-test-kit.js';
import { discoveryProxy } from './discovery-proxy.js';

function samples(text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

describe('discoveryProxy metrics hooks', () => {
  it('counts retries by reason, breaker states and loops, and drops a breaker series with its instance', async () => {
    const registry = await memoryRegistry();
    const live = await echoUpstream('live');
    const dead = await listen(() => {});
    const deadUrl = dead.url;
    await dead.close(); // a port that refuses connections
    const metrics = createMetrics({ registry });
    const proxy = discoveryProxy({
      registry,
      metrics,
      gatewayId: 'gw-metrics-test',
      maxHops: 3,
      breaker: { consecutiveFailures: 1 },
      retries: { attempts: 1 },
    });
    const gateway = await listen((req, res) => proxy(req, res));
    try {
      const routes = [{ method: 'GET', path: '/api/items/:id' }];
      await registerInstance(registry, 'items', deadUrl, routes, { instanceId: 'dead' });
      await registerInstance(registry, 'items', live.url, routes, { instanceId: 'live' });
      // Round-robin over both: a request that picks the dead one first is retried on the live one.
      for (let i = 0; i < 4; i++) {
        const res = await fetch(`${gateway.url}/api/items/${i}`);
        assert.equal(res.status, 200);
        await res.arrayBuffer();
      }
      const own = await fetch(`${gateway.url}/api/items/1`, { headers: { via: '1.1 gw-metrics-test' } });
      assert.equal(own.status, 508);
      const far = await fetch(`${gateway.url}/api/items/1`, { headers: { via: '1.1 a, 1.1 b, 1.1 c' } });
      assert.equal(far.status, 508);
      let text = await metrics.metrics();
      assert.deepEqual(samples(text, 'fleetgate_retries_total'), [
        'fleetgate_retries_total{service="items",reason="connect"} 1',
      ]);
      assert.deepEqual(samples(text, 'fleetgate_breaker_state'), [
        'fleetgate_breaker_state{service="items",instance="dead"} 1',
      ]);
      assert.deepEqual(samples(text, 'fleetgate_breaker_transitions_total'), [
        'fleetgate_breaker_transitions_total{service="items",to="open"} 1',
      ]);
      assert.deepEqual(samples(text, 'fleetgate_loops_detected_total'), [
        'fleetgate_loops_detected_total{kind="own_via"} 1',
        'fleetgate_loops_detected_total{kind="max_hops"} 1',
      ]);
      assert.ok(
        text.includes('fleetgate_requests_total{service="items",route="/api/items/:id",status="508"} 2'),
        'refusals are requests of their route',
      );
      assert.ok(
        text.includes('fleetgate_route_upstream_duration_seconds_count{service="items",route="/api/items/:id"} 4'),
      );
      await registry.deregister('items', 'dead');
      text = await metrics.metrics();
      assert.deepEqual(samples(text, 'fleetgate_breaker_state'), [], 'the series left with the instance');
    } finally {
      await gateway.close();
      await proxy.close();
      await metrics.close();
      await live.close();
      await registry.close();
    }
  });
});
