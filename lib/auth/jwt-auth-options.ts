/**
 * Options of `jwtAuth()`, their defaults and their validation.
 */
import { type Clock, realClock } from '../clock.js';
import { mergeDefined } from '../core/options-merge.js';
import { FleetgateError } from '../errors.js';
import { type Logger, noopLogger } from '../logger.js';
import type { RouteSource } from '../routing/request-resolution.js';
import type { AuthMetricsSink } from './auth-metrics-sink.js';
import type { JwtKeyOptions } from './jwt-keys.js';

/** What a route asks of a token. */
export interface JwtRequirement {
  /** Every one of these must be in the scope claim. @default [] */
  scopes?: readonly string[];
  /** At least one of these must be in the roles claim. @default [] */
  roles?: readonly string[];
}

/** Options of `jwtAuth()`. Give exactly one of `jwksUrl`, `publicKey`, `secret`. */
export interface JwtAuthOptions extends JwtKeyOptions, JwtRequirement {
  /** Accepted `iss` (one or any of several); unchecked when absent. @default undefined */
  issuer: string | readonly string[] | undefined;
  /** Accepted `aud` (one or any of several); unchecked when absent. @default undefined */
  audience: string | readonly string[] | undefined;
  /** Tolerated clock difference for `exp`, `nbf` and `iat`, in ms. @default 30000 */
  clockSkewMs: number;
  /** A longer `Authorization` value is refused before it is decoded. @default 8192 */
  maxTokenBytes: number;
  /** `true`: every request needs a valid token. `false`: only routes with requirements do (a presented token is still checked). @default true */
  required: boolean;
  /** The route table whose matched route's requirements apply (pass the `discoveryProxy()`). @default undefined */
  routes: RouteSource | undefined;
  /** Requirements by route, `"POST /api/comments/*"` or `"/api/comments/*"`, as the route is written. @default {} */
  routeRequirements: Readonly<Record<string, JwtRequirement>>;
  /** The matched route's `permission` must be a scope (`'scope'`), a role (`'role'`), or is ignored (`false`). @default 'scope' */
  permissionAs: 'scope' | 'role' | false;
  /** Claim holding scopes (a space-separated string or an array; dots descend). @default 'scope' */
  scopeClaim: string;
  /** Claim holding roles (an array or a string; dots descend, e.g. `realm_access.roles`). @default 'roles' */
  rolesClaim: string;
  /** Forward the original `Authorization` header (token relay). @default true */
  relayToken: boolean;
  /**
   * Headers set from claims for the upstream, `{ header: claimPath }`; client-sent values of these
   * headers are always removed. `false` for none. @default { 'x-user-id': 'sub', 'x-user-roles': <rolesClaim> }
   */
  claimHeaders: Readonly<Record<string, string>> | false | undefined;
  /** The realm in `WWW-Authenticate`. @default 'fleetgate' */
  realm: string;
  /** Options of the JWKS cache (`jwksUrl` only). */
  jwksMaxAgeMs: number;
  /** At most one JWKS fetch per this interval, whatever asks (unknown-kid floods). @default 30000 */
  jwksMinRefreshIntervalMs: number;
  /** A JWKS fetch slower than this fails. @default 5000 */
  jwksTimeoutMs: number;
  /** Verified tokens remembered, so a repeated token skips the signature check (0: off). @default 10000 */
  verifiedCacheSize: number;
  /** How long a verified token is remembered (never past its `exp`). @default 60000 */
  verifiedCacheTtlMs: number;
  /** @default realClock */
  clock: Clock;
  /** @default noopLogger */
  logger: Logger;
  /** Where refused requests are counted (`createMetrics()` fits; lib/auth/auth-metrics-sink.ts). @default undefined */
  metrics: AuthMetricsSink | undefined;
}

