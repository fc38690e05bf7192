import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { FakeClock } from '../clock.js';
import { MemoryBackend } from '../registry/backends/memory.js';
import type { ServiceInstance } from '../registry/model.js';
import { Registry } from '../registry/registry.js';
import type { RegistryApi, RegistryHealth } from '../registry/registry-api.js';
import {
  buildHealthReport,
  HEALTH_AGGREGATOR_DEFAULTS,
  type HealthReport,
  healthAggregator,
} from './health-aggregator.js';
import { HealthChecker } from './health-checker.js';
import type { Probe } from './probes.js';

const T0 = Date.UTC(2025, 10, 14, 20, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();

async function get(handler: ReturnType<typeof healthAggregator>, path = '/health') {
  const server = createServer((req, res) => handler(req, res, () => res.writeHead(404).end()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`);
    return {
      status: res.status,
      headers: res.headers,
      body: res.status === 404 ? undefined : ((await res.json()) as HealthReport),
    };
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** A registry stub for the status matrix: only health() and instances() are read. */
function stub(health: Partial<RegistryHealth>, statuses: Record<string, ServiceInstance['status'][]>): RegistryApi {
  const instances: ServiceInstance[] = [];
  for (const [service, list] of Object.entries(statuses)) {
    for (const [i, status] of list.entries()) {
      instances.push({
        service,
        instanceId: `${service}-${i}`,
        url: `http://${service}-${i}`,
        routes: [],
        weight: 1,
        metadata: {},
        registeredAt: T0,
        lastHeartbeat: T0,
        expiresAt: T0 + 90_000,
        status,
        epoch: 1,
      });
    }
  }
  const h: RegistryHealth = {
    type: 'REDIS',
    connected: true,
    selfPreservation: { active: false, preserved: 0 },
    ...health,
  };
  return { health: () => h, instances: () => instances } as unknown as RegistryApi;
}

