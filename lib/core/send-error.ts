/**
 * The one place where an error becomes an HTTP response with the JSON body
 * `{"error":{"code","message","details"}}` (README "Registration API"). A {@link FleetgateError} keeps its
 * status, message and details; anything else is a 500 whose message is not leaked.
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { isFleetgateError } from '../errors.js';
import type { Logger } from '../logger.js';
import { isSafeRequestId, newRequestId } from './request-ids.js';

/**
 * The code of an unexpected failure. Not in ERROR_CODES yet (requested from the lead); used
 * here only, so adding it to the table changes nothing else.
 */
export const INTERNAL_ERROR_CODE = 'ERR_FG_INTERNAL';

/** The JSON body of an error response. */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown; request_id?: string };
}

/** Options for {@link sendError}. */
export interface SendErrorOptions {
  /** Extra response headers, e.g. `Allow`, `WWW-Authenticate`, `Retry-After`. */
  headers?: OutgoingHttpHeaders;
  /** Where unexpected (non-Fleetgate) errors are reported. */
  logger?: Logger;
}

/**
 * The status and body for any thrown value.
 * @example errorResponse(new FleetgateError('ERR_FG_NOT_FOUND', 'no such thing')).status // 404
 */
export function errorResponse(err: unknown): { status: number; body: ErrorBody } {
  if (isFleetgateError(err)) return { status: err.status, body: err.toJSON() };
  return { status: 500, body: { error: { code: INTERNAL_ERROR_CODE, message: 'internal error' } } };
}

/**
 * Writes `err` as a JSON error response carrying a request id (`request_id` in the body and
 * `X-Request-Id`): the client's own when it sent a safe one, else a new one, so an operator can
 * find the log line a caller quotes. When the response has already started, the only honest
 * signal left is to abort it, so the connection is destroyed instead.
 * @example sendError(res, new FleetgateError('ERR_FG_FORBIDDEN', '10.1.2.3 is not allowed'));
 */
export function sendError(res: ServerResponse, err: unknown, options: SendErrorOptions = {}): void {
  const { status, body } = errorResponse(err);
  if (!isFleetgateError(err)) options.logger?.error('fleetgate: unexpected error', err);
  if (res.headersSent || res.writableEnded) {
    if (!res.writableEnded) res.destroy();
    return;
  }
  const requestId = requestIdOf(res);
  body.error.request_id = requestId;
  sendJson(res, status, body, { ...options.headers, 'x-request-id': requestId });
}

/** The request id of the request `res` answers: the client's when safe, else a fresh one. */
function requestIdOf(res: ServerResponse): string {
  const sent = res.req?.headers['x-request-id'];
  return typeof sent === 'string' && isSafeRequestId(sent) ? sent : newRequestId();
}

/**
 * Writes a JSON response with `Cache-Control: no-store` (registry and health answers go stale at once).
 * @example sendJson(res, 200, { status: 'deregistered' });
 */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
  });
  res.end(res.req?.method === 'HEAD' ? undefined : payload);
}
