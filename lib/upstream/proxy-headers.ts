/**
 * Header handling on both legs of a proxied request (README "Routing and proxying", docs/forwarded-headers.md).
 *
 * Upstream: hop-by-hop headers and the ones the client's `Connection` names are dropped FIRST,
 * then the gateway adds its own (`X-Forwarded-For/Proto/Host`, `Via`, `X-Request-Id`,
 * `traceparent`), which no `Connection` can therefore strip. `X-Forwarded-*`, `Forwarded` and
 * `X-Real-IP` are extended only when the socket peer is a trusted proxy (lib/core/client-address.ts)
 * and replaced by what the gateway saw otherwise. Two `Host` headers and a `Via` loop are found
 * on the way and reported in {@link RequestHeadInfo.refusal}.
 *
 * Downstream: the same for the upstream's `Connection`, then `X-Gateway`, `Server-Timing` and
 * `Via` are stamped. Headers are flat `[name, value, …]` arrays built with plain loops: no
 * objects, no regexes on the request path.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { ClientAddressResolver, normaliseIp } from '../core/client-address.js';
import { isSafeRequestId, isTraceparent, newRequestId, newTraceparent } from '../core/request-ids.js';
import { FleetgateError } from '../errors.js';
import { packageVersion } from '../version.js';
import { DEFAULT_MAX_HOPS, inspectVia, isGatewayId, loopError, PROCESS_GATEWAY_ID, VIA_LOOP } from './via.js';

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
const VIA = 13;
/** Other forwarding headers: passed on from trusted proxies only. */
const FORWARDED = 14;

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
  forwarded: FORWARDED,
  'x-real-ip': FORWARDED,
  'x-request-id': REQUEST_ID,
  traceparent: TRACEPARENT,
  via: VIA,
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
  // The gateway says its own version; an upstream's claim is dropped.
  'x-gateway-version': DROP,
  via: VIA,
  'content-length': CONTENT_LENGTH,
  'content-type': CONTENT_TYPE,
});

/** Sent as `X-Gateway-Version` on every response the gateway writes or relays. */
export const GATEWAY_VERSION: string = packageVersion();

/** Names a `Connection` header may not take away: message framing and the target host. */
const FRAMING: ReadonlySet<string> = new Set(['content-length', 'transfer-encoding', 'host']);

/** What {@link buildUpstreamHeaders} learnt about the request while copying its headers. */
export interface RequestHeadInfo {
  /** `X-Request-Id`: the client's when it is safe to keep, or a generated one. */
  requestId: string;
  /** `Content-Length` of the client's body; -1 when absent. */
  contentLength: number;
  /** The client sent `Transfer-Encoding` (a streamed body of unknown length). */
  chunked: boolean;
  /** The client sent `Expect` (e.g. `100-continue`). */
  expect: boolean;
  /** Why the request must not be forwarded (two `Host` headers, a `Via` loop); undefined when it may. */
  refusal: FleetgateError | undefined;
}

/** How the gateway presents itself upstream. */
export interface UpstreamHeaderOptions {
  /** Send the client's `Host` upstream instead of the instance's own. @default false */
  preserveHost: boolean;
  /** Whose `X-Forwarded-*` are believed (the shared `trustProxy`). @default nobody */
  clients: ClientAddressResolver;
  /** The gateway's `received-by` in `Via`. @default PROCESS_GATEWAY_ID */
  gatewayId: string;
  /** Requests already carrying this many `Via` entries are refused (508). @default DEFAULT_MAX_HOPS */
  maxHops: number;
}

/** What {@link upstreamHeaderOptions} accepts. */
export interface UpstreamHeaderSettings {
  preserveHost?: boolean;
  /** CIDRs or names (lib/core/client-address.ts), or a resolver built already. */
  trustProxy?: ClientAddressResolver | false | readonly string[];
  gatewayId?: string;
  maxHops?: number;
}

/**
 * Validated, frozen {@link UpstreamHeaderOptions}.
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` for a bad gateway id, hop limit or trust list.
 * @example upstreamHeaderOptions({ trustProxy: ['10.0.0.0/8'], gatewayId: 'edge-1' })
 */
