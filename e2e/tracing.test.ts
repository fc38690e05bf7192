/**
 * Tracing end to end: startTracing() with the OTLP/HTTP protobuf exporter sends one span per
 * proxied request to an in-process OTLP receiver, with the fleetgate attributes, and the upstream
 * receives the matching traceparent. The forwarder here is a minimal one built on the span helpers
 * (what the discovery proxy does once wired; see docs of lib/telemetry/tracing.ts).
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { request } from 'undici';
import { LOCAL_RESOURCE_DETECTORS, startTracing, withProxySpan } from '../lib/telemetry/tracing.js';

// --- a minimal protobuf reader, enough for OTLP ExportTraceServiceRequest -------------------------
type Field = Buffer | bigint;
function fields(buf: Buffer): Map<number, Field[]> {
  const out = new Map<number, Field[]>();
  let i = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[i++] as number;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const tag = Number(varint());
    const field = tag >>> 3;
    const wire = tag & 7;
    let value: Field;
    if (wire === 0) value = varint();
    else if (wire === 1) {
      value = buf.subarray(i, i + 8);
      i += 8;
    } else if (wire === 2) {
      const len = Number(varint());
      value = buf.subarray(i, i + len);
      i += len;
    } else if (wire === 5) {
      value = buf.subarray(i, i + 4);
      i += 4;
    } else throw new Error(`unsupported wire type ${wire}`);
    const list = out.get(field) ?? [];
    list.push(value);
    out.set(field, list);
  }
  return out;
}
const bytes = (m: Map<number, Field[]>, f: number): Buffer[] => (m.get(f) ?? []) as Buffer[];
const one = (m: Map<number, Field[]>, f: number): Buffer | undefined => bytes(m, f)[0];

function attributes(list: Buffer[]): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const kv of list) {
    const m = fields(kv);
    const key = one(m, 1)?.toString('utf8') ?? '';
    const any = fields(one(m, 2) ?? Buffer.alloc(0));
    const [str] = bytes(any, 1);
    const [dbl] = bytes(any, 4);
    if (str !== undefined) out[key] = str.toString('utf8');
    else if (any.has(2)) out[key] = any.get(2)?.[0] === 1n;
    else if (any.has(3)) out[key] = Number(any.get(3)?.[0] as bigint);
    else if (dbl !== undefined) out[key] = dbl.readDoubleLE(0);
  }
  return out;
}

interface DecodedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, string | number | boolean>;
  statusCode: number;
  resource: Record<string, string | number | boolean>;
}

function decodeTraces(body: Buffer): DecodedSpan[] {
  const spans: DecodedSpan[] = [];
  for (const rs of bytes(fields(body), 1)) {
    const rsm = fields(rs);
    const resource = attributes(bytes(fields(one(rsm, 1) ?? Buffer.alloc(0)), 1));
    for (const ss of bytes(rsm, 2)) {
      for (const s of bytes(fields(ss), 2)) {
        const m = fields(s);
        const status = fields(one(m, 15) ?? Buffer.alloc(0));
        spans.push({
          traceId: one(m, 1)?.toString('hex') ?? '',
          spanId: one(m, 2)?.toString('hex') ?? '',
          parentSpanId: one(m, 4)?.toString('hex') ?? '',
          name: one(m, 5)?.toString('utf8') ?? '',
          kind: Number(m.get(6)?.[0] ?? 0n),
          attributes: attributes(bytes(m, 9)),
          statusCode: Number(status.get(3)?.[0] ?? 0n),
          resource,
        });
      }
    }
  }
  return spans;
}
// ---------------------------------------------------------------------------------------------------

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
}

describe('tracing (OTLP/HTTP protobuf to an in-process receiver)', () => {
  it('exports one span per proxied request and propagates its traceparent upstream', async () => {
    const exported: DecodedSpan[] = [];
    const contentTypes: string[] = [];
    const receiver = createServer(async (req, res) => {
      if (req.method === 'POST' && req.url === '/v1/traces') {
        contentTypes.push(req.headers['content-type'] ?? '');
        exported.push(...decodeTraces(await readBody(req)));
      }
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
    const upstreamSaw: string[] = [];
    const upstream = createServer((req, res) => {
      upstreamSaw.push(String(req.headers.traceparent));
      res.writeHead(req.url === '/api/fail' ? 503 : 200).end('upstream');
    });
    const receiverUrl = await listen(receiver);
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
    const tracing = await startTracing({ url: receiverUrl, serviceName: 'fleetgate-e2e', shutdownTimeoutMs: 5000 });
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
      await Promise.all([close(gateway), close(upstream), close(receiver)]);
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
