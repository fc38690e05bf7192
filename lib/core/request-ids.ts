/**
 * Identifiers the gateway mints for requests that arrive without them: `X-Request-Id` and a
 * W3C `traceparent`. Random bytes come from a pooled buffer so a request costs a slice, not a
 * call into the CSPRNG.
 */
import { randomFillSync, randomUUID } from 'node:crypto';

const POOL_SIZE = 24 * 512;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let offset = POOL_SIZE;

function take(bytes: number): number {
  if (offset + bytes > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const at = offset;
  offset += bytes;
  return at;
}

/** Longest client `X-Request-Id` the gateway keeps; longer ones are replaced. */
export const MAX_REQUEST_ID_LENGTH = 128;

/** 1 for the characters a kept request id may contain. */
const SAFE_ID_CHAR = new Uint8Array(128);
for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._:+/=') {
  SAFE_ID_CHAR[ch.charCodeAt(0)] = 1;
}

/**
 * Whether a client's `X-Request-Id` may be kept (forwarded, echoed, logged): 1 to 128 characters
 * of `A-Z a-z 0-9 - . _ : + / =` (UUIDs, ULIDs, base64 and dotted trace ids fit). Anything else is
 * replaced by a generated id, so a client cannot smuggle 8 KB or control characters into every log
 * line and response.
 * @example isSafeRequestId('7f9c1b2e-…') // true; isSafeRequestId('a b') // false
 */
export function isSafeRequestId(value: string): boolean {
  const n = value.length;
  if (n === 0 || n > MAX_REQUEST_ID_LENGTH) return false;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0x80 || SAFE_ID_CHAR[c] !== 1) return false;
  }
  return true;
}

/**
 * A fresh request id (UUID v4).
 * @example res.setHeader('x-request-id', newRequestId());
 */
export function newRequestId(): string {
  return randomUUID();
}

/**
 * A fresh W3C trace context header, `00-<32 hex trace id>-<16 hex parent id>-01`.
 * Sampled, so services that trace with a parent-based sampler record the request although the
 * gateway itself does not.
 */
export function newTraceparent(): string {
  const at = take(24);
  // An all-zero id is invalid; with 128 random bits this is theoretical, but cheap to rule out.
  if (pool[at] === 0) pool[at] = 1;
  return `00-${pool.toString('hex', at, at + 16)}-${pool.toString('hex', at + 16, at + 24)}-01`;
}

/** True when `value` looks like a version-00 traceparent (`00-` + 32 hex + `-` + 16 hex + `-` + 2 hex). */
export function isTraceparent(value: string): boolean {
  if (value.length < 55 || value.charCodeAt(2) !== 0x2d || value.charCodeAt(35) !== 0x2d) return false;
  return value.charCodeAt(52) === 0x2d;
}
