/**
 * `jwtAuth()`: bearer tokens verified at the gateway with jose (signature, `exp`/`nbf` with a
 * clock skew, `iss`, `aud`, an algorithm allow-list that never admits `none`), keys from a JWKS
 * URL (cached, refreshed on an unknown `kid` at a bounded rate), a PEM or a shared secret. Routes
 * ask for scopes and roles; the upstream gets the original token (token relay), claims as headers
 * (`X-User-Id`, `X-User-Roles`), or both.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errors, type JWTPayload, jwtVerify } from 'jose';
import { requestClaims, setRequestClaims } from '../core/request-claims.js';
import { removeRequestHeader, setRequestHeader } from '../core/request-headers.js';
import { type FleetgateError, isFleetgateError } from '../errors.js';
import { lookupOf, resolveIncoming } from '../routing/request-resolution.js';
import { RoutePolicies } from '../routing/route-policies.js';
import {
  type AuthFailureReason,
  authUnavailable,
  forbidden,
  quoted,
  sendAuthError,
  unauthenticated,
} from './auth-errors.js';
import { authRejectionOf } from './auth-metrics-sink.js';
import { JwksCache } from './jwks-cache.js';
import { type JwtAuthOptions, type JwtRequirement, resolveJwtAuthOptions } from './jwt-auth-options.js';
import { claimAt, claimHeaderValue, claimList } from './jwt-claims.js';
import { verificationKeys } from './jwt-keys.js';
import { VerifiedTokens } from './verified-tokens.js';

type Next = (err?: unknown) => void;

/** The middleware returned by {@link jwtAuth}. */
export interface JwtAuthMiddleware {
  (req: IncomingMessage, res: ServerResponse, next: Next): void;
  /** The JWKS cache when keys come from `jwksUrl`. */
  readonly jwks: JwksCache | undefined;
}

/**
 * The verified claims of a request `jwtAuth()` let through (the same record route predicates
 * read, lib/core/request-claims.ts).
 * @example const beta = jwtClaimsOf(req)?.beta === true;
 */
export function jwtClaimsOf(req: IncomingMessage): Readonly<JWTPayload> | undefined {
  return requestClaims(req) as Readonly<JWTPayload> | undefined;
}

/** base64url characters and exactly two dots: a compact JWS, checked before jose decodes anything. */
function isCompactJws(token: string): boolean {
  let dots = 0;
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c === 0x2e) {
      if (++dots > 2) return false;
    } else if (
      !((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f)
    ) {
      return false;
    }
  }
  return dots === 2;
}

/**
 * Creates the JWT middleware.
 * @example
 * app.use(jwtAuth({ jwksUrl: 'https://idp.example/jwks.json', issuer: 'https://idp.example/', audience: 'api',
 *   routes: proxy, routeRequirements: { 'DELETE /api/comments/*': { roles: ['moderator'] } } }));
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` on invalid options.
 */
