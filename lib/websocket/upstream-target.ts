/**
 * Where an upstream WebSocket lives: an instance's base URL parsed once, the headers of the
 * upgrade request sent to it, and the message-routing endpoint a service declares
 * (`metadata.ws_path`, default `/ws`).
 */
import type { IncomingMessage } from 'node:http';
import type { ServiceInstance } from '../registry/model.js';
import { buildUpstreamHeaders, type RequestHeadInfo, type UpstreamHeaderOptions } from '../upstream/proxy-headers.js';

/** An instance's base URL, parsed. */
export interface UpstreamEndpoint {
  secure: boolean;
  /** Host name or address, without brackets. */
  hostname: string;
  port: number;
  /** `Host` header value. */
  host: string;
  /** Path prefix of the base URL without a trailing slash (`''` for none). */
  basePath: string;
}

const cache = new Map<string, UpstreamEndpoint | null>();
const CACHE_LIMIT = 4096;

/**
 * Parses an instance URL (`http(s)://host:port[/base]`); `undefined` when it is not one.
 * @example endpointOf('http://127.0.0.1:7812').port // 7812
 */
export function endpointOf(url: string): UpstreamEndpoint | undefined {
  let hit = cache.get(url);
  if (hit === undefined) {
    hit = parse(url);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(url, hit);
  }
  return hit ?? undefined;
}

function parse(url: string): UpstreamEndpoint | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  const secure = u.protocol === 'https:' || u.protocol === 'wss:';
  if (!secure && u.protocol !== 'http:' && u.protocol !== 'ws:') return null;
  const hostname = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  return {
    secure,
    hostname,
    port: u.port === '' ? (secure ? 443 : 80) : Number(u.port),
    host: u.host,
    basePath: u.pathname === '/' ? '' : u.pathname.replace(/\/+$/, ''),
  };
}

/**
 * The header list (flat `[name, value, …]`) of the upgrade request sent upstream, without `Host`
 * (added per instance): the client's headers without hop-by-hop ones, the gateway's
 * `X-Forwarded-*`, `Via`, `X-Request-Id` and `traceparent` (exactly as the HTTP proxy sends them:
 * lib/upstream/proxy-headers.ts), then the upgrade pair itself. A refusal found on the way (two
 * `Host` headers, a `Via` loop) lands in `info.refusal`.
 */
export function upgradeRequestHeaders(
  req: IncomingMessage,
  forwarding: UpstreamHeaderOptions,
  info: RequestHeadInfo,
): string[] {
  const out = buildUpstreamHeaders(
    req,
    forwarding.preserveHost ? { ...forwarding, preserveHost: false } : forwarding,
    info,
  );
  out.push('connection', 'Upgrade', 'upgrade', req.headers.upgrade ?? 'websocket');
  return out;
}

/**
 * The message-routing endpoint of an instance: its URL with a `ws(s)` scheme plus
 * `metadata.ws_path` (or `defaultPath`).
 * @example messageEndpointUrl(inst, '/ws') // 'ws://127.0.0.1:7812/ws'
 */
export function messageEndpointUrl(instance: ServiceInstance, defaultPath: string): string | undefined {
  const ep = endpointOf(instance.url);
  if (ep === undefined) return undefined;
  const declared = instance.metadata?.ws_path;
  const path = typeof declared === 'string' && declared.startsWith('/') ? declared : defaultPath;
  return `${ep.secure ? 'wss' : 'ws'}://${ep.host}${ep.basePath}${path}`;
}
