/**
 * Tracing end to end: startTracing() with the OTLP/HTTP protobuf exporter sends one span per
 * proxied request to an in-process OTLP receiver, with the fleetgate attributes, and the upstream
 * receives the matching traceparent. Here the span helpers are driven by a minimal forwarder, so the
 * exporter, propagation and shutdown are pinned down on their own; e2e/tracing-bin.test.ts shows
 * the same through the real `fleetgate` bin and discovery proxy.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { LOCAL_RESOURCE_DETECTORS, startTracing, withProxySpan } from '../lib/telemetry/tracing.js';
import { close, listen, startOtlpReceiver } from './support/otlp-receiver.js';

describe('tracing (OTLP/HTTP protobuf to an in-process receiver)', () => {
  it('exports one span per proxied request and propagates its traceparent upstream', async () => {
    const receiver = await startOtlpReceiver();
    const { spans: exported, contentTypes, url: receiverUrl } = receiver;
    const upstreamSaw: string[] = [];
    const upstream = createServer((req, res) => {
      upstreamSaw.push(String(req.headers.traceparent));
      res.writeHead(req.url === '/api/fail' ? 503 : 200).end('upstream');
    });
    const upstreamUrl = await listen(upstream);
    // The minimal forwarder: a span per request, traceparent injected into the upstream request.
    const gateway = createServer((req, res) => {
      void withProxySpan(
        { method: req.method ?? 'GET', route: '/api/*', service: 'echo', incomingHeaders: req.headers },
        async (span) => {
          span.setInstance('e1');
          const headers = span.inject<Record<string, string>>({});
          const up = await request(`${upstreamUrl}${req.url}`, { method: 'GET', headers });
          await up.body.dump();
          span.end({ statusCode: up.statusCode, retries: 0 });
          res.writeHead(up.statusCode).end();
        },
      );
    });
    const gatewayUrl = await listen(gateway);
    const detectorsBefore = process.env.OTEL_NODE_RESOURCE_DETECTORS;
    const tracing = await startTracing({
      url: receiverUrl,
      serviceName: 'fleetgate-e2e',
      shutdownTimeoutMs: 5000,
      instrumentations: false, // the span helpers on their own; the bin test covers the instrumentations
    });
    try {
      assert.equal(tracing.url, `${receiverUrl}/v1/traces`);
      if (detectorsBefore === undefined)
        assert.equal(process.env.OTEL_NODE_RESOURCE_DETECTORS, LOCAL_RESOURCE_DETECTORS);
      const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
      const callerSpan = '00f067aa0ba902b7';
      assert.equal((await fetch(`${gatewayUrl}/api/a`)).status, 200);
      assert.equal(
        (await fetch(`${gatewayUrl}/api/b`, { headers: { traceparent: `00-${callerTrace}-${callerSpan}-01` } })).status,
        200,
      );
      assert.equal((await fetch(`${gatewayUrl}/api/fail`)).status, 503);
      await tracing.shutdown(); // flushes the batch
      assert.ok(
        contentTypes.every((t) => t === 'application/x-protobuf'),
        contentTypes.join(),
      );
      assert.equal(exported.length, 3, 'one span per proxied request');
      for (const [i, span] of exported.entries()) {
        assert.equal(upstreamSaw[i], `00-${span.traceId}-${span.spanId}-01`, 'upstream got this span as parent');
        assert.equal(span.name, 'GET /api/*');
        assert.equal(span.kind, 2, 'SPAN_KIND_SERVER');
        assert.equal(span.resource['service.name'], 'fleetgate-e2e');
      }
      assert.deepEqual(
        exported.map((s) => s.attributes),
        [200, 200, 503].map((status) => ({
          'http.request.method': 'GET',
          'fleetgate.service': 'echo',
          'fleetgate.route': '/api/*',
          'fleetgate.instance': 'e1',
          'fleetgate.retries': 0,
          'http.response.status_code': status,
        })),
      );
      assert.equal(exported[0]?.parentSpanId, '', 'a request without traceparent starts a trace');
      assert.equal(exported[1]?.traceId, callerTrace, "the caller's trace continues");
      assert.equal(exported[1]?.parentSpanId, callerSpan);
      assert.deepEqual(
        exported.map((s) => s.statusCode),
        [0, 0, 2],
        '5xx marks the span as an error',
      );
    } finally {
      await tracing.shutdown();
      await Promise.all([close(gateway), close(upstream), receiver.close()]);
    }
  });

  it('shutdown() is bounded when the collector never answers', async () => {
    const blackhole = createServer(() => {}); // accepts, never responds
    const url = await listen(blackhole);
    const tracing = await startTracing({ url, shutdownTimeoutMs: 300, exportTimeoutMs: 1000 });
    try {
      await withProxySpan({ method: 'GET', route: '/x' }, async (span) => span.end({ statusCode: 200 }));
      const started = Date.now();
      await tracing.shutdown();
      const took = Date.now() - started;
      assert.ok(took < 3000, `shutdown took ${took} ms`);
    } finally {
      await close(blackhole);
    }
  });
});