export function upstreamHeaderOptions(settings: UpstreamHeaderSettings = {}): Readonly<UpstreamHeaderOptions> {
  const { trustProxy, gatewayId = PROCESS_GATEWAY_ID, maxHops = DEFAULT_MAX_HOPS } = settings;
  if (!isGatewayId(gatewayId)) {
    throw new FleetgateError('ERR_FG_INVALID_CONFIG', `gatewayId ${JSON.stringify(gatewayId)} is not a token`, {
      details: { option: 'gatewayId', expected: "letters, digits and !#$%&'*+.^_`|~- (at most 64)" },
    });
  }
  if (!(Number.isInteger(maxHops) && maxHops >= 1)) {
    throw new FleetgateError('ERR_FG_INVALID_CONFIG', `maxHops must be an integer ≥ 1, got ${String(maxHops)}`, {
      details: { option: 'maxHops' },
    });
  }
  return Object.freeze({
    preserveHost: settings.preserveHost ?? false,
    clients: trustProxy instanceof ClientAddressResolver ? trustProxy : new ClientAddressResolver(trustProxy ?? false),
    gatewayId,
    maxHops,
  });
}

/**
 * Copies the client's request headers for the upstream request.
 * @param info receives the request id, body framing, expectation and any refusal found on the way.
 * @returns a flat `[name, value, …]` array for undici's `dispatch`.
 */
