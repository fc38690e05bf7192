/**
 * Header handling on both legs of a proxied request (DESIGN.md §4): hop-by-hop headers (and
 * those named in `Connection`) dropped, `X-Forwarded-For/Proto/Host` added, `X-Request-Id` and
 * `traceparent` kept or generated, and the response stamped with `X-Gateway` and
 * `Server-Timing`. Headers are flat `[name, value, …]` arrays built with plain loops: no
 * objects, no regexes on the request path.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { isTraceparent, newRequestId, newTraceparent } from './request-ids.js';

const DROP = 1;
const CONNECTION = 2;
const HOST = 3;
const XFF = 4;
const XF_PROTO = 5;
const XF_HOST = 6;
const REQUEST_ID = 7;
const TRACEPARENT = 8;
const CONTENT_LENGTH = 9;
const TRANSFER_ENCODING = 10;
const EXPECT = 11;
const CONTENT_TYPE = 12;

/** Request header name (lower case) → what to do with it. */
const REQUEST_ACTIONS: Record<string, number> = Object.assign(Object.create(null), {
  connection: CONNECTION,
  'keep-alive': DROP,
  'proxy-connection': DROP,
  'proxy-authorization': DROP,
  te: DROP,
  trailer: DROP,
  upgrade: DROP,
  'transfer-encoding': TRANSFER_ENCODING,
  expect: EXPECT,
  host: HOST,
  'x-forwarded-for': XFF,
  'x-forwarded-proto': XF_PROTO,
  'x-forwarded-host': XF_HOST,
  'x-request-id': REQUEST_ID,
  traceparent: TRACEPARENT,
  'content-length': CONTENT_LENGTH,
});

/** Response header name (lower case) → what to do with it. */
const RESPONSE_ACTIONS: Record<string, number> = Object.assign(Object.create(null), {
  connection: CONNECTION,
  'keep-alive': DROP,
  'proxy-connection': DROP,
  'proxy-authenticate': DROP,
  te: DROP,
  trailer: DROP,
  upgrade: DROP,
  'transfer-encoding': DROP,
  'x-request-id': REQUEST_ID,
  'content-length': CONTENT_LENGTH,
  'content-type': CONTENT_TYPE,
});

/** What {@link buildUpstreamHeaders} learnt about the request while copying its headers. */
export interface RequestHeadInfo {
  /** `X-Request-Id`: the client's, or a generated one. */
  requestId: string;
  /** `Content-Length` of the client's body; -1 when absent. */
  contentLength: number;
  /** The client sent `Transfer-Encoding` (a streamed body of unknown length). */
  chunked: boolean;
  /** The client sent `Expect` (e.g. `100-continue`). */
  expect: boolean;
}

/** How the gateway presents itself upstream. */
export interface UpstreamHeaderOptions {
  /** Send the client's `Host` upstream instead of the instance's own. @default false */
  preserveHost: boolean;
}

/**
 * Copies the client's request headers for the upstream request.
 * @param info receives the request id, body framing and expectation found on the way.
 * @returns a flat `[name, value, …]` array for undici's `dispatch`.
 */
export function buildUpstreamHeaders(
  req: IncomingMessage,
  options: UpstreamHeaderOptions,
  info: RequestHeadInfo,
): string[] {
  const raw = req.rawHeaders;
  const out: string[] = [];
  let connection: string | undefined;
  let xff: string | undefined;
  let proto: string | undefined;
  let fwdHost: string | undefined;
  let host: string | undefined;
  let requestId: string | undefined;
  let traceparent = false;
  info.contentLength = -1;
  info.chunked = false;
  info.expect = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    const action = REQUEST_ACTIONS[name.toLowerCase()];
    if (action === undefined) {
      out.push(name, value);
      continue;
    }
    switch (action) {
      case CONNECTION:
        connection = connection === undefined ? value : `${connection},${value}`;
        break;
      case HOST:
        if (host === undefined) {
          host = value;
          if (options.preserveHost) out.push(name, value);
        }
        break;
      case XFF:
        xff = xff === undefined ? value : `${xff}, ${value}`;
        break;
      case XF_PROTO:
        if (proto === undefined) proto = value;
        break;
      case XF_HOST:
        if (fwdHost === undefined) fwdHost = value;
        break;
      case REQUEST_ID:
        if (requestId === undefined && value !== '') {
          requestId = value;
          out.push(name, value);
        }
        break;
      case TRACEPARENT:
        if (!traceparent && isTraceparent(value)) {
          traceparent = true;
          out.push(name, value);
        }
        break;
      case CONTENT_LENGTH:
        if (info.contentLength < 0) {
          info.contentLength = Number(value);
          out.push(name, value);
        }
        break;
      case TRANSFER_ENCODING:
        info.chunked = true;
        break;
      case EXPECT:
        info.expect = true;
        break;
      default:
        break;
    }
  }
  const remote = req.socket.remoteAddress;
  if (remote !== undefined) xff = xff === undefined ? remote : `${xff}, ${remote}`;
  if (xff !== undefined) out.push('x-forwarded-for', xff);
  out.push('x-forwarded-proto', proto ?? ((req.socket as TLSSocket).encrypted === true ? 'https' : 'http'));
  if (fwdHost !== undefined || host !== undefined) out.push('x-forwarded-host', (fwdHost ?? host)!);
  if (requestId === undefined) {
    requestId = newRequestId();
    out.push('x-request-id', requestId);
  }
  if (!traceparent) out.push('traceparent', newTraceparent());
  info.requestId = requestId;
  return connection === undefined ? out : dropConnectionNamed(out, connection);
}

