/**
 * `Authorization: Bearer <token>` checking for the registration API (`REGISTRY_TOKEN`).
 */
import { createHash, timingSafeEqual } from 'node:crypto';

const BEARER = /^Bearer +([^\s]+) *$/i;

/**
 * Builds a checker for one expected token. Both sides are hashed first so the comparison runs
 * on equal-length buffers with `timingSafeEqual`, leaking neither the content nor the length.
 * @example
 * const ok = createBearerCheck(process.env.REGISTRY_TOKEN!);
 * ok(req.headers.authorization); // true or false
 */
export function createBearerCheck(token: string): (authorization: string | undefined) => boolean {
  const expected = digest(token);
  return (authorization) => {
    if (authorization === undefined) return false;
    const m = BEARER.exec(authorization);
    if (m === null) return false;
    return timingSafeEqual(digest(m[1]!), expected);
  };
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
