/**
 * Tracing through the real `fleetgate` bin, with TRACE_URL written the two ways operators write
 * it: the seed's `host:4317` form (here `localhost:<port>`) to an in-process OTLP/gRPC receiver,
 * and `http://…` to the OTLP/HTTP one. One proxied request is a trace inbound (SERVER) → proxy →
 * upstream (undici CLIENT) whose span the upstream gets as `traceparent`; a registration on Redis
 * is a trace inbound → fleetgate.register → ioredis spans; health probes have spans; SIGTERM still
 * exits promptly (the exporter flushes within its bounded shutdown).
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { redisSkipReason, startRedis } from '../sandbox/servers/index.js';
import { startGateway } from './support/gateway-process.js';
import { startOtlpGrpcReceiver } from './support/otlp-grpc-receiver.js';
import { close, type DecodedSpan, listen, startOtlpReceiver } from './support/otlp-receiver.js';

const SERVER = 2;
const REDIS_SKIP = await redisSkipReason();
const CLIENT = 3;

/** The span with `spanId`, or a failure naming what was received. */
function byId(spans: DecodedSpan[], spanId: string): DecodedSpan {
  const span = spans.find((s) => s.spanId === spanId);
  assert.ok(span, `span ${spanId} among ${spans.map((s) => `${s.name}/${s.spanId}`).join(', ')}`);
  return span;
}

/** Every span below `root` (children, grandchildren, …). */
function descendants(spans: DecodedSpan[], root: DecodedSpan): DecodedSpan[] {
  const out: DecodedSpan[] = [];
  const queue = [root.spanId];
  while (queue.length > 0) {
    const id = queue.shift();
    for (const s of spans) {
      if (s.parentSpanId === id && s.traceId === root.traceId) {
        out.push(s);
        queue.push(s.spanId);
      }
    }
  }
  return out;
}

/** Checks the chain upstream-traceparent → undici CLIENT → proxy span → inbound SERVER; returns the inbound span. */
function proxiedChain(spans: DecodedSpan[], traceparent: string, route: string): DecodedSpan {
  const [, traceId, clientId] = traceparent.split('-') as [string, string, string];
  const client = byId(spans, clientId);
  assert.equal(client.kind, CLIENT, 'the upstream call is a CLIENT span');
  assert.equal(client.traceId, traceId);
  const proxy = byId(spans, client.parentSpanId);
  assert.equal(proxy.name, `GET ${route}`);
  assert.equal(proxy.attributes['fleetgate.service'], 'echo');
  assert.equal(proxy.attributes['fleetgate.instance'], 'echo-1');
  assert.equal(proxy.attributes['fleetgate.route'], route);
  assert.equal(proxy.attributes['http.response.status_code'], 200);
  const inbound = byId(spans, proxy.parentSpanId);
  assert.equal(inbound.kind, SERVER, 'the proxy span is a child of the inbound span');
  assert.equal(inbound.resource['service.name'], 'fleetgate');
  return inbound;
}

