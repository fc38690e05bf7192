/**
 * Who may use the gateway's operator endpoints (`/metrics`, `/_fleetgate/**`, the
 * `GET /internal/services` listing, the full `/health` report): callers from `ADMIN_ALLOW_FROM`
 * (default loopback) or holding `Authorization: Bearer $ADMIN_TOKEN`. Everyone else gets
 * `403 ERR_FG_FORBIDDEN` from {@link adminGuard} and a redacted `/health`. README "Routing and proxying"
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createAllowList } from '../core/client-address.js';
import { isPathFailure, normalizePath } from '../core/path-normalize.js';
import { sendError } from '../core/send-error.js';
import { FleetgateError } from '../errors.js';
import { type Logger, noopLogger } from '../logger.js';
import { createBearerCheck } from './bearer-auth.js';
import type { Middleware, Next } from './compose.js';
import { normalisedPathOf } from './normalize-target.js';

/** Options of {@link createAdminAccess}. */
export interface AdminAccessOptions {
  /** Networks whose callers are operators (`ADMIN_ALLOW_FROM`). @default ['127.0.0.0/8', '::1/128'] */
  allowFrom: readonly string[];
  /** A bearer token that makes any caller an operator (`ADMIN_TOKEN`); compared in constant time. @default undefined */
  token: string | undefined;
  /**
   * The caller's address as the gateway resolved it: `ClientAddressResolver.addressOf`
   * (lib/core/client-address.ts) with the gateway's `TRUSTED_PROXIES`. @default the socket peer
   */
  clientAddress: (req: IncomingMessage) => string | undefined;
  /** Refusals are logged at `warn`. @default noopLogger */
  logger: Logger;
}

/** Defaults of {@link AdminAccessOptions}. Frozen. */
export const ADMIN_ACCESS_DEFAULTS: Readonly<AdminAccessOptions> = Object.freeze({
  allowFrom: Object.freeze(['127.0.0.0/8', '::1/128']) as readonly string[],
  token: undefined,
  clientAddress: (req: IncomingMessage) => req.socket.remoteAddress,
  logger: noopLogger,
});

/** The operator check, shared by the guard and `/health`. */
export interface AdminAccess {
  /** True when `req` comes from an allowed network or carries the admin token. */
  isAdmin(req: IncomingMessage): boolean;
  /**
   * True only when `req` carries `Authorization: Bearer $ADMIN_TOKEN` (never without a configured
   * token): what state-changing operator calls (the dashboard's drain) require.
   */
  holdsToken(req: IncomingMessage): boolean;
  /** The caller's address, for log lines. */
  clientAddress(req: IncomingMessage): string | undefined;
  /** Logs a refusal. */
  readonly logger: Logger;
}

/**
 * Builds the operator check.
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` for a malformed CIDR or an empty token.
 * @example
 * const admin = createAdminAccess({ allowFrom: ['10.1.0.0/16'], token: process.env.ADMIN_TOKEN });
 * admin.isAdmin(req); // true or false
 */
export function createAdminAccess(options: Partial<AdminAccessOptions> = {}): AdminAccess {
  const o: AdminAccessOptions = { ...ADMIN_ACCESS_DEFAULTS };
  for (const [k, v] of Object.entries(options)) if (v !== undefined) (o as unknown as Record<string, unknown>)[k] = v;
  const allowList = createAllowList(o.allowFrom, 'ADMIN_ALLOW_FROM');
  if (o.token !== undefined && o.token.trim() === '')
    throw new FleetgateError('ERR_FG_INVALID_CONFIG', 'ADMIN_TOKEN must not be empty');
  const tokenOk = o.token === undefined ? undefined : createBearerCheck(o.token);
  return {
    isAdmin(req) {
      if (allowList.allows(o.clientAddress(req))) return true;
      return tokenOk?.(req.headers.authorization) === true;
    },
    holdsToken: (req) => tokenOk?.(req.headers.authorization) === true,
    clientAddress: o.clientAddress,
    logger: o.logger,
  };
}

/** Options of {@link adminGuard}. */
export interface AdminGuardOptions {
  /** Prefix of the registration API, whose `GET {prefix}/services` lists every instance. @default '/internal' */
  registryPrefix: string;
  /** Path of the metrics endpoint. @default '/metrics' */
  metricsPath: string;
}

/**
 * Whether `req` asks for an operator endpoint, judged on the normalised path so that
 * `//metrics` or `/_fleetgate/../_fleetgate/explain` are recognised too.
 * @example isOperatorRequest({ method: 'GET', url: '/_fleetgate/explain?path=/' }) // true
 */
export function isOperatorRequest(
  req: Pick<IncomingMessage, 'method' | 'url'>,
  options: Partial<AdminGuardOptions> = {},
): boolean {
  const path = normalisedPathOf(req) ?? normalisedOrRaw(req.url ?? '/');
  if (path === (options.metricsPath ?? '/metrics')) return true;
  if (path === '/_fleetgate' || path.startsWith('/_fleetgate/')) return true;
  const method = req.method ?? 'GET';
  return (method === 'GET' || method === 'HEAD') && path === `${options.registryPrefix ?? '/internal'}/services`;
}

/** The normalised path of a target; a refused one (answered 400 by the proxy) in its raw form, the safe fallback. */
function normalisedOrRaw(url: string): string {
  const norm = normalizePath(url);
  return isPathFailure(norm) ? url.split('?')[0]! : norm.path;
}

/**
 * Middleware refusing operator endpoints to everyone but operators with
 * `403 ERR_FG_FORBIDDEN`; everything else passes. Mount it before those endpoints.
 * @example compose([adminGuard(admin), metrics.handler(), registry({ registry: reg }), ...])
 */
export function adminGuard(access: AdminAccess, options: Partial<AdminGuardOptions> = {}): Middleware {
  return (req: IncomingMessage, res: ServerResponse, next: Next) => {
    if (!isOperatorRequest(req, options) || access.isAdmin(req)) return next();
    const address = access.clientAddress(req) ?? 'unknown address';
    access.logger.warn(`fleetgate: refused ${address} on operator endpoint ${req.method ?? 'GET'} ${req.url ?? '/'}`);
    sendError(
      res,
      new FleetgateError(
        'ERR_FG_FORBIDDEN',
        'operator endpoint: allowed from ADMIN_ALLOW_FROM or with the admin bearer token only',
      ),
    );
  };
}
