/**
 * CIDR allow-lists for the registration API (`REGISTRY_ALLOW_FROM`), for IPv4 and IPv6.
 *
 * Every address is held as a 128-bit IPv6 number with IPv4 mapped into `::ffff:0:0/96`, so an
 * IPv4 CIDR also matches the `::ffff:a.b.c.d` form a dual-stack socket reports, and
 * `::ffff:127.0.0.0/104` is the same network as `127.0.0.0/8`.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { FleetgateError } from '../../errors.js';

const V4_MAPPED = 0xffffn << 32n;
const ALL_ONES = (1n << 128n) - 1n;

/** One parsed network. */
export interface Cidr {
  /** The CIDR as written. */
  source: string;
  /** Network address as a 128-bit number (IPv4 mapped). */
  network: bigint;
  /** Prefix length over 128 bits (an IPv4 `/8` is `/104`). */
  prefix: number;
}

/**
 * Parses an IPv4 or IPv6 address (brackets and `%zone` allowed) to a 128-bit number,
 * IPv4 mapped into `::ffff:0:0/96`; `undefined` when it is not an address.
 * @example parseIp('127.0.0.1') === parseIp('::ffff:127.0.0.1') // true
 */
export function parseIp(text: string): bigint | undefined {
  let s = text.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  if (zone !== -1) s = s.slice(0, zone);
  if (isIPv4(s)) return V4_MAPPED | v4ToBigInt(s);
  if (isIPv6(s)) return v6ToBigInt(s);
  return undefined;
}

/** True when the 128-bit address is an IPv4 address (mapped). */
export function isMappedV4(ip: bigint): boolean {
  return ip >> 32n === 0xffffn;
}

/**
 * Parses `addr/len` (or a bare address, meaning one host).
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` naming `source` (an option or variable name).
 * @example parseCidr('10.0.0.0/8') // { network: ::ffff:10.0.0.0, prefix: 104 }
 */
export function parseCidr(cidr: string, source = 'allowFrom'): Cidr {
  const bad = (): never => {
    throw new FleetgateError('ERR_FG_INVALID_CONFIG', `${source}: ${JSON.stringify(cidr)} is not a CIDR`, {
      details: { option: source, value: cidr, expected: 'an IPv4 or IPv6 CIDR, e.g. 10.0.0.0/8 or ::1/128' },
    });
  };
  const slash = cidr.indexOf('/');
  const addr = (slash === -1 ? cidr : cidr.slice(0, slash)).trim();
  const ip = parseIp(addr);
  if (ip === undefined || addr.includes('%')) return bad();
  const v4 = isIPv4(addr);
  const width = v4 ? 32 : 128;
  let len = width;
  if (slash !== -1) {
    const lenText = cidr.slice(slash + 1).trim();
    if (!/^\d{1,3}$/.test(lenText)) return bad();
    len = Number(lenText);
    if (len > width) return bad();
  }
  const prefix = v4 ? 96 + len : len;
  return { source: cidr, network: ip & maskOf(prefix), prefix };
}

/** Answers whether an address is inside any of a set of networks. */
export interface AllowList {
  /** The networks. */
  readonly cidrs: readonly Cidr[];
  /** True when `address` parses and lies in one of the networks. */
  allows(address: string | undefined): boolean;
}

/**
 * Builds an allow-list. An empty list allows nobody; `['0.0.0.0/0', '::/0']` allows everybody.
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` on the first malformed CIDR.
 * @example createAllowList(['127.0.0.0/8', '::1/128']).allows('::ffff:127.0.0.1') // true
 */
export function createAllowList(cidrs: readonly string[], source = 'allowFrom'): AllowList {
  const parsed = cidrs.map((c) => parseCidr(c, source));
  const masks = parsed.map((c) => maskOf(c.prefix));
  return {
    cidrs: parsed,
    allows(address) {
      if (address === undefined) return false;
      const ip = parseIp(address);
      if (ip === undefined) return false;
      for (let i = 0; i < parsed.length; i++) if ((ip & masks[i]!) === parsed[i]!.network) return true;
      return false;
    },
  };
}

function maskOf(prefix: number): bigint {
  return prefix === 0 ? 0n : (ALL_ONES << BigInt(128 - prefix)) & ALL_ONES;
}

function v4ToBigInt(s: string): bigint {
  let n = 0n;
  for (const part of s.split('.')) n = (n << 8n) | BigInt(Number(part));
  return n;
}

/** Expects a string node:net already accepted as IPv6. */
function v6ToBigInt(s: string): bigint {
  const toGroups = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const v4 = Number(v4ToBigInt(g));
        out.push(v4 >>> 16, v4 & 0xffff);
      } else out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  const gap = s.indexOf('::');
  const head = toGroups(gap === -1 ? s : s.slice(0, gap));
  const tail = gap === -1 ? [] : toGroups(s.slice(gap + 2));
  const groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  let n = 0n;
  for (const g of groups) n = (n << 16n) | BigInt(g);
  return n;
}