describe('tracing through the fleetgate bin (TRACE_URL)', () => {
  const upstreamSaw: string[] = [];
  const upstream = createServer((req, res) => {
    if (req.url !== '/health') upstreamSaw.push(String(req.headers.traceparent));
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`echo ${req.url}`);
  });
  let upstreamUrl: string;
  before(async () => {
    upstreamUrl = await listen(upstream);
  });
  after(() => close(upstream));

  it('TRACE_URL=http://…: OTLP/HTTP; inbound → proxy → upstream, the caller’s trace continues', async () => {
    upstreamSaw.length = 0;
    const receiver = await startOtlpReceiver();
    const gateway = await startGateway(
      { TRACE_URL: receiver.url, HEALTH_CHECK_INTERVAL: '1h' },
      { name: 'traced-http' },
    );
    try {
      const registered = await gateway.register({
        service: 'echo',
        instance_id: 'echo-1',
        url: upstreamUrl,
        routes: [{ method: 'GET', path: '/api/echo/**' }],
      });
      assert.equal(registered.status, 200);
      const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
      const callerSpan = '00f067aa0ba902b7';
      for (const [path, headers] of [
        ['/api/echo/a', {}],
        ['/api/echo/b', { traceparent: `00-${callerTrace}-${callerSpan}-01` }],
      ] as const) {
        const res = await fetch(`${gateway.url}${path}`, { headers });
        assert.equal(res.status, 200, path);
        await res.text();
      }
      assert.equal((await fetch(`${gateway.url}/livez`)).status, 200);
      const started = Date.now();
      const exit = await gateway.stop(10_000);
      assert.equal(exit.code, 0, `exit ${JSON.stringify(exit)}`);
      const took = Date.now() - started;
      assert.ok(took < 5000, `SIGTERM with tracing on is prompt: ${took} ms`);

      const spans = receiver.spans;
      assert.equal(upstreamSaw.length, 2);
      for (const tp of upstreamSaw) assert.equal(tp.split(',').length, 1, `one traceparent upstream, got ${tp}`);
      const first = proxiedChain(spans, upstreamSaw[0] as string, '/api/echo/**');
      assert.notEqual(first.traceId, callerTrace);
      const second = proxiedChain(spans, upstreamSaw[1] as string, '/api/echo/**');
      assert.equal(second.traceId, callerTrace, "the caller's trace continues");
      assert.equal(second.parentSpanId, callerSpan);
      assert.ok(!spans.some((s) => s.name.includes('livez')), 'probes make no span');
      for (const noisy of ['fs', 'dns', 'net']) {
        assert.ok(
          !spans.some((s) => s.resource !== undefined && /^(fs|dns|tcp\.connect)/.test(s.name)),
          `${noisy} is off`,
        );
      }
    } finally {
      await gateway.kill();
      await receiver.close();
    }
  });

  it('TRACE_URL=localhost:PORT (the seed’s host:4317 form): OTLP/gRPC; a registration on Redis with its store spans, health probes, a proxied request', {
    skip: REDIS_SKIP,
  }, async () => {
    upstreamSaw.length = 0;
    const receiver = await startOtlpGrpcReceiver();
    const redis = await startRedis();
    const gateway = await startGateway(
      {
        TRACE_URL: `localhost:${receiver.port}`,
        REGISTRY_TYPE: 'REDIS',
        REGISTRY_REDIS_ADDR: redis.url,
        HEALTH_CHECK_INTERVAL: '200ms',
      },
      { name: 'traced-grpc' },
    );
    try {
      const registered = await gateway.register({
        service: 'echo',
        instance_id: 'echo-1',
        url: upstreamUrl,
        health_endpoint: '/health',
        routes: [{ method: 'GET', path: '/api/echo/**' }],
      });
      assert.equal(registered.status, 200, await registered.clone().text());
      const res = await fetch(`${gateway.url}/api/echo/z`);
      assert.equal(res.status, 200);
      await res.text();
      // At least one probe ran (the instance is checked every 200 ms): its span is exported at shutdown.
      const deadline = Date.now() + 10_000;
      for (;;) {
        const health = (await (await fetch(`${gateway.url}/health`)).json()) as {
          services: { echo?: { last_ping: string | null } };
        };
        if (health.services.echo?.last_ping) break;
        assert.ok(Date.now() < deadline, 'a health probe ran within 10 s');
        await new Promise((r) => setTimeout(r, 50));
      }
      const exit = await gateway.stop(10_000);
      assert.equal(exit.code, 0, `exit ${JSON.stringify(exit)}`);
      const spans = receiver.spans;
      assert.ok(receiver.exports > 0, 'spans arrived over gRPC');

      const register = spans.find((s) => s.name === 'fleetgate.register');
      assert.ok(register, `a fleetgate.register span among ${[...new Set(spans.map((s) => s.name))].join(', ')}`);
      assert.equal(register.attributes['fleetgate.service'], 'echo');
      const inbound = byId(spans, register.parentSpanId);
      assert.equal(inbound.kind, SERVER, 'the registration span is a child of the inbound POST');
      assert.equal(inbound.attributes['http.request.method'] ?? inbound.attributes['http.method'], 'POST');
      const store = descendants(spans, register).filter(
        (s) => s.attributes['db.system'] === 'redis' || s.attributes['db.system.name'] === 'redis',
      );
      assert.ok(
        store.length > 0,
        `Redis spans under the registration: ${descendants(spans, register)
          .map((s) => s.name)
          .join(', ')}`,
      );
      assert.ok(store.every((s) => s.kind === CLIENT));

      const probe = spans.find((s) => s.name === 'fleetgate.health_probe');
      assert.ok(probe, 'a health-probe span');
      assert.equal(probe.attributes['fleetgate.instance'], 'echo-1');
      assert.equal(probe.attributes['fleetgate.healthy'], true);
      assert.ok(
        descendants(spans, probe).some((s) => s.kind === CLIENT),
        'the probe’s HTTP call is its child',
      );

      assert.equal(upstreamSaw.length, 1);
      proxiedChain(spans, upstreamSaw[0] as string, '/api/echo/**');
    } finally {
      await gateway.kill();
      await redis.stop();
      await receiver.close();
    }
  });
});