export function jwtAuth(options: Partial<JwtAuthOptions> = {}): JwtAuthMiddleware {
  const o = resolveJwtAuthOptions(options);
  const keys = verificationKeys(o, {
    maxAgeMs: o.jwksMaxAgeMs,
    minRefreshIntervalMs: o.jwksMinRefreshIntervalMs,
    timeoutMs: o.jwksTimeoutMs,
    clock: o.clock,
    logger: o.logger,
  });
  const jwks = keys.key instanceof JwksCache ? keys.key : undefined;
  const verified =
    o.verifiedCacheSize === 0
      ? undefined
      : new VerifiedTokens(o.verifiedCacheSize, o.verifiedCacheTtlMs, o.clockSkewMs);
  const policies = new RoutePolicies<JwtRequirement>(o.routeRequirements, 'jwtAuth.routeRequirements');
  const verifyOptions = {
    algorithms: [...keys.algorithms],
    clockTolerance: o.clockSkewMs / 1000,
    ...(o.issuer === undefined ? {} : { issuer: typeof o.issuer === 'string' ? o.issuer : [...o.issuer] }),
    ...(o.audience === undefined ? {} : { audience: typeof o.audience === 'string' ? o.audience : [...o.audience] }),
  };
  const realm = `realm=${quoted(o.realm)}`;
  const claimHeaders = Object.entries(o.claimHeaders);
  const globalRoles = o.roles ?? [];
  const globalScopes = o.scopes ?? [];

  const metrics = o.metrics;
  const refuse = (res: ServerResponse, error: FleetgateError): void => {
    metrics?.recordAuthRejection?.(authRejectionOf('jwt', error));
    if (error.status !== 401) {
      sendAuthError(res, error);
      return;
    }
    const reason = (error.details as { reason?: AuthFailureReason } | undefined)?.reason;
    // RFC 6750 §3.1: a request without credentials gets the bare challenge, a bad token invalid_token.
    const challenge =
      reason === 'missing'
        ? `Bearer ${realm}`
        : `Bearer ${realm}, error="invalid_token", error_description=${quoted(error.message)}`;
    sendAuthError(res, error, challenge);
  };

  /** The route's requirements, `null` when the route table is not ready, `undefined` when none. */
  const routeNeeds = (req: IncomingMessage): { scopes: string[]; roleSets: string[][] } | null => {
    const scopes = [...globalScopes];
    const roleSets: string[][] = globalRoles.length > 0 ? [[...globalRoles]] : [];
    if (o.routes !== undefined) {
      const table = lookupOf(o.routes);
      if (table === undefined) return null;
      const resolved = resolveIncoming(table, req);
      if (resolved.kind === 'route') {
        const policy = policies.for(req.method ?? 'GET', resolved.match);
        if (policy?.scopes !== undefined) scopes.push(...policy.scopes);
        if (policy?.roles !== undefined && policy.roles.length > 0) roleSets.push([...policy.roles]);
        const permission = resolved.match.route.permission;
        if (permission !== undefined && o.permissionAs === 'scope') scopes.push(permission);
        if (permission !== undefined && o.permissionAs === 'role') roleSets.push([permission]);
      }
    }
    return { scopes, roleSets };
  };

  const admit = (req: IncomingMessage, res: ServerResponse, next: Next, payload: JWTPayload): void => {
    // Before the route is resolved, so claim predicates (docs/predicates.md) see the verified token.
    setRequestClaims(req, payload);
    const needs = routeNeeds(req);
    if (needs === null) {
      refuse(res, authUnavailable('the route table is not ready; requirements cannot be checked yet'));
      return;
    }
    const who = typeof payload.sub === 'string' ? payload.sub : undefined;
    if (needs.scopes.length > 0) {
      const held = claimList(payload, o.scopeClaim);
      const missing = needs.scopes.filter((s) => !held.includes(s));
      if (missing.length > 0) {
        const error = forbidden(`the token lacks the scope ${missing.join(' ')}`, { scopes: missing }, who);
        metrics?.recordAuthRejection?.(authRejectionOf('jwt', error));
        sendAuthError(
          res,
          error,
          `Bearer ${realm}, error="insufficient_scope", scope=${quoted(needs.scopes.join(' '))}`,
        );
        return;
      }
    }
    if (needs.roleSets.length > 0) {
      const held = claimList(payload, o.rolesClaim);
      for (const anyOf of needs.roleSets) {
        if (!anyOf.some((r) => held.includes(r))) {
          refuse(res, forbidden(`the token has none of the roles ${anyOf.join(', ')}`, { roles: anyOf }, who));
          return;
        }
      }
    }
    if (!o.relayToken) removeRequestHeader(req, 'authorization');
    for (const [header, claim] of claimHeaders) {
      const value = claimHeaderValue(claimAt(payload, claim));
      if (value !== undefined) setRequestHeader(req, header, value);
    }
    next();
  };

  const middleware = (req: IncomingMessage, res: ServerResponse, next: Next): void => {
    // Identity headers come from verified claims only, never from the client.
    for (const [header] of claimHeaders) if (req.headers[header] !== undefined) removeRequestHeader(req, header);
    const auth = req.headers.authorization;
    let token: string | undefined;
    if (auth !== undefined) {
      if (auth.length > o.maxTokenBytes) {
        refuse(res, unauthenticated(`the token is larger than ${o.maxTokenBytes} bytes`, 'too-large'));
        return;
      }
      if (auth.length >= 6 && auth.slice(0, 6).toLowerCase() === 'bearer') {
        token = auth.slice(6).trim();
        if (auth.charCodeAt(6) !== 0x20 || !isCompactJws(token)) {
          refuse(res, unauthenticated('the bearer token is not a compact JWS', 'malformed'));
          return;
        }
      }
    }
    if (token === undefined) {
      const needs = o.required ? undefined : routeNeeds(req);
      if (needs === null)
        refuse(res, authUnavailable('the route table is not ready; requirements cannot be checked yet'));
      else if (o.required || needs!.scopes.length > 0 || needs!.roleSets.length > 0) {
        refuse(res, unauthenticated('a bearer token is required', 'missing'));
      } else next();
      return;
    }
    const now = o.clock.now();
    const cached = verified?.get(token, now);
    if (cached !== undefined) {
      admit(req, res, next, cached);
      return;
    }
    const key = jwks === undefined ? (keys.key as Exclude<typeof keys.key, JwksCache>) : jwks.resolve;
    const checked = token;
    jwtVerify(checked, key as Parameters<typeof jwtVerify>[1], { ...verifyOptions, currentDate: new Date(now) }).then(
      (result) => {
        verified?.set(checked, result.payload, now);
        admit(req, res, next, result.payload);
      },
      (err: unknown) => refuse(res, tokenError(err, o.logger)),
    );
  };
  return Object.assign(middleware, { jwks });
}

/** The 401 (or 503) for a verification failure; never echoes the token. */
function tokenError(err: unknown, logger: { warn(msg: string): void }): FleetgateError {
  if (isFleetgateError(err)) return err;
  if (err instanceof errors.JWTExpired) return unauthenticated('the token has expired', 'expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    const reason: AuthFailureReason =
      err.claim === 'nbf'
        ? 'not-yet-valid'
        : err.claim === 'iss'
          ? 'issuer'
          : err.claim === 'aud'
            ? 'audience'
            : 'claims';
    return unauthenticated(`the token's ${err.claim} claim is not accepted`, reason);
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) {
    return unauthenticated('the token is signed with an algorithm that is not accepted', 'algorithm');
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return unauthenticated('the token signature is not valid', 'signature');
  }
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
    return unauthenticated('no signing key matches the token', 'unknown-kid');
  }
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) {
    return unauthenticated('the token is malformed', 'malformed');
  }
  logger.warn(`fleetgate jwtAuth: token refused: ${String(err)}`);
  return unauthenticated('the token could not be verified', 'signature');
}
