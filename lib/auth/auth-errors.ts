/**
 * The answers of the auth middlewares: 401 `ERR_FG_UNAUTHENTICATED` with a `WWW-Authenticate`
 * challenge (RFC 9110 §11.6.1; RFC 6750 §3 for Bearer), 403 `ERR_FG_FORBIDDEN` naming what was
 * missing, 429 for an address that failed too often, 503 when credentials cannot be checked.
 * Messages never echo a presented credential.
 */
import type { ServerResponse } from 'node:http';
import { sendError } from '../core/send-error.js';
import { FleetgateError } from '../errors.js';

/** Why credentials were refused (`details.reason` of a 401). */
export type AuthFailureReason =
  | 'missing'
  | 'malformed'
  | 'unknown'
  | 'expired'
  | 'too-large'
  | 'algorithm'
  | 'unknown-kid'
  | 'signature'
  | 'not-yet-valid'
  | 'issuer'
  | 'audience'
  | 'claims';

/** A 401 for `reason`. */
export function unauthenticated(message: string, reason: AuthFailureReason): FleetgateError {
  return new FleetgateError('ERR_FG_UNAUTHENTICATED', message, { details: { reason } });
}

/** A 403 saying what the credential lacks. */
export function forbidden(message: string, missing: Record<string, unknown>, who?: string): FleetgateError {
  return new FleetgateError('ERR_FG_FORBIDDEN', message, {
    details: { missing, ...(who === undefined ? {} : { credential: who }) },
  });
}

/** A 503: credentials could not be checked. */
export function authUnavailable(message: string, cause?: unknown): FleetgateError {
  return new FleetgateError('ERR_FG_AUTH_UNAVAILABLE', message, { cause });
}

/** A quoted-string for a challenge parameter (RFC 9110 §5.6.4). */
export function quoted(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[^\x20-\x7e]/g, '')}"`;
}

/**
 * Writes `error`; a 401 carries `challenge` in `WWW-Authenticate`, a 403 too when given (a
 * Bearer `insufficient_scope`).
 */
export function sendAuthError(res: ServerResponse, error: FleetgateError, challenge?: string): void {
  const headers = challenge === undefined ? {} : { 'www-authenticate': challenge };
  sendError(res, error, { headers });
}
