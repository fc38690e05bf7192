/**
 * TLS towards `https:`/`wss:` instances, one option shared by HTTP forwarding and WebSocket
 * upgrades: extra CAs for a private PKI, a client certificate for upstreams that require mutual
 * TLS, and (for development only) turning verification off.
 *
 * Without it, instances are verified against Node's CA store, which includes the file named by
 * `NODE_EXTRA_CA_CERTS`: the way to trust a private CA in the `fleetgate` bin.
 */
import { X509Certificate } from 'node:crypto';
import { type ConnectionOptions, createSecureContext, type SecureContext } from 'node:tls';
import { FleetgateError } from '../errors.js';

/** PEM text or bytes. */
export type Pem = string | Buffer;

/** TLS settings for connections to instances. */
export interface UpstreamTlsOptions {
  /** CA certificates to trust, replacing Node's store for these connections. @default Node's store */
  ca?: Pem | readonly Pem[];
  /** Client certificate chain for mutual TLS; needs `key`. */
  cert?: Pem;
  /** Private key of `cert`. */
  key?: Pem;
  /** Passphrase of `key`, if encrypted. */
  passphrase?: string;
  /** Verify the instance's certificate and host name. Turn off for development only. @default true */
  rejectUnauthorized?: boolean;
}

const KNOWN = new Set(['ca', 'cert', 'key', 'passphrase', 'rejectUnauthorized']);

const isPem = (v: unknown): v is Pem => typeof v === 'string' || Buffer.isBuffer(v);

function invalid(where: string, message: string, cause?: unknown): never {
  throw new FleetgateError(
    'ERR_FG_INVALID_CONFIG',
    `${where}: upstreamTls ${message}`,
    cause === undefined ? {} : { cause },
  );
}

/** Results by options object: the proxy and its WebSocket gateway share one secure context. */
const loaded = new WeakMap<UpstreamTlsOptions, ConnectionOptions>();

/**
 * Checks `tls` up front (types, `cert` with `key`, PEM that Node can load) and loads it into one
 * `SecureContext`, returned with `rejectUnauthorized` as the options to spread into
 * `tls.connect`/`https.request`, or `undefined` for none. Every connection then shares that
 * context: without it Node parses the PEM again for each connection (0.6 ms for a CA, 1.3 ms with a
 * client key, measured here). The options object is read once; later changes to it are not seen.
 * @param where the option's owner, for the message, e.g. `'discoveryProxy'`.
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` naming what is wrong.
 * @example https.request({ ...url, ...upstreamTlsOptions({ ca: readFileSync('ca.pem') }, 'me') })
 */
export function upstreamTlsOptions(tls: UpstreamTlsOptions | undefined, where: string): ConnectionOptions | undefined {
  if (tls === undefined) return undefined;
  if (typeof tls !== 'object' || tls === null) invalid(where, 'must be an object');
  const known = loaded.get(tls);
  if (known !== undefined) return known;
  for (const k of Object.keys(tls)) if (!KNOWN.has(k)) invalid(where, `has an unknown field "${k}"`);
  const { ca, cert, key, passphrase, rejectUnauthorized } = tls;
  if (ca !== undefined && !isPem(ca) && !(Array.isArray(ca) && ca.every(isPem))) {
    invalid(where, 'ca must be PEM text, a Buffer, or an array of them');
  }
  if (cert !== undefined && !isPem(cert)) invalid(where, 'cert must be PEM text or a Buffer');
  if (key !== undefined && !isPem(key)) invalid(where, 'key must be PEM text or a Buffer');
  if ((cert === undefined) !== (key === undefined)) invalid(where, 'cert and key go together');
  if (passphrase !== undefined && typeof passphrase !== 'string') invalid(where, 'passphrase must be a string');
  if (rejectUnauthorized !== undefined && typeof rejectUnauthorized !== 'boolean') {
    invalid(where, 'rejectUnauthorized must be a boolean');
  }
  for (const [i, one] of (Array.isArray(ca) ? ca : ca === undefined ? [] : [ca]).entries()) {
    try {
      // Node's secure context skips CA text that holds no certificate; a typo would only show as
      // every instance failing verification.
      new X509Certificate(one as Pem);
    } catch (cause) {
      invalid(where, `ca${Array.isArray(ca) ? `[${i}]` : ''} holds no certificate`, cause);
    }
  }
  let secureContext: SecureContext;
  try {
    secureContext = createSecureContext({ ca: ca as ConnectionOptions['ca'], cert, key, passphrase });
  } catch (cause) {
    invalid(where, `cannot be loaded: ${(cause as Error).message}`, cause);
  }
  const out: ConnectionOptions = Object.freeze({
    secureContext,
    ...(rejectUnauthorized === undefined ? {} : { rejectUnauthorized }),
  });
  loaded.set(tls, out);
  return out;
}
