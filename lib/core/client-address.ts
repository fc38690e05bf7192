/**
 * Who is calling: IP addresses and CIDR lists (IPv4, IPv6, IPv4-mapped IPv6) on node:net's
 * `BlockList`, and the ONE meaning of `trustProxy` every feature shares (registry allow-from,
 * registration rate limit, rate-limit keys, logs, the `X-Forwarded-*` the proxy emits).
 *
 * `trustProxy` is a list of the networks your own proxies (load balancers, CDNs) connect from.
 * `X-Forwarded-For` is read from the right: the socket peer first, then each hop a trusted proxy
 * appended; the first address that is not a trusted proxy is the client. A request whose peer is
 * not trusted is its own client, whatever its headers say. There is deliberately no "trust
 * everyone" (`true`): the left-most entry of `X-Forwarded-For` is whatever the client wrote.
 */
import type { IncomingMessage } from 'node:http';
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { FleetgateError } from '../errors.js';

/** One parsed network. */
export interface Cidr {
  /** The CIDR as written. */
  source: string;
  /** The network address, IPv4 dotted or IPv6 (an IPv4-mapped network is kept as IPv6). */
  address: string;
  /** Prefix length for the address's family. */
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/**
 * Names that stand for well-known networks in a `trustProxy` list or `TRUSTED_PROXIES`.
 * `loopback` is a proxy on the same host (a sidecar); `private` covers RFC 1918 and IPv6 ULA.
 */
export const NAMED_NETWORKS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  loopback: Object.freeze(['127.0.0.0/8', '::1/128']),
  private: Object.freeze(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7']),
  linklocal: Object.freeze(['169.254.0.0/16', 'fe80::/10']),
});

/**
 * An address as fleetgate reports it: brackets and `%zone` removed and IPv4-mapped IPv6
 * (`::ffff:1.2.3.4`, what a dual-stack socket reports) shown as IPv4, so one client has one
 * spelling in keys and logs; `undefined` when it is not an IP address.
 * @example normaliseIp('::ffff:127.0.0.1') // '127.0.0.1'
 */
export function normaliseIp(text: string): string | undefined {
  let s = text;
  if (isIPv4(s)) return s;
  if (s.charCodeAt(0) === 0x5b && s.charCodeAt(s.length - 1) === 0x5d) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  if (zone !== -1) s = s.slice(0, zone);
  if (isIPv4(s)) return s;
  if (!isIPv6(s)) return undefined;
  const lower = s.toLowerCase();
  if (lower.startsWith('::ffff:') && isIPv4(lower.slice(7))) return lower.slice(7);
  return lower;
}

function invalidCidr(cidr: string, source: string): never {
  throw new FleetgateError('ERR_FG_INVALID_CONFIG', `${source}: ${JSON.stringify(cidr)} is not a CIDR`, {
    details: { option: source, value: cidr, expected: 'an IPv4 or IPv6 CIDR, e.g. 10.0.0.0/8 or ::1/128' },
  });
}

/**
 * Parses `addr/len` (or a bare address, meaning one host).
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` naming `source` (an option or variable name).
 * @example parseCidr('10.0.0.0/8') // { address: '10.0.0.0', prefix: 8, family: 'ipv4', … }
 */
export function parseCidr(cidr: string, source = 'allowFrom'): Cidr {
  if (typeof cidr !== 'string') return invalidCidr(String(cidr), source);
  const slash = cidr.indexOf('/');
  const address = (slash === -1 ? cidr : cidr.slice(0, slash)).trim();
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) && !address.includes('%') ? 'ipv6' : undefined;
  if (family === undefined) return invalidCidr(cidr, source);
  const width = family === 'ipv4' ? 32 : 128;
  let prefix = width;
  if (slash !== -1) {
    const lenText = cidr.slice(slash + 1).trim();
    if (!/^\d{1,3}$/.test(lenText)) return invalidCidr(cidr, source);
    prefix = Number(lenText);
    if (prefix > width) return invalidCidr(cidr, source);
  }
  return { source: cidr, address, prefix, family };
}

