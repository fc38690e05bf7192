/**
 * Who a request counts against: the client IP (with an explicit proxy-trust policy), an API key,
 * a header, the unverified `sub` of a Bearer JWT, or any function.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { FleetgateError } from '../errors.js';

/** Derives the bucket key of a request. */
export type KeyGenerator = (req: IncomingMessage) => string;

/**
 * Which `X-Forwarded-For` hops to believe: `false` none (the socket address is the client),
 * `true` all (the left-most address), a number of trusted proxy hops in front of the gateway,
 * or a list of trusted proxy addresses/CIDRs (walked from the right, as Express does).
 */
export type TrustProxy = boolean | number | readonly string[];

/** How to key requests: a built-in name, a header, or a function. */
export type KeySpec = 'ip' | 'api-key' | 'jwt-sub' | { header: string } | KeyGenerator;

/** The header read by the `'api-key'` key. */
export const API_KEY_HEADER = 'x-api-key';

/**
 * Builds the key generator for a spec. Secrets (API keys, header values) are hashed so they
 * never appear in store keys; a missing key falls back to the client IP.
 * @example const keyOf = createKeyGenerator('jwt-sub', { trustProxy: 1 });
 */
export function createKeyGenerator(spec: KeySpec, options: { trustProxy?: TrustProxy } = {}): KeyGenerator {
  const ipOf = createIpResolver(options.trustProxy ?? false);
  const byIp: KeyGenerator = (req) => `ip:${ipOf(req)}`;
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

/**
 * Builds `(req) => client address` under a trust policy.
 * @example createIpResolver(['10.0.0.0/8'])(req) // first address left of the trusted proxies
 */
export function createIpResolver(trust: TrustProxy): (req: IncomingMessage) => string {
  const trusted = compileTrust(trust);
  return (req) => {
    const socketAddr = normaliseIp(req.socket.remoteAddress ?? '');
    if (trusted === undefined) return socketAddr;
    const header = req.headers['x-forwarded-for'];
    const xff = Array.isArray(header) ? header.join(',') : header;
    if (!xff) return socketAddr;
    // Nearest hop first: the socket, then X-Forwarded-For from right to left.
    const hops = xff.split(',').map((s) => normaliseIp(s.trim()));
    let addr = socketAddr;
    for (let i = 0; trusted(addr, i) && hops.length > 0; i++) {
      const next = hops.pop() as string;
      if (next === '') break;
      addr = next;
    }
    return addr;
  };
}

function compileTrust(trust: TrustProxy): ((addr: string, hop: number) => boolean) | undefined {
  if (trust === false || trust === 0) return undefined;
  if (trust === true) return () => true;
  if (typeof trust === 'number') {
    if (!Number.isInteger(trust) || trust < 0) invalidTrust(trust);
    return (_addr, hop) => hop < trust;
  }
  if (!Array.isArray(trust)) invalidTrust(trust);
  const list = new BlockList();
  for (const entry of trust) {
    const [addr = '', bits] = entry.split('/');
    const family = isIPv4(addr) ? 'ipv4' : isIPv6(addr) ? 'ipv6' : undefined;
    const prefix = bits === undefined ? (family === 'ipv4' ? 32 : 128) : Number(bits);
    if (family === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 'ipv4' ? 32 : 128)) {
      invalidTrust(entry);
    }
    list.addSubnet(addr, prefix, family);
  }
  return (addr) => (isIPv4(addr) ? list.check(addr, 'ipv4') : isIPv6(addr) ? list.check(addr, 'ipv6') : false);
}

function invalidTrust(value: unknown): never {
  throw new FleetgateError('ERR_FG_INVALID_CONFIG', `rateLimit: invalid trustProxy ${JSON.stringify(value)}`, {
    details: { option: 'trustProxy', expected: 'boolean | hop count | list of addresses/CIDRs' },
  });
}

/** `::ffff:1.2.3.4` → `1.2.3.4`, so one client has one key whichever socket family it used. */
export function normaliseIp(addr: string): string {
  return addr.startsWith('::ffff:') && isIPv4(addr.slice(7)) ? addr.slice(7) : addr;
}
