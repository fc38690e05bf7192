/**
 * THE one place where a proxying failure becomes an HTTP status and a coded JSON body
 * (docs/architecture.md): no route 404, no healthy instance 503, bad request target 400,
 * upstream refused/dropped 502, upstream too slow 504. Every error response carries
 * `X-Gateway: fleetgate`.
 */
import type { ServerResponse } from 'node:http';
import { ERROR_CODES, type ErrorCode, FleetgateError } from '../errors.js';
import { writeHeadArray } from './header-lists.js';
import { GATEWAY_VERSION } from './proxy-headers.js';

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
 * Maps a failed upstream attempt to the error the client sees. The body names neither the
 * instance nor its address (an outside caller must not learn the fleet's topology): `target` is
 * for the log line the caller writes with {@link upstreamFailureLog}.
 * @param target who was called, e.g. `sagjan/a1 (http://127.0.0.1:7812)`: logged, never sent.
 */
export function upstreamError(err: unknown, kind: UpstreamFailureKind, target: string): FleetgateError {
  const reason = (err as { code?: string } | null)?.code;
  const why = typeof reason === 'string' && /^[A-Z0-9_]{1,40}$/.test(reason) ? ` (${reason})` : '';
  let error: FleetgateError;
  switch (kind) {
    case 'connect-timeout':
      error = new FleetgateError('ERR_FG_UPSTREAM_TIMEOUT', 'connecting to the upstream timed out', { cause: err });
      break;
    case 'timeout':
      error = new FleetgateError('ERR_FG_UPSTREAM_TIMEOUT', 'the upstream did not answer in time', { cause: err });
      break;
    case 'client':
      error = new FleetgateError('ERR_FG_INVALID_BODY', 'the request body did not match its Content-Length', {
        cause: err,
      });
      break;
    case 'connect':
      error = new FleetgateError('ERR_FG_UPSTREAM_CONNECT', `the upstream refused the connection${why}`, {
        cause: err,
      });
      break;
    default:
      error = new FleetgateError('ERR_FG_UPSTREAM_CONNECT', `the upstream dropped the connection${why}`, {
        cause: err,
      });
  }
  targets.set(error, target);
  return error;
}

/** The instance each upstream error was about; kept out of the error so it never reaches a body. */
const targets = new WeakMap<FleetgateError, string>();

/**
 * The log line for an error from {@link upstreamError}: the client's message plus the instance
 * and address, which only operators see.
 * @example logger.warn(upstreamFailureLog(error)) // "fleetgate: sagjan/a1 (http://…): the upstream refused …"
 */
export function upstreamFailureLog(error: FleetgateError): string {
  const target = targets.get(error);
  return `fleetgate: ${target === undefined ? '' : `${target}: `}${error.message} [${error.code}]`;
}

/** 404: no route (and no name fallback) matches. */
export function noRouteError(method: string, path: string): FleetgateError {
  return new FleetgateError('ERR_FG_NO_ROUTE', `no route for ${method} ${path}`);
}

/**
 * 503: the route matched but every instance is down, ejected, draining or expired. Which ones and
 * why is for operators (`/_fleetgate/explain`), not for the client's body.
 */
export function noHealthyInstanceError(service: string): FleetgateError {
  return new FleetgateError('ERR_FG_NO_HEALTHY_INSTANCE', `no healthy instance of ${service}`);
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
 * Writes `error` as `{"error":{"code","message","request_id"}}` with `X-Gateway: fleetgate`: what
 * an outside caller needs to report a failure, and nothing about the fleet behind. When the
 * response has already started (headers sent) the only honest signal left is to cut the connection.
 * @param requestId echoed as `X-Request-Id` and `request_id` when given.
 */
export function sendProxyError(res: ServerResponse, error: FleetgateError, requestId?: string): void {
  if (res.headersSent || res.writableEnded) {
    if (!res.writableFinished) res.destroy();
    return;
  }
  if (res.destroyed) return;
  const json = error.toJSON();
  const body = JSON.stringify(requestId === undefined ? json : { error: { ...json.error, request_id: requestId } });
  const headers: string[] = [
    'content-type',
    'application/json; charset=utf-8',
    'content-length',
    String(Buffer.byteLength(body)),
    'cache-control',
    'no-store',
    'x-gateway',
    'fleetgate',
    'x-gateway-version',
    GATEWAY_VERSION,
  ];
  if (requestId !== undefined) headers.push('x-request-id', requestId);
  writeHeadArray(res, error.status, headers);
  res.end(body);
}
