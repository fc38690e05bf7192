import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import {
  injectTraceparent,
  startProxySpan,
  startTracing,
  TRACING_DEFAULTS,
  upstreamTraceInjected,
  withProxySpan,
} from './tracing.js';

// The SDK end to end (OTLP receiver, propagation to an upstream) is in e2e/tracing.test.ts.
describe('tracing without an SDK', () => {
  it('span helpers are no-ops and never load @opentelemetry/sdk-node', async () => {
    const incoming = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };
    const span = startProxySpan({ method: 'GET', route: '/api/*', service: 'sagjan', incomingHeaders: incoming });
    span.setInstance('a');
    span.setRetries(1);
    const headers: Record<string, string> = { traceparent: incoming.traceparent };
    assert.equal(span.inject(headers), headers);
    assert.deepEqual(headers, { traceparent: incoming.traceparent }, 'an incoming traceparent passes untouched');
    assert.deepEqual(injectTraceparent({}), {});
    span.end({ statusCode: 502, error: new Error('refused') });
    span.end({ statusCode: 200 });
    assert.equal(span.span.isRecording(), false);
    assert.equal(await withProxySpan({ method: 'POST' }, async () => 42), 42);
    await assert.rejects(
      withProxySpan({ method: 'POST' }, async () => {
        throw new Error('upstream');
      }),
      /upstream/,
    );
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    assert.equal(loaded.filter((p) => p.includes('sdk-node') || p.includes('exporter-trace')).length, 0);
  });

  it('startTracing refuses a bad TRACE_URL before loading anything; defaults are frozen', async () => {
    await assert.rejects(startTracing({ url: 'ftp://collector:21' }), { code: 'ERR_FG_INVALID_CONFIG' });
    await assert.rejects(startTracing({ url: 'collector' }), { code: 'ERR_FG_INVALID_CONFIG' });
    assert.equal(upstreamTraceInjected(), false);
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    assert.equal(loaded.filter((p) => p.includes('auto-instrumentations') || p.includes('sdk-node')).length, 0);
    assert.ok(Object.isFrozen(TRACING_DEFAULTS));
  });
});