export function buildUpstreamHeaders(
  req: IncomingMessage,
  options: UpstreamHeaderOptions,
  info: RequestHeadInfo,
): string[] {
  const raw = req.rawHeaders;
  let out: string[] = [];
  let connection: string | undefined;
  let xff: string | undefined;
  let proto: string | undefined;
  let fwdHost: string | undefined;
  let host: string | undefined;
  let hosts = 0;
  let requestId: string | undefined;
  let traceparent: string | undefined;
  let via: string | undefined;
  let length: string | undefined;
  let forwarded: string[] | undefined;
  info.contentLength = -1;
  info.chunked = false;
  info.expect = false;
  info.refusal = undefined;
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
        hosts++;
        if (host === undefined) host = value;
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
      case FORWARDED:
        if (forwarded === undefined) forwarded = [name, value];
        else forwarded.push(name, value);
        break;
      case REQUEST_ID:
        if (requestId === undefined && value !== '') requestId = value;
        break;
      case TRACEPARENT:
        if (traceparent === undefined && isTraceparent(value)) traceparent = value;
        break;
      case VIA:
        via = via === undefined ? value : `${via}, ${value}`;
        break;
      case CONTENT_LENGTH:
        if (length === undefined) {
          length = value;
          info.contentLength = Number(value);
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
  if (hosts > 1) info.refusal = duplicateHostError(hosts);
  // The loop check reads every Via entry, also those the client nominates for removal.
  if (via !== undefined) {
    const hops = inspectVia(via, options.gatewayId);
    if (hops === VIA_LOOP || hops >= options.maxHops) {
      info.refusal ??= loopError(hops, options.gatewayId, options.maxHops);
    }
  }
  const named = connection === undefined ? undefined : connectionNames(connection);
  if (named !== undefined) {
    // Before the gateway's own headers are added, so a client can remove only what it sent.
    out = dropNamed(out, named);
    if (named.includes('x-forwarded-for')) xff = undefined;
    if (named.includes('x-forwarded-proto')) proto = undefined;
    if (named.includes('x-forwarded-host')) fwdHost = undefined;
    if (named.includes('x-request-id')) requestId = undefined;
    if (named.includes('traceparent')) traceparent = undefined;
    if (named.includes('via')) via = undefined;
    if (forwarded !== undefined) forwarded = dropNamed(forwarded, named);
  }
  if (length !== undefined) out.push('content-length', length);
  if (options.preserveHost && host !== undefined) out.push('host', host);
  const remote = req.socket.remoteAddress;
  const trusted = options.clients.enabled && options.clients.trusts(remote);
  if (trusted) {
    if (forwarded !== undefined) for (let i = 0; i < forwarded.length; i++) out.push(forwarded[i]!);
  } else {
    xff = undefined;
    proto = undefined;
    fwdHost = undefined;
  }
  const peer = remote === undefined ? undefined : (normaliseIp(remote) ?? remote);
  if (peer !== undefined) out.push('x-forwarded-for', xff === undefined ? peer : `${xff}, ${peer}`);
  else if (xff !== undefined) out.push('x-forwarded-for', xff);
  out.push('x-forwarded-proto', proto ?? ((req.socket as TLSSocket).encrypted === true ? 'https' : 'http'));
  if (fwdHost !== undefined || host !== undefined) out.push('x-forwarded-host', (fwdHost ?? host)!);
  const entry = viaEntry(req.httpVersion, options.gatewayId);
  out.push('via', via === undefined ? entry : `${via}, ${entry}`);
  if (requestId === undefined || !isSafeRequestId(requestId)) requestId = newRequestId();
  out.push('x-request-id', requestId, 'traceparent', traceparent ?? newTraceparent());
  info.requestId = requestId;
  return out;
}

/** The names {@link forwardedHeaders} returns. */
const FORWARDING_NAMES: ReadonlySet<string> = new Set([
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'forwarded',
  'x-real-ip',
  'via',
]);

/**
 * Only the forwarding headers (`X-Forwarded-*`, `Via`, and `Forwarded`/`X-Real-IP` from trusted
 * proxies) exactly as {@link buildUpstreamHeaders} would send them, lower-case names: for
 * connections the gateway opens on a client's behalf (WebSocket message-routing links).
 * @example new WebSocket(url, { headers: forwardedHeaders(req, options) })
 */
export function forwardedHeaders(req: IncomingMessage, options: UpstreamHeaderOptions): Record<string, string> {
  const info: RequestHeadInfo = { requestId: '', contentLength: -1, chunked: false, expect: false, refusal: undefined };
  const all = buildUpstreamHeaders(req, options, info);
  const out: Record<string, string> = {};
  for (let i = 0; i < all.length; i += 2) {
    const name = all[i]!.toLowerCase();
    if (FORWARDING_NAMES.has(name)) out[name] = out[name] === undefined ? all[i + 1]! : `${out[name]}, ${all[i + 1]}`;
  }
  return out;
}

/** This gateway's `Via` entry for a message received over HTTP/`version`. */
export function viaEntry(version: string | undefined, gatewayId: string): string {
  return `${version === undefined || version === '1.1' ? '1.1' : version} ${gatewayId}`;
}

function duplicateHostError(count: number): FleetgateError {
  return new FleetgateError('ERR_FG_BAD_HEADER', `the request has ${count} Host headers; exactly one is allowed`);
}

/** What {@link buildClientHeaders} learnt about the response while copying its headers. */
export interface ResponseHeadInfo {
  /** Send the head at once instead of with the first body chunk: event streams, bodies of unknown length. */
  flushHead: boolean;
}

/**
 * Copies the upstream's response headers (undici's raw `Buffer`s, decoded as latin1 so bytes
 * pass through unchanged) for the client, and stamps `X-Gateway`, `Server-Timing`, `Via` and,
 * when the upstream did not set it, `X-Request-Id`.
 * @param elapsedMs time spent at the gateway up to the response head.
 * @param via this gateway's `Via` entry ({@link viaEntry}).
 */
export function buildClientHeaders(
  raw: readonly (Buffer | string)[],
  requestId: string,
  elapsedMs: number,
  info: ResponseHeadInfo,
  via: string,
): string[] {
  let out: string[] = [];
  let connection: string | undefined;
  let upstreamVia: string | undefined;
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
      if (action === VIA) {
        upstreamVia = upstreamVia === undefined ? value : `${upstreamVia}, ${value}`;
        continue;
      }
      if (action === REQUEST_ID) sawRequestId = true;
      else if (action === CONTENT_LENGTH) sawLength = true;
      else if (value.startsWith('text/event-stream')) eventStream = true;
    }
    out.push(name, value);
  }
  const named = connection === undefined ? undefined : connectionNames(connection);
  if (named !== undefined) {
    out = dropNamed(out, named);
    if (named.includes('x-request-id')) sawRequestId = false;
    if (named.includes('via')) upstreamVia = undefined;
  }
  out.push(
    'x-gateway',
    'fleetgate',
    'x-gateway-version',
    GATEWAY_VERSION,
    'server-timing',
    `gateway;dur=${elapsedMs.toFixed(2)}`,
    'via',
    upstreamVia === undefined ? via : `${upstreamVia}, ${via}`,
  );
  if (!sawRequestId) out.push('x-request-id', requestId);
  info.flushHead = eventStream || !sawLength;
  return out;
}

/**
 * The header names a `Connection` value nominates (RFC 9110 §7.6.1), lower case; undefined when
 * it names none (`close`, `keep-alive`: the common case). Framing headers and `Host` are never
 * nominated away.
 */
export function connectionNames(connection: string): string[] | undefined {
  if (connection.length <= 10) {
    const only = connection.toLowerCase();
    if (only === 'keep-alive' || only === 'close') return undefined;
  }
  const names: string[] = [];
  for (const token of connection.split(',')) {
    const t = token.trim().toLowerCase();
    if (t !== '' && t !== 'close' && t !== 'keep-alive' && !FRAMING.has(t)) names.push(t);
  }
  return names.length === 0 ? undefined : names;
}

/** `headers` without the pairs whose (case-insensitive) name is in `names`. */
function dropNamed(headers: string[], names: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (!names.includes(headers[i]!.toLowerCase())) out.push(headers[i]!, headers[i + 1]!);
  }
  return out;
}