/** Answers whether an address is inside any of a set of networks. */
export interface AllowList {
  /** The networks. */
  readonly cidrs: readonly Cidr[];
  /** True when `address` is an IP address inside one of the networks (IPv4 and its mapped IPv6 form alike). */
  allows(address: string | undefined): boolean;
}

/**
 * Builds an allow-list. An empty list allows nobody; `['0.0.0.0/0', '::/0']` allows everybody.
 * An IPv4 network also matches the `::ffff:a.b.c.d` form of its addresses, and
 * `::ffff:127.0.0.0/104` is the same network as `127.0.0.0/8`.
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` on the first malformed CIDR.
 * @example createAllowList(['127.0.0.0/8', '::1/128']).allows('::ffff:127.0.0.1') // true
 */
export function createAllowList(cidrs: readonly string[], source = 'allowFrom'): AllowList {
  const parsed = cidrs.map((c) => parseCidr(c, source));
  const list = new BlockList();
  for (const c of parsed) list.addSubnet(c.address, c.prefix, c.family);
  const check = (address: string): boolean => {
    if (isIPv4(address)) return list.check(address, 'ipv4');
    const ip = normaliseIp(address);
    if (ip === undefined) return false;
    return list.check(ip, isIPv4(ip) ? 'ipv4' : 'ipv6');
  };
  // BlockList.check builds a SocketAddress per call; a fleet calls from a few addresses over and
  // over. The list never changes, so verdicts are remembered, for a bounded number of addresses.
  const verdicts = new Map<string, boolean>();
  return {
    cidrs: parsed,
    allows(address) {
      if (address === undefined) return false;
      let verdict = verdicts.get(address);
      if (verdict === undefined) {
        verdict = check(address);
        if (verdicts.size >= MAX_REMEMBERED_ADDRESSES) verdicts.clear();
        verdicts.set(address, verdict);
      }
      return verdict;
    },
  };
}

/** Addresses whose allow-list verdict is remembered; past it the memory starts over. */
const MAX_REMEMBERED_ADDRESSES = 4096;

/**
 * The proxies whose `X-Forwarded-*` headers are believed: CIDRs and the names of
 * {@link NAMED_NETWORKS}, or `false` (the same as `[]`: nobody; the socket peer is the client).
 * @default false
 */
export type TrustProxy = false | readonly string[];

/**
 * Validates a `trustProxy` value and expands names into CIDRs.
 * @param source the option or variable name for the error message.
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` for `true`, hop counts, and malformed entries.
 * @example parseTrustProxy(['loopback', '10.0.0.0/8']) // ['127.0.0.0/8', '::1/128', '10.0.0.0/8']
 */
export function parseTrustProxy(value: unknown, source = 'trustProxy'): readonly string[] {
  if (value === false || value === undefined) return [];
  const expected = 'a list of your proxies’ CIDRs (or loopback, private, linklocal), or false';
  if (value === true || typeof value === 'number') {
    throw new FleetgateError(
      'ERR_FG_INVALID_CONFIG',
      `${source}: ${String(value)} is not accepted: trusting every X-Forwarded-For hop lets any client choose its address; list the networks your proxies connect from`,
      { details: { option: source, value, expected } },
    );
  }
  if (!Array.isArray(value)) {
    throw new FleetgateError('ERR_FG_INVALID_CONFIG', `${source}: expected ${expected}`, {
      details: { option: source, value, expected },
    });
  }
  const out: string[] = [];
  for (const entry of value as unknown[]) {
    if (typeof entry !== 'string') return invalidCidr(String(entry), source);
    const named = NAMED_NETWORKS[entry.trim().toLowerCase()];
    if (named !== undefined) out.push(...named);
    else out.push(parseCidr(entry, source).source.trim());
  }
  return out;
}

