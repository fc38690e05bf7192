/**
 * Instance tokens (README "Registry backends", Ownership): a registration gets a random token that the caller
 * sends back in `X-Instance-Token` to heartbeat, deregister, change status or re-register its
 * instance. Stores keep only its SHA-256; comparisons are constant-time.
 */
import { createHash, randomFillSync } from 'node:crypto';

/** The request header carrying the instance token. */
export const INSTANCE_TOKEN_HEADER = 'x-instance-token';

/** Random bytes per token: 256 bits, well above the 128 required. */
const TOKEN_BYTES = 32;

/**
 * Random bytes are drawn from the CSPRNG 128 tokens at a time, each part handed out once: one
 * call to the generator per 128 registrations instead of one each.
 */
const pool = Buffer.alloc(TOKEN_BYTES * 128);
let poolAt = pool.length;

function randomToken(): string {
  if (poolAt === pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const token = pool.toString('base64url', poolAt, poolAt + TOKEN_BYTES);
  pool.fill(0, poolAt, poolAt + TOKEN_BYTES); // nothing handed out stays in memory
  poolAt += TOKEN_BYTES;
  return token;
}

/** A freshly issued token and the hash the store keeps. */
export interface IssuedToken {
  /** base64url, 43 characters; given to the registrant once and never stored. */
  token: string;
  /** SHA-256 of the token, hex. */
  hash: string;
}

/**
 * Issues a new instance token.
 * @example const { token, hash } = issueInstanceToken(); // reply with token, store hash
 */
export function issueInstanceToken(): IssuedToken {
  const token = randomToken();
  return { token, hash: hashInstanceToken(token) };
}

/**
 * SHA-256 (hex) of a presented token.
 * @example hashInstanceToken(req.headers['x-instance-token'])
 */
export function hashInstanceToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Constant-time equality of two token hashes (either may be absent: then false).
 * @example sameTokenHash(stored, hashInstanceToken(presented))
 */
export function sameTokenHash(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && sameSecret(a, b);
}

/**
 * Equality of two secrets whose time depends on their length only, never on where they differ:
 * every code unit is compared, with no early exit. Unlike `crypto.timingSafeEqual` it needs no
 * Buffer per side, which a heartbeat would otherwise allocate twice (a hash check per renewal).
 * @example sameSecret(remembered, req.headers['x-instance-token'])
 */
export function sameSecret(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * The token hash of a request's `X-Instance-Token` header, or `undefined` when it has none.
 * A repeated header counts as none (never guess which one the caller meant).
 */
export function presentedTokenHash(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string' || header === '') return undefined;
  return hashInstanceToken(header);
}
