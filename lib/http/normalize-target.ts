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

/**
 * Rewrites `req.url` to its normalised form (path + verbatim query), or answers 400
 * `ERR_FG_BAD_PATH` and returns `false`. A reserved gateway path loses its trailing slash.
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
  // The gateway's own endpoints do not tell `/health/` from `/health`; services' routes may.
  if (path.length > 1 && path.endsWith('/') && reservedPathOf(path) !== undefined) path = path.slice(0, -1);
  const url = path + norm.query;
  if (url !== raw) req.url = url;
  return true;
}