describe('healthAggregator', () => {
  it('reports a fleet with one UP and one DOWN service in full', async () => {
    const clock = new FakeClock(T0);
    const ttlMs = 3_600_000; // no lease expires during the test
    await using registry = new Registry({ backend: new MemoryBackend({ clock }), clock, ttlMs, ownsBackend: true });
    await registry.ready();
    await registry.register({
      service: 'sagjan',
      instanceId: 's1',
      url: 'http://127.0.0.1:7812',
      healthEndpoint: '/health',
    });
    await registry.register({
      service: 'sagjan',
      instanceId: 's2',
      url: 'http://127.0.0.1:7813',
      healthEndpoint: '/health',
    });
    await registry.register({
      service: 'obr',
      instanceId: 'o1',
      url: 'http://127.0.0.1:7900',
      healthEndpoint: '/health',
    });
    const down = new Set(['http://127.0.0.1:7900']);
    const probe: Probe = async (t) =>
      down.has(t.url)
        ? { healthy: false, responseTimeMs: 2, error: 'ECONNREFUSED' }
        : { healthy: true, responseTimeMs: t.url.endsWith('12') ? 5 : 7 };
    let n = 0;
    // s1 probes at +0 s, s2 at +10 s, o1 at +20 s (jitter in order of registration).
    await using checker = new HealthChecker({
      registry,
      clock,
      probe,
      random: () => [0, 1 / 3, 2 / 3][n++ % 3] as number,
    });
    checker.start();
    await clock.advance(80_000); // o1 fails at +20, +50, +80 s → DOWN; s1 last at +60 s, s2 last at +70 s
    assert.equal(registry.get('obr', 'o1')?.status, 'DOWN');

    const { status, headers, body } = await get(healthAggregator({ registry, checker, version: '1.2.3' }));
    assert.equal(status, 200);
    assert.equal(headers.get('cache-control'), 'no-store');
    assert.deepEqual(body, {
      status: 'degraded',
      service: 'fleetgate',
      version: '1.2.3',
      registry: { type: 'INMEMORY', connected: true, self_preservation: false },
      services: {
        obr: {
          status: 'DOWN',
          url: 'http://127.0.0.1:7900',
          last_ping: iso(T0 + 80_000),
          response_time_ms: 2,
          consecutive_failures: 3,
          instances: [
            {
              instance_id: 'o1',
              url: 'http://127.0.0.1:7900',
              status: 'DOWN',
              last_ping: iso(T0 + 80_000),
              response_time_ms: 2,
              consecutive_failures: 3,
              last_heartbeat: iso(T0),
              expires_at: iso(T0 + ttlMs),
            },
          ],
        },
        sagjan: {
          status: 'UP',
          url: 'http://127.0.0.1:7813',
          last_ping: iso(T0 + 70_000),
          response_time_ms: 7,
          consecutive_failures: 0,
          instances: [
            {
              instance_id: 's1',
              url: 'http://127.0.0.1:7812',
              status: 'UP',
              last_ping: iso(T0 + 60_000),
              response_time_ms: 5,
              consecutive_failures: 0,
              last_heartbeat: iso(T0),
              expires_at: iso(T0 + ttlMs),
            },
            {
              instance_id: 's2',
              url: 'http://127.0.0.1:7813',
              status: 'UP',
              last_ping: iso(T0 + 70_000),
              response_time_ms: 7,
              consecutive_failures: 0,
              last_heartbeat: iso(T0),
              expires_at: iso(T0 + ttlMs),
            },
          ],
        },
      },
    });

    // Everything DOWN → unhealthy in the body, but still 200: the gateway answering works (furt, #13).
    down.add('http://127.0.0.1:7812').add('http://127.0.0.1:7813');
    await clock.advance(90_000);
    const all = await get(healthAggregator({ registry, checker }));
    assert.equal(all.status, 200);
    assert.equal(all.body?.status, 'unhealthy');
    assert.equal(all.body?.version, undefined);
  });

  it('without a checker, probe fields are null/0 and UNKNOWN counts as UP', async () => {
    const report = buildHealthReport({ registry: stub({}, { a: ['UNKNOWN'], b: ['DRAINING', 'UP'] }) });
    assert.equal(report.status, 'healthy');
    assert.deepEqual(report.services.a, {
      status: 'UP',
      url: 'http://a-0',
      last_ping: null,
      response_time_ms: null,
      consecutive_failures: 0,
      instances: [
        {
          instance_id: 'a-0',
          url: 'http://a-0',
          status: 'UNKNOWN',
          last_ping: null,
          response_time_ms: null,
          consecutive_failures: 0,
          last_heartbeat: iso(T0),
          expires_at: iso(T0 + 90_000),
        },
      ],
    });
    assert.equal(report.services.b?.url, 'http://b-1', 'the routable instance represents the service');
  });

  it('derives the overall status from the store, self-preservation and services', () => {
    const overall = (h: Partial<RegistryHealth>, s: Record<string, ServiceInstance['status'][]>) =>
      buildHealthReport({ registry: stub(h, s) }).status;
    const preserving = { selfPreservation: { active: true, reason: '6 of 10 expired in one sweep', preserved: 6 } };
    assert.equal(overall({}, {}), 'healthy', 'an empty connected fleet');
    assert.equal(overall({}, { a: ['UP'], b: ['DOWN'] }), 'degraded');
    assert.equal(overall({}, { a: ['DOWN'], b: ['DRAINING'] }), 'unhealthy');
    assert.equal(overall({ connected: false }, {}), 'unhealthy', 'no store and nothing known');
    assert.equal(overall({ connected: false }, { a: ['UP'] }), 'degraded', 'serving the last-known state');
    assert.equal(overall(preserving, { a: ['UP'] }), 'degraded');
    assert.deepEqual(
      buildHealthReport({
        registry: stub({ ...preserving, connected: false, degradedReason: 'REDIS store disconnected' }, { a: ['UP'] }),
      }).registry,
      {
        type: 'REDIS',
        connected: false,
        self_preservation: true,
        self_preservation_reason: '6 of 10 expired in one sweep',
        degraded_reason: 'REDIS store disconnected',
      },
    );
  });

  it('answers only GET/HEAD on its path', async () => {
    const handler = healthAggregator({
      registry: stub({ connected: false }, {}),
      path: '/status',
      serviceName: 'edge',
    });
    const res = await get(handler, '/status?verbose');
    assert.equal(res.status, 200);
    assert.equal(res.body?.status, 'unhealthy');
    assert.equal(res.body?.service, 'edge');
    assert.equal((await get(handler, '/health')).status, 404);
    assert.ok(Object.isFrozen(HEALTH_AGGREGATOR_DEFAULTS));
  });

  it('gives outside callers the overall and per-service status only', async () => {
    const registry = stub({}, { a: ['UP', 'DOWN'], b: ['DOWN'] });
    const handler = healthAggregator({ registry, version: '1.2.3', fullReportFor: () => false });
    const res = await get(handler);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      status: 'degraded',
      service: 'fleetgate',
      services: { a: { status: 'UP' }, b: { status: 'DOWN' } },
    });
    const text = JSON.stringify(res.body);
    for (const secret of ['http://', 'a-0', 'instance', 'weight', 'REDIS', '1.2.3']) assert.ok(!text.includes(secret));
    const full = await get(healthAggregator({ registry, fullReportFor: (req) => req.headers['x-admin'] === 'yes' }));
    assert.equal(full.body?.services.a?.instances, undefined, 'no x-admin header: redacted');
  });

  it('reports panic mode only when it is on', () => {
    const registry = stub({}, { a: ['UP', 'DOWN', 'DOWN'], b: ['UP'] });
    const off = buildHealthReport({ registry });
    assert.equal(off.routing, undefined);
    assert.equal(off.services.a?.panic, undefined);
    const on = buildHealthReport({ registry, panicThreshold: 0.5 });
    assert.deepEqual(on.routing, { panic_threshold: 0.5 });
    assert.equal(on.services.a?.panic, true);
    assert.equal(on.services.b?.panic, false);
  });
});
