/**
 * Tracing through the real `fleetgate` bin: with TRACE_URL pointing at an in-process OTLP
 * receiver, every proxied request produces exactly one span carrying the service, instance,
 * route pattern and retry count, the upstream receives that span as its `traceparent` parent,
 * and SIGTERM still exits promptly (the exporter flushes within its bounded shutdown).
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startGateway } from './support/gateway-process.js';
import { close, listen, type OtlpReceiver, startOtlpReceiver } from './support/otlp-receiver.js';

describe('tracing through the fleetgate bin (TRACE_URL)', () => {
  let receiver: OtlpReceiver;
  const upstreamSaw: string[] = [];
  const upstream = createServer((req, res) => {
    upstreamSaw.push(String(req.headers.traceparent));
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`echo ${req.url}`);
  });
  let upstreamUrl: string;

  before(async () => {
    receiver = await startOtlpReceiver();
    upstreamUrl = await listen(upstream);
  });
  after(async () => {
    await close(upstream);
    await receiver.close();
  });

  it('exports one span per proxied request with the fleetgate attributes and propagates it upstream', async () => {
    const gateway = await startGateway({ TRACE_URL: receiver.url, HEALTH_CHECK_INTERVAL: '1h' }, { name: 'traced' });
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
        ['/api/echo/c?x=1', {}],
      ] as const) {
        const res = await fetch(`${gateway.url}${path}`, { headers });
        assert.equal(res.status, 200, path);
        await res.text();
      }
      // Requests the gateway answers itself are not proxied and make no span.
      assert.equal((await fetch(`${gateway.url}/health`)).status, 200);

      const started = Date.now();
      const exit = await gateway.stop(10_000);
      const took = Date.now() - started;
      assert.equal(exit.code, 0, `exit ${JSON.stringify(exit)}`);
      assert.ok(took < 5000, `SIGTERM with tracing on took ${took} ms`);

      const spans = receiver.spans;
      assert.equal(spans.length, 3, `one span per proxied request, got ${spans.map((s) => s.name).join(', ')}`);
      assert.equal(upstreamSaw.length, 3);
      for (const [i, span] of spans.entries()) {
        assert.deepEqual(span.attributes, {
          'http.request.method': 'GET',
          'fleetgate.service': 'echo',
          'fleetgate.route': '/api/echo/**',
          'fleetgate.instance': 'echo-1',
          'fleetgate.retries': 0,
          'http.response.status_code': 200,
        });
        assert.equal(span.resource['service.name'], 'fleetgate');
        assert.equal(upstreamSaw[i], `00-${span.traceId}-${span.spanId}-01`, 'the upstream got this span as parent');
      }
      assert.equal(spans[1]?.traceId, callerTrace, "the caller's trace continues");
      assert.equal(spans[1]?.parentSpanId, callerSpan);
      assert.notEqual(spans[0]?.traceId, callerTrace);
    } finally {
      await gateway.kill();
    }
  });
});
