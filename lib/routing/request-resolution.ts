/**
 * The route a request resolved to, computed once per request and shared by every middleware
 * that needs it (apiKeys() enforcing a route's `permission`, jwtAuth() per-route requirements,
 * cors() per-route policies) and by the proxy that forwards it. Each calls
 * {@link resolveIncoming}; the first call runs {@link resolveRequest} and the rest read the
 * result, so an auth decision is always made on the very route the proxy then uses.
 */
import type { IncomingMessage } from 'node:http';
import { type RequestClaims, requestClaims } from '../core/request-claims.js';
import { type Resolution, type RouteLookup, resolveRequest } from './resolve-request.js';

/**
 * Where a middleware finds the route table: a table itself, or anything holding one (a
 * `discoveryProxy()`, whose `routeTable` is `undefined` until its registry exists).
 */
export type RouteSource = RouteLookup | { readonly routeTable: RouteLookup | undefined };

interface Memo {
  table: RouteLookup;
  method: string;
  url: string;
  /** The verified claims when it was resolved: claim predicates may route differently once a token is verified. */
  claims: RequestClaims | undefined;
  resolution: Resolution;
}

const memos = new WeakMap<IncomingMessage, Memo>();

/**
 * The table of a {@link RouteSource}, or `undefined` when it has none yet.
 * @example lookupOf(proxy) // proxy.routeTable
 */
export function lookupOf(source: RouteSource): RouteLookup | undefined {
  return 'match' in source && typeof source.match === 'function'
    ? source
    : (source as { readonly routeTable: RouteLookup | undefined }).routeTable;
}

/**
 * The request target as the proxy reads it: Express's `originalUrl` (unchanged by mount paths)
 * or the raw `url`.
 */
export function targetOf(req: IncomingMessage): string {
  return (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/';
}

/**
 * Resolves `req` against `table` once. A later call with the same table, method and target gets
 * the same answer without matching again; a middleware that rewrote the target, or verified a
 * token (claim predicates, docs/predicates.md), in between gets a fresh one. Route predicates see
 * `req`'s headers and verified claims.
 * @param method the method to resolve for; a CORS preflight passes `Access-Control-Request-Method`
 *   and is then not memoised, so it never stands in for the request's own route.
 * @example
 * const r = resolveIncoming(proxy.routeTable!, req);
 * if (r.kind === 'route') r.match.route.permission;
 */
export function resolveIncoming(table: RouteLookup, req: IncomingMessage, method = req.method ?? 'GET'): Resolution {
  const url = targetOf(req);
  if (method !== (req.method ?? 'GET')) return resolveRequest(table, method, url, req);
  const memo = memos.get(req);
  const claims = requestClaims(req);
  if (
    memo !== undefined &&
    memo.table === table &&
    memo.method === method &&
    memo.url === url &&
    memo.claims === claims
  ) {
    return memo.resolution;
  }
  const resolution = resolveRequest(table, method, url, req);
  memos.set(req, { table, method, url, claims, resolution });
  return resolution;
}
