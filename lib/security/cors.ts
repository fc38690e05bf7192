/**
 * `cors()`: CORS answered at the gateway, globally or per route. A preflight (`OPTIONS` with
 * `Origin` and `Access-Control-Request-Method`) never reaches a service: it is answered 204 when
 * the origin, method and headers are allowed and 403 `ERR_FG_FORBIDDEN` (saying which) when not.
 * Actual requests from an allowed origin get `Access-Control-Allow-Origin` and friends; others get
 * none, and the browser keeps the answer from the page. Per-route policies are found from the
 * route the request resolves to (for a preflight: the route of the method it announces).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mergeDefined } from '../core/options-merge.js';
import { sendError } from '../core/send-error.js';
import { FleetgateError } from '../errors.js';
import { lookupOf, type RouteSource, resolveIncoming } from '../routing/request-resolution.js';
import { RoutePolicies } from '../routing/route-policies.js';
import { CORS_POLICY_DEFAULTS, type CompiledCorsPolicy, type CorsPolicy, compileCorsPolicy } from './cors-policy.js';

/** Options of {@link cors}: the global policy, plus per-route ones. */
export interface CorsOptions extends CorsPolicy {
  /** The route table per-route policies are looked up in (pass the `discoveryProxy()`). @default undefined */
  routes: RouteSource | undefined;
  /**
   * Policies by route (`"GET /api/comments/*"` or `"/api/comments/*"`, as written in the route
   * table), merged over the global one; `false` turns CORS off for the route. @default {}
   */
  routePolicies: Readonly<Record<string, Partial<CorsPolicy> | false>>;
  /** The status of an accepted preflight. @default 204 */
  preflightStatus: 200 | 204;
}

/** Defaults of {@link CorsOptions}. Frozen. */
export const CORS_DEFAULTS: Readonly<CorsOptions> = Object.freeze({
  ...CORS_POLICY_DEFAULTS,
  routes: undefined,
  routePolicies: Object.freeze({}),
  preflightStatus: 204,
} satisfies CorsOptions);

type Next = (err?: unknown) => void;

function appendVary(res: ServerResponse, value: string): void {
  const prev = res.getHeader('vary');
  res.setHeader('vary', prev === undefined || prev === '' ? value : `${String(prev)}, ${value}`);
}

/**
 * Creates the CORS middleware.
 * @example
 * app.use(cors({ origin: ['https://app.example'], credentials: true, routes: proxy,
 *   routePolicies: { '/api/public/**': { origin: '*', credentials: false } } }));
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` on an invalid policy.
 */
export function cors(
  options: Partial<CorsOptions> = {},
): (req: IncomingMessage, res: ServerResponse, next: Next) => void {
  const o: CorsOptions = mergeDefined(CORS_DEFAULTS, options);
  if (o.preflightStatus !== 200 && o.preflightStatus !== 204) {
    throw new FleetgateError('ERR_FG_INVALID_CONFIG', `cors: invalid preflightStatus ${String(o.preflightStatus)}`);
  }
  const global = compileCorsPolicy(o, 'cors');
  const perRoute: Record<string, CompiledCorsPolicy | false> = {};
  for (const [key, policy] of Object.entries(o.routePolicies)) {
    perRoute[key] =
      policy === false ? false : compileCorsPolicy({ ...pickPolicy(o), ...policy }, `cors.routePolicies[${key}]`);
  }
  const policies = new RoutePolicies(perRoute, 'cors.routePolicies');

  /** The policy for this request (with `method` for a preflight), `false` when off, `null` when the table is not ready. */
  const policyFor = (req: IncomingMessage, method: string): CompiledCorsPolicy | false | null => {
    if (o.routes === undefined || policies.size === 0) return global;
    const table = lookupOf(o.routes);
    if (table === undefined) return null;
    const resolved = resolveIncoming(table, req, method);
    if (resolved.kind !== 'route') return global;
    return policies.for(method, resolved.match) ?? global;
  };

  return function corsMiddleware(req, res, next) {
    const origin = req.headers.origin;
    if (origin === undefined) {
      next();
      return;
    }
    const requested = req.headers['access-control-request-method'];
    const preflight = req.method === 'OPTIONS' && typeof requested === 'string';
    const policy = policyFor(req, preflight ? requested.toUpperCase() : (req.method ?? 'GET'));
    if (policy === null) {
      sendError(
        res,
        new FleetgateError('ERR_FG_AUTH_UNAVAILABLE', 'the route table is not ready; CORS cannot be decided yet'),
      );
      return;
    }
    if (policy === false) {
      if (preflight) refuse(res, 'CORS is not enabled for this route', { route: true });
      else next();
      return;
    }
    if (policy.varies) appendVary(res, 'Origin');
    const allowed = policy.allow(origin);
    if (!preflight) {
      if (allowed !== undefined) {
        res.setHeader('access-control-allow-origin', allowed);
        if (policy.credentials) res.setHeader('access-control-allow-credentials', 'true');
        if (policy.exposedHeader !== undefined) res.setHeader('access-control-expose-headers', policy.exposedHeader);
      }
      next();
      return;
    }
    if (allowed === undefined) {
      refuse(res, `origin ${origin.slice(0, 200)} is not allowed`, { origin: origin.slice(0, 200) });
      return;
    }
    const method = requested.toUpperCase();
    if (!policy.methods.has(method)) {
      refuse(res, `method ${method.slice(0, 32)} is not allowed`, { method: method.slice(0, 32) });
      return;
    }
    const askedRaw = req.headers['access-control-request-headers'];
    const asked = typeof askedRaw === 'string' ? askedRaw : '';
    if (policy.allowedHeaders !== undefined && asked !== '') {
      const missing = asked
        .split(',')
        .map((h) => h.trim().toLowerCase())
        .filter((h) => h !== '' && !policy.allowedHeaders!.has(h));
      if (missing.length > 0) {
        refuse(res, `request headers ${missing.join(', ').slice(0, 200)} are not allowed`, {
          headers: missing.slice(0, 20),
        });
        return;
      }
    }
    if (policy.allowedHeaders === undefined) appendVary(res, 'Access-Control-Request-Headers');
    const allowHeaders = policy.allowedHeadersHeader ?? (/^[!#$%&'*+.^_`|~0-9A-Za-z, -]*$/.test(asked) ? asked : '');
    res.writeHead(o.preflightStatus, {
      'access-control-allow-origin': allowed,
      'access-control-allow-methods': policy.methodsHeader,
      ...(allowHeaders === '' ? {} : { 'access-control-allow-headers': allowHeaders }),
      ...(policy.credentials ? { 'access-control-allow-credentials': 'true' } : {}),
      'access-control-max-age': policy.maxAge,
      'content-length': '0',
    });
    res.end();
  };
}

function pickPolicy(o: CorsOptions): CorsPolicy {
  const { origin, methods, allowedHeaders, exposedHeaders, credentials, maxAgeSeconds } = o;
  return { origin, methods, allowedHeaders, exposedHeaders, credentials, maxAgeSeconds };
}

function refuse(res: ServerResponse, message: string, missing: Record<string, unknown>): void {
  sendError(
    res,
    new FleetgateError('ERR_FG_FORBIDDEN', `CORS preflight refused: ${message}`, { details: { missing } }),
  );
}
