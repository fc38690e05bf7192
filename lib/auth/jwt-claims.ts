/**
 * Reading claims of a verified token: a claim by dotted path (`realm_access.roles`), a claim as a
 * list (a space-separated `scope` string or an array), and a claim as a safe header value.
 */
import type { JWTPayload } from 'jose';

/** Longest claim value copied into a header. */
export const MAX_CLAIM_HEADER_LENGTH = 1024;

/**
 * The claim at `path`; dots descend into objects, unless the payload has the whole path as a key.
 * @example claimAt({ realm_access: { roles: ['a'] } }, 'realm_access.roles') // ['a']
 */
export function claimAt(payload: JWTPayload, path: string): unknown {
  if (Object.hasOwn(payload, path)) return payload[path];
  let value: unknown = payload;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/**
 * A claim as a list of strings: an array's strings, or a string split on spaces (OAuth `scope`).
 * @example claimList({ scope: 'a b' }, 'scope') // ['a', 'b']
 */
export function claimList(payload: JWTPayload, path: string): string[] {
  const value = claimAt(payload, path);
  if (typeof value === 'string') return value.split(' ').filter((s) => s !== '');
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/**
 * A claim as a header value: strings, numbers and booleans as text, a list of those joined with
 * `,`; `undefined` for objects, for control characters (no header injection) and for values
 * longer than {@link MAX_CLAIM_HEADER_LENGTH}.
 * @example claimHeaderValue(['admin', 'beta']) // 'admin,beta'
 */
export function claimHeaderValue(value: unknown): string | undefined {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number' || typeof value === 'boolean') text = String(value);
  else if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number'))
    text = value.join(',');
  else return undefined;
  if (text.length > MAX_CLAIM_HEADER_LENGTH) return undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f || c > 0xff) return undefined;
  }
  return text;
}