/** Defaults of {@link JwtAuthOptions}. Frozen. */
export const JWT_AUTH_DEFAULTS: Readonly<JwtAuthOptions> = Object.freeze({
  jwksUrl: undefined,
  publicKey: undefined,
  secret: undefined,
  algorithms: undefined,
  scopes: Object.freeze([]) as readonly string[],
  roles: Object.freeze([]) as readonly string[],
  issuer: undefined,
  audience: undefined,
  clockSkewMs: 30_000,
  maxTokenBytes: 8192,
  required: true,
  routes: undefined,
  routeRequirements: Object.freeze({}),
  permissionAs: 'scope',
  scopeClaim: 'scope',
  rolesClaim: 'roles',
  relayToken: true,
  claimHeaders: undefined,
  realm: 'fleetgate',
  jwksMaxAgeMs: 600_000,
  jwksMinRefreshIntervalMs: 30_000,
  jwksTimeoutMs: 5000,
  verifiedCacheSize: 10_000,
  verifiedCacheTtlMs: 60_000,
  clock: realClock,
  logger: noopLogger,
  metrics: undefined,
} satisfies JwtAuthOptions);

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Merges and validates; `claimHeaders` comes back resolved with lower-case names.
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` naming the option.
 */
export function resolveJwtAuthOptions(
  options: Partial<JwtAuthOptions>,
): JwtAuthOptions & { claimHeaders: Readonly<Record<string, string>> } {
  const o: JwtAuthOptions = mergeDefined(JWT_AUTH_DEFAULTS, options);
  const positive = (name: keyof JwtAuthOptions, value: number, min = 1): void => {
    if (!(Number.isFinite(value) && value >= min)) invalid(name, value);
  };
  positive('clockSkewMs', o.clockSkewMs, 0);
  positive('maxTokenBytes', o.maxTokenBytes, 64);
  positive('jwksMaxAgeMs', o.jwksMaxAgeMs);
  positive('jwksMinRefreshIntervalMs', o.jwksMinRefreshIntervalMs, 0);
  positive('jwksTimeoutMs', o.jwksTimeoutMs);
  positive('verifiedCacheTtlMs', o.verifiedCacheTtlMs);
  if (!(Number.isInteger(o.verifiedCacheSize) && o.verifiedCacheSize >= 0))
    invalid('verifiedCacheSize', o.verifiedCacheSize);
  if (o.permissionAs !== 'scope' && o.permissionAs !== 'role' && o.permissionAs !== false) {
    invalid('permissionAs', o.permissionAs);
  }
  for (const name of ['scopeClaim', 'rolesClaim'] as const) {
    if (typeof o[name] !== 'string' || o[name] === '') invalid(name, o[name]);
  }
  stringList('scopes', o.scopes);
  stringList('roles', o.roles);
  for (const [key, req] of Object.entries(o.routeRequirements)) {
    stringList(`routeRequirements[${key}].scopes`, req.scopes ?? []);
    stringList(`routeRequirements[${key}].roles`, req.roles ?? []);
  }
  if (typeof o.realm !== 'string' || /["\\\r\n]/.test(o.realm)) invalid('realm', o.realm);
  const raw = o.claimHeaders ?? { 'x-user-id': 'sub', 'x-user-roles': o.rolesClaim };
  const claimHeaders: Record<string, string> = {};
  if (raw !== false) {
    for (const [header, claim] of Object.entries(raw)) {
      const name = header.toLowerCase();
      if (!TOKEN.test(header) || name === 'authorization' || name === 'host') invalid(`claimHeaders.${header}`, header);
      if (typeof claim !== 'string' || claim === '') invalid(`claimHeaders.${header}`, claim);
      claimHeaders[name] = claim;
    }
  }
  return { ...o, claimHeaders: Object.freeze(claimHeaders) };
}

function stringList(option: string, value: unknown): void {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v === '')) invalid(option, value);
}

function invalid(option: string, value: unknown): never {
  throw new FleetgateError('ERR_FG_INVALID_CONFIG', `jwtAuth: invalid ${option} ${JSON.stringify(value)}`, {
    details: { option, value },
  });
}
