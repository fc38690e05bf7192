/**
 * Refuses an instance URL that points back at the gateway (README "Registry backends"): one request to such an
 * instance would loop through the gateway until a header overflowed. "Points at the gateway"
 * means: the URL's port is one the gateway listens on, and its host resolves to a loopback,
 * unspecified or own-interface address, or to the exact listen address. The listen addresses
 * come from the registration request's own socket and from the server (`listenAddresses`).
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { FleetgateError } from '../../errors.js';

/** An address the gateway accepts connections on. */
export interface ListenAddress {
  address: string;
  port: number;
}

/** How long a host name may take to resolve before the check gives up (and lets it pass). */
const LOOKUP_LIMIT_MS = 1000;

/**
 * Throws `ERR_FG_SELF_TARGET` (400) when `url` reaches one of `listening`. A function is asked
 * for the addresses only when the URL names a port: most registrations never need them.
 * @example await assertNotSelfTarget('http://localhost:8080', [{ address: '0.0.0.0', port: 8080 }]);
 */
export async function assertNotSelfTarget(
  url: string,
  listening: readonly ListenAddress[] | (() => readonly ListenAddress[]),
): Promise<void> {
  const target = new URL(url);
  const port = Number(target.port || (target.protocol === 'https:' ? 443 : 80));
  const sameport = (typeof listening === 'function' ? listening() : listening).filter((l) => l.port === port);
  if (sameport.length === 0) return;
  const host = target.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) !== 0 ? [host] : await resolve(host);
  const own = ownAddresses();
  for (const raw of addresses) {
    const address = unmapped(raw);
    const exact = sameport.some((l) => unmapped(l.address) === address);
    if (exact || isLoopback(address) || isUnspecified(address) || own.has(address)) {
      throw new FleetgateError(
        'ERR_FG_SELF_TARGET',
        `url ${url} reaches this gateway (${address}:${port}); an instance must be another server`,
        { details: { url, address, port } },
      );
    }
  }
}

/**
 * The listen addresses of a request's own connection.
 * @example listenAddressOf(req.socket) // { address: '127.0.0.1', port: 8080 }
 */
export function listenAddressOf(socket: { localAddress?: string | undefined; localPort?: number | undefined }) {
  const { localAddress, localPort } = socket;
  return localAddress === undefined || localPort === undefined ? [] : [{ address: localAddress, port: localPort }];
}

async function resolve(host: string): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never[]>((resolve) => {
    timer = setTimeout(() => resolve([]), LOOKUP_LIMIT_MS);
    timer.unref();
  });
  try {
    const found = lookup(host, { all: true }).then(
      (list) => list.map((a) => a.address),
      () => [], // a name that does not resolve cannot reach the gateway now; the proxy will say 502
    );
    return await Promise.race([found, limit]);
  } finally {
    clearTimeout(timer);
  }
}

function ownAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.add(unmapped(a.address));
  return out;
}

/** `::ffff:10.0.0.1` → `10.0.0.1`; IPv6 zone ids dropped. */
function unmapped(address: string): string {
  const plain = address.replace(/%.*$/, '').toLowerCase();
  return plain.startsWith('::ffff:') && isIP(plain.slice(7)) === 4 ? plain.slice(7) : plain;
}

function isLoopback(address: string): boolean {
  return address === '::1' || (isIP(address) === 4 && address.startsWith('127.'));
}

function isUnspecified(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || /^0+(:0+)*$/.test(address.replaceAll('::', ':0:'));
}
