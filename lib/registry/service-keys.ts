/**
 * Per-service credentials (README "Registry backends", Ownership; furt: "services cannot register routes for
 * permissions they don't have access to"). A key names the services a caller may register as and
 * the `permission` values its routes may carry. Keys are held only as SHA-256 digests and
 * compared in constant time. Configured with `REGISTRY_SERVICE_KEYS_FILE` (JSON or YAML) or the
 * `serviceKeys` option of `registry()`; with none configured, registration stays open to every
 * allowed caller.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { FleetgateError } from '../errors.js';
import type { RouteSpec } from './model.js';

/** The request header carrying a service key. */
export const SERVICE_KEY_HEADER = 'x-service-key';

/**
 * One configured key. Give the key itself (`key`, hashed at load) or its SHA-256 (`sha256`, hex),
 * which keeps the secret out of the file.
 * @example { name: 'billing', sha256: '9f86d0…', services: ['billing'], permissions: ['billing:read'] }
 */
export interface ServiceKeySpec {
  /** A label for logs and errors (not secret). */
  name: string;
  /** The key, in clear. */
  key?: string | undefined;
  /** SHA-256 of the key, 64 hex digits. */
  sha256?: string | undefined;
  /** Services this key may register as; `*` is any. */
  services: readonly string[];
  /** `permission` values its routes may carry; `*` is any. @default [] */
  permissions?: readonly string[] | undefined;
}

const specSchema = z
  .strictObject({
    name: z.string().min(1).max(128),
    key: z.string().min(16, 'a key needs at least 16 characters').optional(),
    sha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex digits')
      .optional(),
    services: z.array(z.string().min(1)).min(1, 'must name at least one service'),
    permissions: z.array(z.string().min(1)).optional(),
  })
  .refine((s) => (s.key === undefined) !== (s.sha256 === undefined), 'give exactly one of key or sha256');

/** The accepted file shapes: `{ keys: [...] }` or a bare list. */
const fileSchema = z.union([z.strictObject({ keys: z.array(specSchema) }), z.array(specSchema)]);

/**
 * Validates parsed key-file content.
 * @throws Error with a readable reason (callers wrap it with the variable or option name).
 * @example parseServiceKeys(YAML.parse(text))
 */
export function parseServiceKeys(value: unknown): ServiceKeySpec[] {
  const parsed = fileSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length === 0 ? '' : `${issue.path.join('.')}: `;
    throw new Error(`${where}${issue.message}`);
  }
  const keys = Array.isArray(parsed.data) ? parsed.data : parsed.data.keys;
  return keys.map((k) => ({ ...k, services: [...k.services], permissions: [...(k.permissions ?? [])] }));
}

interface HeldKey {
  name: string;
  digest: Buffer;
  services: ReadonlySet<string>;
  permissions: ReadonlySet<string>;
}

/**
 * The configured keys and the check a registration passes.
 * @example
 * const keys = new ServiceKeys([{ name: 'billing', key: process.env.BILLING_KEY!, services: ['billing'] }]);
 * keys.authorize(req.headers['x-service-key'], 'billing', routes); // throws 403 ERR_FG_FORBIDDEN
 */
export class ServiceKeys {
  readonly #keys: HeldKey[];

  constructor(specs: readonly ServiceKeySpec[]) {
    this.#keys = specs.map((s) => ({
      name: s.name,
      digest: Buffer.from(s.sha256 ?? sha256(s.key ?? ''), 'hex'),
      services: new Set(s.services),
      permissions: new Set(s.permissions ?? []),
    }));
  }

  /** How many keys are configured. */
  get size(): number {
    return this.#keys.length;
  }

  /**
   * Checks that `header` is a known key that names `service` and every route permission.
   * Returns the key's name.
   * @throws FleetgateError `ERR_FG_FORBIDDEN` (403), `details.missing` saying what was missing.
   */
  authorize(header: string | string[] | undefined, service: string, routes: readonly RouteSpec[]): string {
    if (typeof header !== 'string' || header === '') {
      throw forbidden(`a service key (X-Service-Key) is required to register ${service}`, { key: true });
    }
    const presented = Buffer.from(sha256(header), 'hex');
    let found: HeldKey | undefined;
    // Every key is compared, so the time taken says nothing about which one (or none) matched.
    for (const k of this.#keys) if (timingSafeEqual(k.digest, presented)) found ??= k;
    if (found === undefined) throw forbidden('the service key is not known', { key: true });
    if (!found.services.has(service) && !found.services.has('*')) {
      throw forbidden(`service key ${found.name} may not register ${service}`, { service }, found.name);
    }
    if (!found.permissions.has('*')) {
      const missing = [...new Set(routes.map((r) => r.permission).filter((p): p is string => p !== undefined))].filter(
        (p) => !found.permissions.has(p),
      );
      if (missing.length > 0) {
        throw forbidden(
          `service key ${found.name} does not grant the route permission${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
          { permissions: missing },
          found.name,
        );
      }
    }
    return found.name;
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function forbidden(message: string, missing: object, key?: string): FleetgateError {
  return new FleetgateError('ERR_FG_FORBIDDEN', message, {
    details: { missing, ...(key === undefined ? {} : { key }) },
  });
}
