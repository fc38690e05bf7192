/**
 * What an API key is: a name (sent upstream as `X-Api-Key-Name`, furt's `api_key_name`), the
 * permissions it grants (route `permission` values such as `comments:read`), an optional expiry
 * and a rate-limit class. Keys are held only as SHA-256 digests; the clear key never reaches a
 * store, a log or an upstream.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';

/** Shortest key accepted in configuration: shorter ones are guessable. */
export const MIN_API_KEY_LENGTH = 16;
/** Longest key read from a request; a longer credential is refused before it is hashed. */
export const MAX_API_KEY_LENGTH = 512;

/**
 * One configured key, as written in options, a key file or the config file. Give the key itself
 * (`key`, hashed at load) or its SHA-256 (`sha256`, hex), which keeps the secret out of the file.
 * @example { name: 'mobile-app', sha256: '9f86d0…', permissions: ['comments:read'], expires: '2027-01-01T00:00:00Z' }
 */
export interface ApiKeySpec {
  /** A label sent upstream and shown in logs (not secret). Letters, digits and `._:@-`. */
  name: string;
  /** The key, in clear (at least 16 visible ASCII characters). */
  key?: string | undefined;
  /** SHA-256 of the key, 64 hex digits. */
  sha256?: string | undefined;
  /** Route permissions granted: exact (`comments:read`), a prefix (`comments:*`) or everything (`*`). @default [] */
  permissions?: readonly string[] | undefined;
  /** When the key stops working: an ISO date, or ms since the epoch. @default never */
  expires?: string | number | undefined;
  /** The rate-limit class of the key, for `rateLimit()` keyed by class. @default undefined */
  rateLimitClass?: string | undefined;
}

/** A key as stores hold it: the digest and what the key grants. */
export interface ApiKeyRecord {
  /** The key's name. */
  readonly name: string;
  /** SHA-256 of the key, lower-case hex. */
  readonly sha256: string;
  /** Permissions granted. */
  readonly permissions: readonly string[];
  /** ms since the epoch after which the key is refused; `undefined`: never. */
  readonly expiresAt: number | undefined;
  /** Rate-limit class. */
  readonly rateLimitClass: string | undefined;
}

const visibleAscii = /^[\x21-\x7e]+$/;

const specSchema = z
  .strictObject({
    name: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[A-Za-z0-9._:@-]+$/, 'use letters, digits and ._:@- (it is sent as a header value)'),
    key: z
      .string()
      .min(MIN_API_KEY_LENGTH, `a key needs at least ${MIN_API_KEY_LENGTH} characters`)
      .max(MAX_API_KEY_LENGTH)
      .regex(visibleAscii, 'a key is visible ASCII without spaces')
      .optional(),
    sha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex digits')
      .optional(),
    permissions: z.array(z.string().min(1).max(256)).optional(),
    expires: z
      .union([z.number().int().nonnegative(), z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'not a date')])
      .optional(),
    rateLimitClass: z.string().min(1).max(64).optional(),
  })
  .refine((s) => (s.key === undefined) !== (s.sha256 === undefined), 'give exactly one of key or sha256');

const listSchema = z.union([z.strictObject({ keys: z.array(specSchema) }), z.array(specSchema)]);

/**
 * Validates key specs (`{ keys: [...] }` or a bare list), e.g. parsed from a key file.
 * @throws Error naming the first bad entry and field (callers add the file or option name).
 * @example parseApiKeySpecs(YAML.parse(text))
 */
export function parseApiKeySpecs(value: unknown): ApiKeySpec[] {
  const parsed = listSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length === 0 ? '' : `${issue.path.join('.')}: `;
    throw new Error(`${where}${issue.message}`);
  }
  const keys = Array.isArray(parsed.data) ? parsed.data : parsed.data.keys;
  const names = new Set<string>();
  for (const [i, k] of keys.entries()) {
    if (names.has(k.name)) throw new Error(`${i}.name: ${k.name} is used twice`);
    names.add(k.name);
  }
  return keys;
}

/**
 * The stored form of a validated spec.
 * @example toApiKeyRecord({ name: 'ci', key: 'k3y-of-at-least-16', permissions: ['deploy'] }).sha256
 */
export function toApiKeyRecord(spec: ApiKeySpec): ApiKeyRecord {
  const expires = spec.expires;
  return Object.freeze({
    name: spec.name,
    sha256: (spec.sha256 ?? hashApiKey(spec.key ?? '')).toLowerCase(),
    permissions: Object.freeze([...(spec.permissions ?? [])]),
    expiresAt: expires === undefined ? undefined : typeof expires === 'number' ? expires : Date.parse(expires),
    rateLimitClass: spec.rateLimitClass,
  });
}

/**
 * SHA-256 of a key, lower-case hex: what stores keep and look keys up by.
 * @example hashApiKey('k3y-of-at-least-16') // '…64 hex digits…'
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * Whether `granted` covers `needed`: an exact permission, `*`, or a prefix ending in `:*`
 * (`comments:*` covers `comments:read`).
 * @example grants(['comments:*'], 'comments:write') // true
 */
export function grants(granted: readonly string[], needed: string): boolean {
  for (const p of granted) {
    if (p === needed || p === '*') return true;
    if (p.length > 2 && p.endsWith(':*') && needed.startsWith(p.slice(0, -1))) return true;
  }
  return false;
}
