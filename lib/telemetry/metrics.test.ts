import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { register as globalRegister } from 'prom-client';
import { FakeClock } from '../clock.js';
import { MemoryBackend } from '../registry/backends/memory.js';
import { closeDefaultRegistry, leaseDefaultRegistry, peekDefaultRegistry } from '../registry/default-registry.js';
import { Registry } from '../registry/registry.js';
import type { WebSocketLiveCounts } from '../websocket/websocket-metrics-sink.js';
import { createMetrics, METRICS_DEFAULTS } from './metrics.js';

/** The sample lines of one metric, without HELP/TYPE. */
function samples(text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

describe('createMetrics', () => {
  it('records proxy requests, upstream durations, transitions, rate-limit decisions and registry events', async () => {
    const clock = new FakeClock(0);
    await using registry = new Registry({ backend: new MemoryBackend({ clock }), clock, ownsBackend: true });
    await registry.ready();
    const checker = new EventEmitter();
    await using metrics = createMetrics({ registry, checker });
    await registry.register({ service: 'sagjan', instanceId: 'a', url: 'http://127.0.0.1:1' });
    await registry.register({ service: 'sagjan', instanceId: 'b', url: 'http://127.0.0.1:2' });
    await registry.register({ service: 'obr', instanceId: 'c', url: 'http://127.0.0.1:3' });
    await registry.setStatus('obr', 'c', 'DOWN');
    await clock.advance(1000); // a heartbeat that changes nothing is not an event
    await registry.heartbeat('sagjan', 'a');
    metrics.recordProxyRequest({
      service: 'sagjan',
      route: '/api/comments/*',
      status: 200,
      durationMs: 4,
      instanceId: 'a',
    });
    metrics.recordProxyRequest({ service: 'sagjan', route: '/api/comments/*', status: 200, durationMs: 30 });
    metrics.recordProxyRequest({ service: '-', route: '-', status: 404 });
    checker.emit('transition', { service: 'obr', instanceId: 'c', from: 'UP', to: 'DOWN' });
    metrics.recordRateLimitDecision('allowed');
    metrics.recordRateLimitDecision('limited');
    metrics.recordRateLimitDecision('allowed');

    const text = await metrics.metrics();
    assert.deepEqual(samples(text, 'fleetgate_requests_total'), [
      'fleetgate_requests_total{service="sagjan",route="/api/comments/*",status="200"} 2',
      'fleetgate_requests_total{service="-",route="-",status="404"} 1',
    ]);
    assert.ok(text.includes('fleetgate_upstream_duration_seconds_bucket{le="0.005",service="sagjan"} 1'));
    assert.ok(text.includes('fleetgate_upstream_duration_seconds_bucket{le="0.05",service="sagjan"} 2'));
    assert.ok(text.includes('fleetgate_upstream_duration_seconds_count{service="sagjan"} 2'));
    assert.deepEqual(samples(text, 'fleetgate_instances'), [
      'fleetgate_instances{service="sagjan",status="UP"} 2',
      'fleetgate_instances{service="sagjan",status="DOWN"} 0',
      'fleetgate_instances{service="sagjan",status="UNKNOWN"} 0',
      'fleetgate_instances{service="sagjan",status="DRAINING"} 0',
      'fleetgate_instances{service="obr",status="UP"} 0',
      'fleetgate_instances{service="obr",status="DOWN"} 1',
      'fleetgate_instances{service="obr",status="UNKNOWN"} 0',
      'fleetgate_instances{service="obr",status="DRAINING"} 0',
    ]);
    assert.deepEqual(samples(text, 'fleetgate_health_transitions_total'), [
      'fleetgate_health_transitions_total{service="obr",from="UP",to="DOWN"} 1',
    ]);
    assert.deepEqual(samples(text, 'fleetgate_ratelimit_decisions_total'), [
      'fleetgate_ratelimit_decisions_total{decision="allowed"} 2',
      'fleetgate_ratelimit_decisions_total{decision="limited"} 1',
    ]);
    assert.deepEqual(samples(text, 'fleetgate_registry_events_total'), [
      'fleetgate_registry_events_total{type="register"} 3',
      'fleetgate_registry_events_total{type="status"} 1',
      'fleetgate_registry_events_total{type="heartbeat"} 1',
    ]);
    // Its own registry: nothing leaks into prom-client's global one.
    assert.equal((await globalRegister.metrics()).includes('fleetgate_'), false);

    // Instance counts are read at scrape time.
    await registry.deregister('obr', 'c');
    assert.deepEqual(samples(await metrics.metrics(), 'fleetgate_instances').length, 4);
    await metrics.close();
    await registry.register({ service: 'obr', instanceId: 'd', url: 'http://127.0.0.1:4' });
    assert.ok((await metrics.metrics()).includes('fleetgate_registry_events_total{type="register"} 3'), 'detached');
  });

  it('two instances in one process do not collide', async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.recordRateLimitDecision('allowed');
    assert.equal(samples(await b.metrics(), 'fleetgate_ratelimit_decisions_total').length, 0);
    assert.ok(Object.isFrozen(METRICS_DEFAULTS));
  });

  it('serves GET /metrics and passes other requests on', async () => {
    const metrics = createMetrics({ path: '/metrics' });
    metrics.recordRateLimitDecision('limited');
    const handler = metrics.handler();
    const server = createServer((req, res) => handler(req, res, () => res.writeHead(404).end('next')));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const res = await fetch(`${base}/metrics?x=1`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      assert.ok((await res.text()).includes('fleetgate_ratelimit_decisions_total{decision="limited"} 1'));
      assert.equal((await fetch(`${base}/other`)).status, 404);
      assert.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 404);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('createMetrics: the series of issue 18', () => {
  it('observes latency per route pattern, and caps the (service, route) pairs under route="(other)"', async () => {
    const metrics = createMetrics({ maxRouteSeries: 2 });
    metrics.recordProxyRequest({ service: 'orders', route: '/api/orders/:id', status: 200, durationMs: 3 });
    metrics.recordProxyRequest({ service: 'orders', route: '/api/orders/:id', status: 503, durationMs: 700 });
    metrics.recordProxyRequest({ service: 'orders', route: '/api/orders', status: 200, durationMs: 20 });
    metrics.recordProxyRequest({ service: 'orders', route: '/api/a', status: 200, durationMs: 1 });
    metrics.recordProxyRequest({ service: 'orders', route: '/api/b', status: 200, durationMs: 1 });
    const text = await metrics.metrics();
    assert.deepEqual(samples(text, 'fleetgate_route_upstream_duration_seconds_count'), [
      'fleetgate_route_upstream_duration_seconds_count{service="orders",route="/api/orders/:id"} 2',
      'fleetgate_route_upstream_duration_seconds_count{service="orders",route="/api/orders"} 1',
      'fleetgate_route_upstream_duration_seconds_count{service="orders",route="(other)"} 2',
    ]);
    assert.ok(
      text.includes(
        'fleetgate_route_upstream_duration_seconds_bucket{le="0.005",service="orders",route="/api/orders/:id"} 1',
      ),
    );
    assert.ok(
      text.includes(
        'fleetgate_route_upstream_duration_seconds_bucket{le="+Inf",service="orders",route="/api/orders/:id"} 2',
      ),
    );
    assert.ok(
      text.includes('fleetgate_route_upstream_duration_seconds_sum{service="orders",route="/api/orders/:id"} 0.703'),
    );
    assert.ok(text.includes('fleetgate_upstream_duration_seconds_count{service="orders"} 5'));
    assert.ok(text.includes('fleetgate_requests_total{service="orders",route="(other)",status="200"} 2'));
    assert.ok(text.includes('# TYPE fleetgate_route_upstream_duration_seconds histogram'));
    assert.ok(text.includes('# TYPE fleetgate_requests_total counter'));
    assert.throws(() => createMetrics({ maxRouteSeries: 0 }), { code: 'ERR_FG_INVALID_CONFIG' });
  });

  it('counts WebSocket messages and re-pins, and reads connections, pins and clients from every source at scrape time', async () => {
    const metrics = createMetrics();
    metrics.recordWsMessage('to_service', 'chat');
    metrics.recordWsMessage('to_service', 'chat');
    metrics.recordWsMessage('to_client', 'chat');
    metrics.recordWsRepin('chat');
    let live: WebSocketLiveCounts = { clients: 2, connections: { chat: 3, feed: 1 }, pins: { chat: 2 } };
    const removeA = metrics.addWebSocketSource(() => live);
    metrics.addWebSocketSource(() => ({ clients: 1, connections: { chat: 1 }, pins: {} }));
    let text = await metrics.metrics();
    assert.deepEqual(samples(text, 'fleetgate_ws_messages_total'), [
      'fleetgate_ws_messages_total{direction="to_service",service="chat"} 2',
      'fleetgate_ws_messages_total{direction="to_client",service="chat"} 1',
    ]);
    assert.deepEqual(samples(text, 'fleetgate_ws_repins_total'), ['fleetgate_ws_repins_total{service="chat"} 1']);
    assert.deepEqual(samples(text, 'fleetgate_ws_connections'), [
      'fleetgate_ws_connections{service="chat"} 4',
      'fleetgate_ws_connections{service="feed"} 1',
    ]);
    assert.deepEqual(samples(text, 'fleetgate_ws_pins'), ['fleetgate_ws_pins{service="chat"} 2']);
    assert.deepEqual(samples(text, 'fleetgate_ws_clients'), ['fleetgate_ws_clients 3']);
    live = { clients: 0, connections: {}, pins: {} };
    removeA();
    text = await metrics.metrics();
    assert.deepEqual(samples(text, 'fleetgate_ws_connections'), ['fleetgate_ws_connections{service="chat"} 1']);
    assert.deepEqual(samples(text, 'fleetgate_ws_pins'), [], 'a closed gateway leaves no series behind');
    assert.deepEqual(samples(text, 'fleetgate_ws_clients'), ['fleetgate_ws_clients 1']);
  });

  it('reports breaker states per instance (series gone with the instance), retries, loops and auth refusals', async () => {
    const metrics = createMetrics();
    metrics.recordBreakerState('orders', 'o1', 'open');
    metrics.recordBreakerState('orders', 'o2', 'open');
    metrics.recordBreakerState('orders', 'o2', 'half_open');
    metrics.recordBreakerState('orders', 'o2', 'closed');
    metrics.recordRetry('orders', 'connect');
    metrics.recordLoopDetected('own_via');
    metrics.recordLoopDetected('self_target');
    metrics.recordAuthRejection({ mechanism: 'api_key', status: 401, reason: 'unknown' });
    metrics.recordAuthRejection({ mechanism: 'jwt', status: 403, reason: 'forbidden' });
    let text = await metrics.metrics();
    assert.deepEqual(samples(text, 'fleetgate_breaker_state'), [
      'fleetgate_breaker_state{service="orders",instance="o1"} 1',
      'fleetgate_breaker_state{service="orders",instance="o2"} 0',
    ]);
    assert.deepEqual(samples(text, 'fleetgate_breaker_transitions_total'), [
      'fleetgate_breaker_transitions_total{service="orders",to="open"} 2',
      'fleetgate_breaker_transitions_total{service="orders",to="half_open"} 1',
      'fleetgate_breaker_transitions_total{service="orders",to="closed"} 1',
    ]);
    assert.deepEqual(samples(text, 'fleetgate_retries_total'), [
      'fleetgate_retries_total{service="orders",reason="connect"} 1',
    ]);
    assert.deepEqual(samples(text, 'fleetgate_loops_detected_total'), [
      'fleetgate_loops_detected_total{kind="own_via"} 1',
      'fleetgate_loops_detected_total{kind="self_target"} 1',
    ]);
    assert.deepEqual(samples(text, 'fleetgate_auth_rejections_total'), [
      'fleetgate_auth_rejections_total{mechanism="api_key",status="401",reason="unknown"} 1',
      'fleetgate_auth_rejections_total{mechanism="jwt",status="403",reason="forbidden"} 1',
    ]);
    metrics.forgetBreaker('orders', 'o1');
    text = await metrics.metrics();
    assert.deepEqual(samples(text, 'fleetgate_breaker_state'), [
      'fleetgate_breaker_state{service="orders",instance="o2"} 0',
    ]);
  });
});

describe('createMetrics without a registry option: the default registry, once it exists', () => {
  afterEach(() => closeDefaultRegistry());

  it('never creates the default registry, then reports on it once a middleware did, and never holds it open', async () => {
    await using metrics = createMetrics();
    let text = await metrics.metrics();
    assert.deepEqual(samples(text, 'fleetgate_instances'), []);
    assert.deepEqual(samples(text, 'fleetgate_registry_store_up'), ['fleetgate_registry_store_up 1']);
    assert.equal(peekDefaultRegistry(), undefined, 'a scrape created no registry');

    // What a zero-argument registry() or discoveryProxy() does on its first request.
    const lease = leaseDefaultRegistry();
    const shared = await lease.get();
    await shared.register({ service: 'orders', instanceId: 'o1', url: 'http://127.0.0.1:1' });
    text = await metrics.metrics();
    assert.deepEqual(
      samples(text, 'fleetgate_instances').filter((l) => l.endsWith(' 1')),
      ['fleetgate_instances{service="orders",status="UP"} 1'],
    );
    // Events are counted from the scrape that found the registry on.
    await shared.register({ service: 'orders', instanceId: 'o2', url: 'http://127.0.0.1:2' });
    text = await metrics.metrics();
    assert.deepEqual(samples(text, 'fleetgate_registry_events_total'), [
      'fleetgate_registry_events_total{type="register"} 1',
    ]);

    // The last lease given back closes the registry: metrics do not keep it open.
    await lease.release();
    await assert.rejects(shared.register({ service: 'x', url: 'http://127.0.0.1:9' }), { code: 'ERR_FG_CLOSED' });
    text = await metrics.metrics();
    assert.deepEqual(samples(text, 'fleetgate_instances'), []);

    // A default registry built again later is followed in its turn.
    const again = leaseDefaultRegistry();
    try {
      const next = await again.get();
      assert.notEqual(next, shared);
      await next.register({ service: 'web', instanceId: 'w1', url: 'http://127.0.0.1:3' });
      text = await metrics.metrics();
      assert.deepEqual(
        samples(text, 'fleetgate_instances').filter((l) => l.endsWith(' 1')),
        ['fleetgate_instances{service="web",status="UP"} 1'],
      );
      await next.register({ service: 'web', instanceId: 'w2', url: 'http://127.0.0.1:4' });
      await metrics.close();
      await next.register({ service: 'web', instanceId: 'w3', url: 'http://127.0.0.1:5' });
      assert.ok(
        (await metrics.metrics()).includes('fleetgate_registry_events_total{type="register"} 2'),
        'closed metrics stop counting (1 on the first registry + 1 on the second)',
      );
    } finally {
      await again.release();
    }
  });

  it('a registry option still wins over the default one', async () => {
    await using own = new Registry({ backend: new MemoryBackend(), ownsBackend: true });
    await own.ready();
    await own.register({ service: 'mine', instanceId: 'm1', url: 'http://127.0.0.1:1' });
    const lease = leaseDefaultRegistry();
    try {
      await (await lease.get()).register({ service: 'shared', instanceId: 's1', url: 'http://127.0.0.1:2' });
      await using metrics = createMetrics({ registry: own });
      const text = await metrics.metrics();
      assert.deepEqual(
        samples(text, 'fleetgate_instances').filter((l) => l.endsWith(' 1')),
        ['fleetgate_instances{service="mine",status="UP"} 1'],
      );
    } finally {
      await lease.release();
    }
  });
});
