/**
 * The key material `jwtAuth()` verifies with, and the algorithms each kind of key may use. The
 * allow-list is what keeps a token from choosing how it is checked: `none` is never accepted,
 * an HMAC algorithm is never accepted with a public key (the public key would become the HMAC
 * secret), and an asymmetric one never with a shared secret.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { FleetgateError } from '../errors.js';
import { JwksCache, type JwksCacheOptions } from './jwks-cache.js';

/** HMAC algorithms: shared secrets only. */
export const SYMMETRIC_ALGORITHMS: readonly string[] = Object.freeze(['HS256', 'HS384', 'HS512']);
/** Signature algorithms: public keys (PEM or JWKS) only. */
export const ASYMMETRIC_ALGORITHMS: readonly string[] = Object.freeze([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
]);

/** Shortest shared secret accepted (RFC 7518 §3.2: at least the hash size). */
export const MIN_SECRET_BYTES = 32;

/** Where keys come from: exactly one of these. */
export interface JwtKeyOptions {
  /** A JWKS URL, cached and refreshed on an unknown `kid`. */
  jwksUrl: string | undefined;
  /** A PEM public key (SPKI) or X.509 certificate. */
  publicKey: string | undefined;
  /** A shared HMAC secret (at least 32 bytes). */
  secret: string | Uint8Array | undefined;
  /** Allowed `alg` values. @default from the key: HS256 for a secret, the key's own for a PEM, RS256 + ES256 for a JWKS */
  algorithms: readonly string[] | undefined;
}

/** Resolved key material. */
export interface VerificationKeys {
  /** A key, or a JWKS cache whose `resolve` finds one per token. */
  key: KeyObject | Uint8Array | JwksCache;
  algorithms: readonly string[];
}

/**
 * Validates the key options and builds the key.
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` naming the option.
 * @example verificationKeys({ secret: process.env.JWT_SECRET, jwksUrl: undefined, publicKey: undefined, algorithms: undefined }, {})
 */
export function verificationKeys(o: JwtKeyOptions, jwks: Partial<JwksCacheOptions>): VerificationKeys {
  const given = [o.jwksUrl, o.publicKey, o.secret].filter((v) => v !== undefined).length;
  if (given !== 1) invalid('jwksUrl', 'give exactly one of jwksUrl, publicKey or secret');
  if (o.algorithms !== undefined) {
    if (!Array.isArray(o.algorithms) || o.algorithms.length === 0) invalid('algorithms', 'give at least one algorithm');
    for (const alg of o.algorithms) {
      if (!SYMMETRIC_ALGORITHMS.includes(alg) && !ASYMMETRIC_ALGORITHMS.includes(alg)) {
        invalid(
          'algorithms',
          `${JSON.stringify(alg)} is not accepted (never "none"; one of ${[...SYMMETRIC_ALGORITHMS, ...ASYMMETRIC_ALGORITHMS].join(', ')})`,
        );
      }
    }
  }
  if (o.secret !== undefined) {
    const secret = typeof o.secret === 'string' ? new TextEncoder().encode(o.secret) : o.secret;
    if (!(secret instanceof Uint8Array) || secret.byteLength < MIN_SECRET_BYTES) {
      invalid('secret', `a shared secret needs at least ${MIN_SECRET_BYTES} bytes`);
    }
    const algorithms = o.algorithms ?? ['HS256'];
    onlyFrom(algorithms, SYMMETRIC_ALGORITHMS, 'a shared secret');
    return { key: secret, algorithms };
  }
  if (o.publicKey !== undefined) {
    let key: KeyObject;
    try {
      key = createPublicKey(o.publicKey);
    } catch (err) {
      return invalid('publicKey', `not a PEM public key or certificate (${(err as Error).message})`);
    }
    const algorithms = o.algorithms ?? defaultAlgorithmsOf(key);
    onlyFrom(algorithms, ASYMMETRIC_ALGORITHMS, 'a public key');
    return { key, algorithms };
  }
  const algorithms = o.algorithms ?? ['RS256', 'ES256'];
  onlyFrom(algorithms, ASYMMETRIC_ALGORITHMS, 'a JWKS');
  return { key: new JwksCache(o.jwksUrl!, jwks), algorithms };
}

function defaultAlgorithmsOf(key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return ['RS256'];
    case 'rsa-pss':
      return ['PS256'];
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      return [curve === 'secp384r1' ? 'ES384' : curve === 'secp521r1' ? 'ES512' : 'ES256'];
    }
    case 'ed25519':
      return ['EdDSA', 'Ed25519'];
    default:
      return invalid('publicKey', `keys of type ${String(key.asymmetricKeyType)} are not supported`);
  }
}

function onlyFrom(algorithms: readonly string[], allowed: readonly string[], what: string): void {
  const wrong = algorithms.filter((a) => !allowed.includes(a));
  if (wrong.length > 0) invalid('algorithms', `${wrong.join(', ')} cannot be used with ${what}`);
}

function invalid(option: string, why: string): never {
  throw new FleetgateError('ERR_FG_INVALID_CONFIG', `jwtAuth: ${option}: ${why}`, { details: { option } });
}
