/**
 * The ONE request resolution every entry point shares (docs/architecture.md, the request
 * pipeline): normalise the target, keep the gateway's reserved paths away from services, then
 * match the route table. The proxy, `fleetgateTarget()`, WebSocket upgrades, the message router
 * and `explain` all call it, so no two of them can disagree about where a request goes.
 */
import { isPathFailure, normalizePath } from '../core/path-normalize.js';
import { reservedPathOf } from '../core/reserved-paths.js';
import type { PredicateRequest } from '../core/route-predicates.js';
import type { RouteMatch } from './types.js';

/** What {@link resolveRequest} needs of a route table. */
export interface RouteLookup {
  /** `http` tables hold request routes; `ws` tables hold message routes (frames never reach gateway endpoints). */
  readonly protocol: 'http' | 'ws';
  match(method: string, path: string, query?: string, req?: PredicateRequest): RouteMatch | undefined;
}

/** Where a request goes. `path` is normalised; `query` keeps its `?` (or is `''`). */
export type Resolution =
  /** The target was refused by normalisation (traversal, encoded slash, …): answer 400. */
  | { readonly kind: 'bad-path'; readonly reason: string }
  /** One of the gateway's own paths: never forwarded; the gateway's endpoints own it. */
  | { readonly kind: 'reserved'; readonly path: string; readonly query: string; readonly reserved: string }
  /** No route and no name fallback: answer 404 (or pass on). */
  | { readonly kind: 'no-route'; readonly path: string; readonly query: string }
  | { readonly kind: 'route'; readonly path: string; readonly query: string; readonly match: RouteMatch };

/**
 * Resolves one request against `table`.
 * @param rawUrl the request target as received (origin or absolute form), query included.
 * @param req the request's headers (and, through lib/core/request-claims.ts, its verified
 * claims) for route predicates; without it routes with predicates never match.
 * @example
 * const r = resolveRequest(table, 'GET', '//api/./comments/7?x=1');
 * if (r.kind === 'route') r.match.upstreamPath; // '/api/comments/7?x=1'
 */
export function resolveRequest(table: RouteLookup, method: string, rawUrl: string, req?: PredicateRequest): Resolution {
  const norm = normalizePath(rawUrl);
  if (isPathFailure(norm)) return { kind: 'bad-path', reason: norm.reason };
  const { path, query } = norm;
  if (table.protocol === 'http') {
    const reserved = reservedPathOf(path);
    if (reserved !== undefined) return { kind: 'reserved', path, query, reserved };
  }
  const match = table.match(method, path, query, req);
  return match === undefined ? { kind: 'no-route', path, query } : { kind: 'route', path, query, match };
}
