/**
 * `securityHeaders()`: helmet-grade response headers for an API gateway (the Spring Cloud
 * Gateway article: HSTS, CSP, X-Frame-Options, X-Content-Type-Options), on every response that
 * passes through: the gateway's own errors and proxied answers alike. They are set before the
 * response starts, so an upstream that sends its own value of a header replaces the default
 * (the proxy writes upstream headers over these), and each one can be changed or turned off.
 * HSTS is sent only on HTTPS: on the socket, or from a trusted proxy's `X-Forwarded-Proto`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { ClientAddressResolver, type TrustProxy } from '../core/client-address.js';
import { mergeDefined } from '../core/options-merge.js';
import { FleetgateError } from '../errors.js';

/** `Strict-Transport-Security` settings. */
export interface HstsOptions {
  /** @default 31536000 (one year) */
  maxAgeSeconds: number;
  /** @default true */
  includeSubDomains: boolean;
  /** @default false */
  preload: boolean;
}

/** Options of {@link securityHeaders}; `false` turns a header off. */
export interface SecurityHeadersOptions {
  /** HSTS on HTTPS responses. @default { maxAgeSeconds: 31536000, includeSubDomains: true, preload: false } */
  hsts: Partial<HstsOptions> | false;
  /** A CSP for APIs: nothing may load, nothing may frame. @default "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'" */
  contentSecurityPolicy: string | false;
  /** @default 'DENY' */
  frameOptions: 'DENY' | 'SAMEORIGIN' | false;
  /** `X-Content-Type-Options: nosniff`. @default true */
  noSniff: boolean;
  /** @default 'no-referrer' */
  referrerPolicy: string | false;
  /** @default 'same-origin' */
  crossOriginOpenerPolicy: string | false;
  /** @default 'same-origin' */
  crossOriginResourcePolicy: string | false;
  /** Further headers, or `false` to drop one of the above by name. @default {} */
  headers: Readonly<Record<string, string | false>>;
  /** Remove `X-Powered-By` (Express sets it). @default true */
  removePoweredBy: boolean;
  /** Proxies whose `X-Forwarded-Proto: https` counts as HTTPS for HSTS. @default false */
  trustProxy: TrustProxy;
}

/** Defaults of {@link SecurityHeadersOptions}. Frozen. */
export const SECURITY_HEADERS_DEFAULTS: Readonly<SecurityHeadersOptions> = Object.freeze({
  hsts: Object.freeze({ maxAgeSeconds: 31_536_000, includeSubDomains: true, preload: false }),
  contentSecurityPolicy: "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  frameOptions: 'DENY',
  noSniff: true,
  referrerPolicy: 'no-referrer',
  crossOriginOpenerPolicy: 'same-origin',
  crossOriginResourcePolicy: 'same-origin',
  headers: Object.freeze({}),
  removePoweredBy: true,
  trustProxy: false,
} satisfies SecurityHeadersOptions);

type Next = (err?: unknown) => void;

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Creates the middleware.
 * @example app.use(securityHeaders({ contentSecurityPolicy: "default-src 'self'", frameOptions: 'SAMEORIGIN' }));
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` on invalid options.
 */
export function securityHeaders(
  options: Partial<SecurityHeadersOptions> = {},
): (req: IncomingMessage, res: ServerResponse, next: Next) => void {
  const o: SecurityHeadersOptions = mergeDefined(SECURITY_HEADERS_DEFAULTS, options);
  const set = new Map<string, string>();
  const put = (name: string, value: string | false): void => {
    if (value === false) return;
    if (typeof value !== 'string' || /[\r\n\0]/.test(value)) invalid(name, value);
    set.set(name, value);
  };
  put('content-security-policy', o.contentSecurityPolicy);
  if (o.frameOptions !== false && o.frameOptions !== 'DENY' && o.frameOptions !== 'SAMEORIGIN') {
    invalid('frameOptions', o.frameOptions);
  }
  put('x-frame-options', o.frameOptions);
  if (o.noSniff) set.set('x-content-type-options', 'nosniff');
  put('referrer-policy', o.referrerPolicy);
  put('cross-origin-opener-policy', o.crossOriginOpenerPolicy);
  put('cross-origin-resource-policy', o.crossOriginResourcePolicy);
  for (const [name, value] of Object.entries(o.headers)) {
    if (!TOKEN.test(name)) invalid(`headers.${name}`, name);
    if (value === false) set.delete(name.toLowerCase());
    else put(name.toLowerCase(), value);
  }
  let hsts: string | undefined;
  if (o.hsts !== false && o.headers['strict-transport-security'] !== false) {
    const h: HstsOptions = mergeDefined(SECURITY_HEADERS_DEFAULTS.hsts as HstsOptions, o.hsts);
    if (!(Number.isInteger(h.maxAgeSeconds) && h.maxAgeSeconds >= 0)) invalid('hsts.maxAgeSeconds', h.maxAgeSeconds);
    hsts = `max-age=${h.maxAgeSeconds}${h.includeSubDomains ? '; includeSubDomains' : ''}${h.preload ? '; preload' : ''}`;
  }
  set.delete('strict-transport-security');
  const pairs = [...set];
  const clients = new ClientAddressResolver(o.trustProxy, 'securityHeaders.trustProxy');

  const isHttps = (req: IncomingMessage): boolean => {
    if ((req.socket as TLSSocket | undefined)?.encrypted === true) return true;
    if (!clients.enabled || !clients.trusts(req.socket?.remoteAddress)) return false;
    const proto = req.headers['x-forwarded-proto'];
    const first = (Array.isArray(proto) ? proto[0] : proto)?.split(',')[0]?.trim().toLowerCase();
    return first === 'https';
  };

  return function securityHeadersMiddleware(req, res, next) {
    for (let i = 0; i < pairs.length; i++) res.setHeader(pairs[i]![0], pairs[i]![1]);
    if (hsts !== undefined && isHttps(req)) res.setHeader('strict-transport-security', hsts);
    if (o.removePoweredBy) res.removeHeader('x-powered-by');
    next();
  };
}

function invalid(option: string, value: unknown): never {
  throw new FleetgateError('ERR_FG_INVALID_CONFIG', `securityHeaders: invalid ${option} ${JSON.stringify(value)}`, {
    details: { option, value },
  });
}
