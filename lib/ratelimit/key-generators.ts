/**
 * Who a request counts against: the client IP (resolved under the shared `trustProxy` meaning of
 * lib/core/client-address.ts), an API key, a header, the unverified `sub` of a Bearer JWT, or
 * any function.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ClientAddressResolver, type TrustProxy } from '../core/client-address.js';
import { FleetgateError } from '../errors.js';

/** Derives the bucket key of a request. */
export type KeyGenerator = (req: IncomingMessage) => string;

/** How to key requests: a built-in name, a header, or a function. */
export type KeySpec = 'ip' | 'api-key' | 'jwt-sub' | { header: string } | KeyGenerator;

/** The header read by the `'api-key'` key. */
export const API_KEY_HEADER = 'x-api-key';

/**
 * Builds the key generator for a spec. Secrets (API keys, header values) are hashed so they
 * never appear in store keys; a missing key falls back to the client IP.
 * @example const keyOf = createKeyGenerator('jwt-sub', { trustProxy: ['10.0.0.0/8'] });
 */
export function createKeyGenerator(spec: KeySpec, options: { trustProxy?: TrustProxy } = {}): KeyGenerator {
  const clients = new ClientAddressResolver(options.trustProxy ?? false, 'rateLimit: trustProxy');
  const byIp: KeyGenerator = (req) => `ip:${clients.addressOf(req)}`;
  if (typeof spec === 'function') return spec;
  if (spec === 'ip') return byIp;
  if (spec === 'api-key') return byHeader(API_KEY_HEADER, 'key:', byIp);
  if (spec === 'jwt-sub') {
    return (req) => {
      const sub = jwtSubject(req.headers.authorization);
      return sub === undefined ? byIp(req) : `sub:${sub}`;
    };
  }
  if (typeof spec === 'object' && spec !== null && typeof spec.header === 'string' && spec.header !== '') {
    const name = spec.header.toLowerCase();
    return byHeader(name, `hdr:${name}:`, byIp);
  }
  throw new FleetgateError('ERR_FG_INVALID_CONFIG', `rateLimit: invalid key ${JSON.stringify(spec)}`, {
    details: { option: 'key', expected: "'ip' | 'api-key' | 'jwt-sub' | { header } | (req) => string" },
  });
}

function byHeader(name: string, prefix: string, fallback: KeyGenerator): KeyGenerator {
  return (req) => {
    const raw = req.headers[name];
    const value = Array.isArray(raw) ? raw[0] : raw;
    return value ? prefix + createHash('sha256').update(value).digest('base64url').slice(0, 22) : fallback(req);
  };
}

/**
 * The `sub` claim of `Authorization: Bearer <jwt>`, DECODED BUT NOT VERIFIED: a client can put
 * anything there, so use it only behind something that verifies tokens.
 */
export function jwtSubject(authorization: string | undefined): string | undefined {
  if (authorization === undefined || !/^bearer /i.test(authorization)) return undefined;
  const parts = authorization.slice(7).trim().split('.');
  if (parts.length !== 3 || parts[1] === undefined) return undefined;
  try {
    const payload: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    const sub = (payload as { sub?: unknown } | null)?.sub;
    return typeof sub === 'string' && sub !== '' ? sub : typeof sub === 'number' ? String(sub) : undefined;
  } catch {
    return undefined;
  }
}