/** What {@link buildClientHeaders} learnt about the response while copying its headers. */
export interface ResponseHeadInfo {
  /** Send the head at once instead of with the first body chunk: event streams, bodies of unknown length. */
  flushHead: boolean;
}

/**
 * Copies the upstream's response headers (undici's raw `Buffer`s, decoded as latin1 so bytes
 * pass through unchanged) for the client, and stamps `X-Gateway`, `Server-Timing` and, when the
 * upstream did not set it, `X-Request-Id`.
 * @param elapsedMs time spent at the gateway up to the response head.
 */
export function buildClientHeaders(
  raw: readonly (Buffer | string)[],
  requestId: string,
  elapsedMs: number,
  info: ResponseHeadInfo,
): string[] {
  const out: string[] = [];
  let connection: string | undefined;
  let sawRequestId = false;
  let sawLength = false;
  let eventStream = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1');
    const value = raw[i + 1]!.toString('latin1');
    const action = RESPONSE_ACTIONS[name.toLowerCase()];
    if (action !== undefined) {
      if (action === DROP) continue;
      if (action === CONNECTION) {
        connection = connection === undefined ? value : `${connection},${value}`;
        continue;
      }
      if (action === REQUEST_ID) sawRequestId = true;
      else if (action === CONTENT_LENGTH) sawLength = true;
      else if (value.startsWith('text/event-stream')) eventStream = true;
    }
    out.push(name, value);
  }
  out.push('x-gateway', 'fleetgate', 'server-timing', `gateway;dur=${elapsedMs.toFixed(2)}`);
  if (!sawRequestId) out.push('x-request-id', requestId);
  info.flushHead = eventStream || !sawLength;
  return connection === undefined ? out : dropConnectionNamed(out, connection);
}

/**
 * Removes the headers a `Connection` header names (RFC 9110 §7.6.1); `close`/`keep-alive` name
 * no header and leave the list untouched, which is the common case.
 */
function dropConnectionNamed(headers: string[], connection: string): string[] {
  if (connection.length <= 10) {
    const only = connection.toLowerCase();
    if (only === 'keep-alive' || only === 'close') return headers;
  }
  const names: string[] = [];
  for (const token of connection.split(',')) {
    const t = token.trim().toLowerCase();
    if (t !== '' && t !== 'close' && t !== 'keep-alive') names.push(t);
  }
  if (names.length === 0) return headers;
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (!names.includes(headers[i]!.toLowerCase())) out.push(headers[i]!, headers[i + 1]!);
  }
  return out;
}

/**
 * Replaces the body framing headers after the body was re-serialised: drops `Content-Length`
 * and `Content-Encoding` (the parser already decoded it) and sets the new length.
 */
export function setBodyHeaders(headers: string[], length: number, contentType?: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const lower = headers[i]!.toLowerCase();
    if (lower === 'content-length' || lower === 'content-encoding') continue;
    if (contentType !== undefined && lower === 'content-type') continue;
    out.push(headers[i]!, headers[i + 1]!);
  }
  out.push('content-length', String(length));
  if (contentType !== undefined) out.push('content-type', contentType);
  return out;
}

/**
 * `res.writeHead(status, flatArray)`, keeping repeated names (`Set-Cookie`) even when a framework
 * already set headers (Express's `X-Powered-By`): Node then merges pair by pair through
 * `setHeader`, which would keep only the last value of a repeated name, so repeats are grouped
 * into one array value first. Names the upstream sends override preset ones.
 */
export function writeHeadArray(res: ServerResponse, status: number, headers: string[]): void {
  if (res.getHeaderNames().length === 0) {
    res.writeHead(status, headers);
    return;
  }
  res.writeHead(status, groupRepeats(headers));
}

/** `[a, 1, b, 2, a, 3]` → `[a, [1, 3], b, 2]` (case-insensitive names); the input when nothing repeats. */
function groupRepeats(headers: string[]): (string | string[])[] {
  const n = headers.length;
  let repeats = false;
  const lower: string[] = new Array(n / 2);
  for (let i = 0; i < n; i += 2) {
    const name = headers[i]!.toLowerCase();
    for (let j = 0; j < i / 2 && !repeats; j++) if (lower[j] === name) repeats = true;
    lower[i / 2] = name;
  }
  if (!repeats) return headers;
  const out: (string | string[])[] = [];
  const at = new Map<string, number>();
  for (let i = 0; i < n; i += 2) {
    const name = lower[i / 2]!;
    const seen = at.get(name);
    if (seen === undefined) {
      at.set(name, out.length);
      out.push(headers[i]!, headers[i + 1]!);
    } else {
      const prev = out[seen + 1]!;
      out[seen + 1] = Array.isArray(prev) ? [...prev, headers[i + 1]!] : [prev, headers[i + 1]!];
    }
  }
  return out;
}
