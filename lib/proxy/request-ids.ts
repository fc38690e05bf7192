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
