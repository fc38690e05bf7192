/**
 * THE one place where a proxying failure becomes an HTTP status and a coded JSON body
 * (CONVENTIONS.md §7): no route 404, no healthy instance 503, bad request target 400,
 * upstream refused/dropped 502, upstream too slow 504. Every error response carries
 * `X-Gateway: fleetgate`.
 */
import type { ServerResponse } from 'node:http';
import { ERROR_CODES, type ErrorCode, FleetgateError } from '../errors.js';
import { writeHeadArray } from './proxy-headers.js';

/**
 * The code for a refused request target. `ERR_FG_BAD_PATH` once the lead adds it to
 * ERROR_CODES; until then the closest existing 400 code, so nothing else has to change.
 */
export const BAD_PATH_CODE: ErrorCode = (
  'ERR_FG_BAD_PATH' in ERROR_CODES ? 'ERR_FG_BAD_PATH' : 'ERR_FG_INVALID_BODY'
) as ErrorCode;

/** How an upstream attempt failed; drives retries, ejection and the status. */
export type UpstreamFailureKind =
  /** No byte reached the instance: refused, unreachable, DNS, TLS handshake. */
  | 'connect'
  /** The TCP/TLS connect did not finish within `connectTimeoutMs`. */
  | 'connect-timeout'
  /** The response headers did not arrive within the route's timeout. */
  | 'timeout'
  /** The connection was reset or closed before a response arrived, or the response was malformed. */
  | 'reset'
  /** The client's own body was broken (length mismatch, aborted upload). */
  | 'client'
  /** The gateway itself aborted the attempt (client gone, proxy closed). */
  | 'aborted';

const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
]);

/**
 * Classifies an error raised by undici (or the socket under it) for one upstream attempt.
 * @example classifyUpstreamError(Object.assign(new Error(), { code: 'ECONNREFUSED' })) // 'connect'
 */
export function classifyUpstreamError(err: unknown): UpstreamFailureKind {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return 'reset';
  if (CONNECT_CODES.has(code)) return 'connect';
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connect-timeout';
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'ETIMEDOUT':
      return 'timeout';
    case 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH':
      return 'client';
    case 'UND_ERR_ABORTED':
    case 'UND_ERR_ABORT':
    case 'ABORT_ERR':
      return 'aborted';
    default:
      return 'reset';
  }
}

/** Whether the failure means nothing reached the instance (safe to retry any method). */
export function isConnectFailure(kind: UpstreamFailureKind): boolean {
  return kind === 'connect' || kind === 'connect-timeout';
}

/**
 * Maps a failed upstream attempt to the error the client sees.
 * @param target who was called, for the message, e.g. `sagjan/a1 (http://127.0.0.1:7812)`.
 */
export function upstreamError(err: unknown, kind: UpstreamFailureKind, target: string): FleetgateError {
  const reason = (err as { code?: string; message?: string } | null)?.code ?? (err as Error)?.message ?? 'error';
  switch (kind) {
    case 'connect-timeout':
      return new FleetgateError('ERR_FG_UPSTREAM_TIMEOUT', `connecting to ${target} timed out`, { cause: err });
    case 'timeout':
      return new FleetgateError('ERR_FG_UPSTREAM_TIMEOUT', `${target} did not answer in time`, { cause: err });
    case 'client':
      return new FleetgateError('ERR_FG_INVALID_BODY', 'the request body did not match its Content-Length', {
        cause: err,
      });
    case 'connect':
      return new FleetgateError('ERR_FG_UPSTREAM_CONNECT', `${target} refused the connection (${reason})`, {
        cause: err,
      });
    default:
      return new FleetgateError('ERR_FG_UPSTREAM_CONNECT', `${target} dropped the connection (${reason})`, {
        cause: err,
      });
  }
}

/** 404: no route (and no name fallback) matches. */
export function noRouteError(method: string, path: string): FleetgateError {
  return new FleetgateError('ERR_FG_NO_ROUTE', `no route for ${method} ${path}`);
}

/** 503: the route matched but every instance is down, ejected, draining or expired. */
export function noHealthyInstanceError(
  service: string,
  excluded: readonly { instanceId: string; reason: string }[],
): FleetgateError {
  return new FleetgateError('ERR_FG_NO_HEALTHY_INSTANCE', `no healthy instance of ${service}`, {
    details: excluded.length === 0 ? undefined : { excluded },
  });
}

/** 400: the request target was refused by path normalisation (traversal, encoded slash, …). */
export function badPathError(reason: string): FleetgateError {
  return new FleetgateError(BAD_PATH_CODE, `bad request path: ${reason}`, { status: 400 });
}

/** 503: the proxy was closed. */
export function proxyClosedError(): FleetgateError {
  return new FleetgateError('ERR_FG_CLOSED', 'the discovery proxy is closed');
}

/**
 * Writes `error` as `{"error":{"code","message"}}` with `X-Gateway: fleetgate`. When the response
 * has already started (headers sent) the only honest signal left is to cut the connection.
 * @param requestId echoed as `X-Request-Id` when given.
 */
export function sendProxyError(res: ServerResponse, error: FleetgateError, requestId?: string): void {
  if (res.headersSent || res.writableEnded) {
    if (!res.writableFinished) res.destroy();
    return;
  }
  if (res.destroyed) return;
  const body = JSON.stringify(error.toJSON());
  const headers: string[] = [
    'content-type',
    'application/json; charset=utf-8',
    'content-length',
    String(Buffer.byteLength(body)),
    'cache-control',
    'no-store',
    'x-gateway',
    'fleetgate',
  ];
  if (requestId !== undefined) headers.push('x-request-id', requestId);
  writeHeadArray(res, error.status, headers);
  res.end(body);
}
