/**
 * An in-process OTLP/HTTP receiver for tracing tests: accepts `POST /v1/traces` (protobuf,
 * optionally gzip) and decodes the spans with a minimal protobuf reader — enough of
 * ExportTraceServiceRequest to check names, ids, kinds, attributes and status.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

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

export interface DecodedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, string | number | boolean>;
  statusCode: number;
  resource: Record<string, string | number | boolean>;
}

export function decodeTraces(body: Buffer): DecodedSpan[] {
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

export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
}

/** A running receiver. */
export interface OtlpReceiver {
  url: string;
  /** Every span received so far, in arrival order. */
  spans: DecodedSpan[];
  /** The Content-Type of every export. */
  contentTypes: string[];
  close(): Promise<void>;
}

/** Starts a receiver on a free loopback port. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: DecodedSpan[] = [];
  const contentTypes: string[] = [];
  const server = createServer(async (req, res) => {
    if (req.method === 'POST' && req.url === '/v1/traces') {
      contentTypes.push(req.headers['content-type'] ?? '');
      spans.push(...decodeTraces(await readBody(req)));
    }
    res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  });
  const url = await listen(server);
  return { url, spans, contentTypes, close: () => close(server) };
}
