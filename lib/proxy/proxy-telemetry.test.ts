import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  type Context,
  propagation,
  type Span,
  type SpanContext,
  type TextMapPropagator,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import type { Registry } from '../registry/registry.js';
import type { ProxyRequestRecord } from '../telemetry/metrics.js';
import {
  echoUpstream,
  json,
  listen,
  memoryRegistry,
  registerInstance,
  send,
  type TestServer,
} from '../test-support/http-test-kit.js';
import { type DiscoveryProxy, discoveryProxy } from './discovery-proxy.js';

/** A recording span good enough to see what the proxy does with it. */
class FakeSpan {
  readonly attributes: Record<string, unknown> = {};
  ended = false;
  readonly ctx: SpanContext;
  constructor(
    readonly name: string,
    parent: SpanContext | undefined,
  ) {
    this.ctx = {
      traceId: parent?.traceId ?? randomBytes(16).toString('hex'),
      spanId: randomBytes(8).toString('hex'),
      traceFlags: 1,
    };
  }
  spanContext = () => this.ctx;
  isRecording = () => true;
  setAttribute = (k: string, v: unknown) => {
    this.attributes[k] = v;
    return this as unknown as Span;
  };
  setAttributes = () => this as unknown as Span;
  setStatus = () => this as unknown as Span;
  recordException = () => {};
  addEvent = () => this as unknown as Span;
  addLink = () => this as unknown as Span;
  addLinks = () => this as unknown as Span;
  updateName = () => this as unknown as Span;
  end = () => {
    this.ended = true;
  };
}

const spans: FakeSpan[] = [];
const tracer: Tracer = {
  startSpan: (name: string, _opts?: unknown, ctx?: Context) => {
    const span = new FakeSpan(name, ctx === undefined ? undefined : trace.getSpanContext(ctx));
    spans.push(span);
    return span as unknown as Span;
  },
  startActiveSpan: (() => {
    throw new Error('unused');
  }) as Tracer['startActiveSpan'],
};
const provider: TracerProvider = { getTracer: () => tracer };
const w3c: TextMapPropagator = {
  inject(ctx, carrier, setter) {
    const sc = trace.getSpanContext(ctx);
    if (sc !== undefined) setter.set(carrier, 'traceparent', `00-${sc.traceId}-${sc.spanId}-01`);
  },
  extract(ctx, carrier, getter) {
    const raw = getter.get(carrier, 'traceparent');
    const tp = Array.isArray(raw) ? raw[0] : raw;
    if (tp === undefined) return ctx;
    const [, traceId, spanId] = tp.split('-');
    return trace.setSpanContext(ctx, { traceId: traceId!, spanId: spanId!, traceFlags: 1, isRemote: true });
  },
  fields: () => ['traceparent'],
};

describe('discoveryProxy telemetry', () => {
  let registry: Registry;
  let up: TestServer;
  let proxy: DiscoveryProxy;
  let gw: TestServer;
  const records: ProxyRequestRecord[] = [];

  before(async () => {
    trace.setGlobalTracerProvider(provider);
    propagation.setGlobalPropagator(w3c);
    registry = await memoryRegistry();
    up = await echoUpstream('up');
    await registerInstance(registry, 'svc', up.url, [{ method: 'GET', path: '/svc/:id' }], { instanceId: 'i1' });
    proxy = discoveryProxy({ registry, tracing: true, metrics: { recordProxyRequest: (r) => records.push(r) } });
    gw = await listen((req, res) => proxy(req, res));
  });

  after(async () => {
    await gw.close();
    await proxy.close();
    await up.close();
    await registry.close();
    trace.disable();
    propagation.disable();
  });

  it('records one metric per request, with the route pattern, never the raw path', async () => {
    records.length = 0;
    assert.equal((await send(`${gw.url}/svc/7`)).status, 200);
    assert.equal((await send(`${gw.url}/nothing`)).status, 404);
    assert.equal(records.length, 2);
    const [ok, miss] = records;
    assert.deepEqual([ok!.service, ok!.route, ok!.status, ok!.instanceId], ['svc', '/svc/:id', 200, 'i1']);
    assert.ok(typeof ok!.durationMs === 'number' && ok!.durationMs >= 0);
    assert.deepEqual([miss!.service, miss!.route, miss!.status], ['-', '-', 404]);
  });

  it('continues the caller trace in a span and propagates it upstream', async () => {
    spans.length = 0;
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await send(`${gw.url}/svc/8`, { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
    const seen = json<{ headers: Record<string, string> }>(res).headers.traceparent;
    assert.equal(spans.length, 1);
    const span = spans[0]!;
    assert.equal(span.ctx.traceId, traceId, 'child of the caller');
    assert.equal(seen, `00-${traceId}-${span.ctx.spanId}-01`, 'upstream is a child of the proxy span');
    assert.ok(span.ended);
    assert.equal(span.attributes['fleetgate.service'], 'svc');
    assert.equal(span.attributes['fleetgate.route'], '/svc/:id');
    assert.equal(span.attributes['http.response.status_code'], 200);
  });
});
