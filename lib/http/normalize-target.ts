/**
 * The first step of the request pipeline (docs/architecture.md): the request target is
 * normalised once, before any endpoint looks at it, with the proxy's own rules
 * (lib/core/path-normalize.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isPathFailure, normalizePath } from '../core/path-normalize.js';
import { reservedPathOf } from '../core/reserved-paths.js';
import { sendError } from '../core/send-error.js';
import { FleetgateError } from '../errors.js';

/** Methods the gateway's own endpoints never answer: TRACE reflects, CONNECT tunnels. */
const REFUSED_AT_ENDPOINTS: ReadonlySet<string> = new Set(['TRACE', 'CONNECT']);

/**
 * Rewrites `req.url` to its normalised form (path + verbatim query), or answers 400
 * `ERR_FG_BAD_PATH` and returns `false`. A reserved gateway path loses its trailing slash, and a
 * request for one is held to the same edge rules as proxied requests (lib/upstream/proxy-headers.ts):
 * TRACE and CONNECT 405 `ERR_FG_METHOD_NOT_ALLOWED`, more than one `Host` 400 `ERR_FG_BAD_HEADER`.
 * @example if (normalizeRequestTarget(req, res)) handler(req, res);
 */
export function normalizeRequestTarget(req: IncomingMessage, res: ServerResponse): boolean {
  const raw = req.url ?? '/';
  const norm = normalizePath(raw);
  if (isPathFailure(norm)) {
    sendError(res, new FleetgateError('ERR_FG_BAD_PATH', `bad request path: ${norm.reason}`), {
      headers: { 'x-gateway': 'fleetgate' },
    });
    return false;
  }
  let path = norm.path;
  if (reservedPathOf(path) !== undefined) {
    const refusal = endpointRefusal(req);
    if (refusal !== undefined) {
      sendError(res, refusal, { headers: { 'x-gateway': 'fleetgate' } });
      return false;
    }
    // The gateway's own endpoints do not tell `/health/` from `/health`; services' routes may.
    if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  }
  const url = path + norm.query;
  if (url !== raw) req.url = url;
  (req as Marked)[NORMALISED] = url;
  return true;
}

/** Set on a request by {@link normalizeRequestTarget}: the target it left in `req.url`. */
const NORMALISED = Symbol('fleetgate.normalisedTarget');

interface Marked {
  [NORMALISED]?: string;
}

/**
 * The path of `req.url` when {@link normalizeRequestTarget} normalised it and nothing rewrote it
 * since, else `undefined` (then whoever needs the normal form computes it). Lets a guard behind
 * the gateway's dispatch skip normalising the same target a second time.
 * @example const path = normalisedPathOf(req) ?? normalizePath(req.url).path;
 */
export function normalisedPathOf(req: { readonly url?: string | undefined }): string | undefined {
  const url = req.url;
  if (url === undefined || (req as Marked)[NORMALISED] !== url) return undefined;
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** Why a request for one of the gateway's own endpoints is refused, if it is. */
function endpointRefusal(req: IncomingMessage): FleetgateError | undefined {
  const method = req.method ?? 'GET';
  if (REFUSED_AT_ENDPOINTS.has(method)) {
    return new FleetgateError('ERR_FG_METHOD_NOT_ALLOWED', `${method} is not answered by this gateway`);
  }
  let hosts = 0;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === 4 && raw[i]!.toLowerCase() === 'host') hosts++;
  if (hosts > 1) {
    return new FleetgateError('ERR_FG_BAD_HEADER', `the request has ${hosts} Host headers; exactly one is allowed`);
  }
  return undefined;
}