/** What {@link ClientAddressResolver.resolve} found out about a request. */
export interface ClientAddress {
  /** The client: the first address, from the right, that is not a trusted proxy. */
  address: string;
  /** The socket peer (normalised). */
  peer: string;
  /** Whether the peer is a trusted proxy, i.e. whether its forwarded headers are believed. */
  trustedPeer: boolean;
}

/**
 * Resolves client addresses under one trust policy.
 * @example
 * const clients = new ClientAddressResolver(['10.0.0.0/8']);
 * clients.addressOf(req) // '203.0.113.9' for peer 10.0.0.2 and X-Forwarded-For: 203.0.113.9
 */
export class ClientAddressResolver {
  /** The trusted networks, names expanded. */
  readonly cidrs: readonly string[];
  readonly #list: AllowList | undefined;

  /**
   * @throws FleetgateError `ERR_FG_INVALID_CONFIG` for an invalid `trust` (see {@link parseTrustProxy}).
   */
  constructor(trust: TrustProxy = false, source = 'trustProxy') {
    this.cidrs = Object.freeze(parseTrustProxy(trust, source));
    this.#list = this.cidrs.length === 0 ? undefined : createAllowList(this.cidrs, source);
  }

  /** Whether any proxy is trusted. */
  get enabled(): boolean {
    return this.#list !== undefined;
  }

  /** Whether `address` (as the socket reports it) is a trusted proxy. */
  trusts(address: string | undefined): boolean {
    return this.#list?.allows(address) === true;
  }

  /** The client's address, normalised; `'unknown'` when the socket has none (already closed). */
  addressOf(req: IncomingMessage): string {
    return this.resolve(req).address;
  }

  /** The client, the peer and whether the peer's forwarded headers count. */
  resolve(req: IncomingMessage): ClientAddress {
    const raw = req.socket?.remoteAddress;
    const peer = raw === undefined ? 'unknown' : (normaliseIp(raw) ?? raw);
    const list = this.#list;
    if (list === undefined || !list.allows(peer)) return { address: peer, peer, trustedPeer: false };
    const header = req.headers['x-forwarded-for'];
    const xff = Array.isArray(header) ? header.join(',') : header;
    let address = peer;
    if (xff !== undefined && xff !== '') {
      const hops = xff.split(',');
      // Nearest hop first. An entry that is not an address ends the walk at the last proxy that wrote one.
      for (let i = hops.length - 1; i >= 0; i--) {
        const hop = normaliseIp(hops[i]!.trim());
        if (hop === undefined) break;
        address = hop;
        if (!list.allows(hop)) break;
      }
    }
    return { address, peer, trustedPeer: true };
  }
}

/**
 * The bucket key of a caller address for per-source limits: IPv4 (also when mapped into IPv6) as
 * itself, IPv6 by its /64, because one host usually owns a whole /64 and could rotate through it.
 * @example sourceKey('::ffff:10.1.2.3') // '10.1.2.3'
 * @example sourceKey('2001:db8:1:2:3::4') // '2001:db8:1:2::/64'
 */
export function sourceKey(address: string | undefined): string {
  if (address === undefined) return 'unknown';
  const ip = normaliseIp(address);
  if (ip === undefined) return address;
  if (isIPv4(ip)) return ip;
  return `${ipv6Groups(ip).slice(0, 4).join(':')}::/64`;
}

/** The eight groups of an IPv6 address node:net accepted, as lower-case hex without leading zeros. */
function ipv6Groups(ip: string): string[] {
  const toGroups = (part: string): string[] => {
    if (part === '') return [];
    const out: string[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const [a = 0, b = 0, c = 0, d = 0] = g.split('.').map(Number);
        out.push(((a << 8) | b).toString(16), ((c << 8) | d).toString(16));
      } else out.push(Number.parseInt(g, 16).toString(16));
    }
    return out;
  };
  const gap = ip.indexOf('::');
  const head = toGroups(gap === -1 ? ip : ip.slice(0, gap));
  const tail = gap === -1 ? [] : toGroups(ip.slice(gap + 2));
  return [...head, ...new Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
}
