/**
 * What a registration may claim (docs/architecture.md, "Route conflicts"). Every pattern must
 * compile (400 `ERR_FG_INVALID_ROUTE`), and no route may overlap, i.e. be matched by one request
 * together with: a reserved gateway path, a static gateway route, the `/{name}/…` prefix of
 * another live service, or a route of another service (409 `ERR_FG_ROUTE_CONFLICT`). A service's
 * own routes may overlap each other: precedence decides between them.
 */
import { gatewaysProblem } from '../core/gateway-targets.js';
import { reservedOverlapOf } from '../core/reserved-paths.js';
import { isPatternProblem, parsePattern } from '../core/route-pattern.js';
import { cachedPredicates, isPredicateProblem } from '../core/route-predicates.js';
import { FleetgateError } from '../errors.js';
import { type ClaimedRoute, type ClaimRef, compileRoute, type RouteClaims, type RouteShape } from './route-claims.js';

/** What the admission rules look at. */
export interface AdmissionContext {
  /** Claims of registered (and in-flight) routes. */
  readonly claims: readonly RouteClaims[];
  /** Claims of the static gateway routes. */
  readonly staticClaims: RouteClaims;
  /** Whether a service of that name has live instances. */
  isLiveService(name: string): boolean;
  /** Names of the services with live instances. */
  liveServices(): Iterable<string>;
}

/**
 * Compiles every route of a registration: its pattern, its predicates (bounded sizes, safe
 * regexes: lib/core/safe-regex.ts) and its gateway names.
 * @throws FleetgateError `ERR_FG_INVALID_ROUTE` with details `{ index, path, reason }` (and `at`,
 * e.g. `predicates.headers[0].regex`, for a predicate) for the first invalid one.
 * `compiled` may hold what {@link compileRoute} made of each route already (the registry
 * compiles once for its limits); a pattern is parsed again only to say why it does not compile.
 * @example compileRoutes([{ method: 'GET', path: '/a/:id' }])[0]?.compiled.shape // '/a/:'
 */
export function compileRoutes(
  routes: readonly RouteShape[],
  compiled: readonly (ClaimedRoute | undefined)[] = routes.map((route) => compileRoute(route)),
): ClaimedRoute[] {
  return routes.map((route, index) => {
    const claimed = compiled[index];
    if (claimed === undefined) {
      const parsed = parsePattern(route.path);
      const reason = isPatternProblem(parsed) ? parsed.reason : 'it does not compile';
      throw new FleetgateError(
        'ERR_FG_INVALID_ROUTE',
        `route ${index} (${route.path}) can never match a request: ${reason}`,
        { details: { index, path: route.path, reason } },
      );
    }
    const predicates = cachedPredicates(route.predicates);
    if (predicates !== undefined && isPredicateProblem(predicates)) {
      const at = predicates.at === '' ? 'predicates' : `predicates.${predicates.at}`;
      throw new FleetgateError('ERR_FG_INVALID_ROUTE', `route ${index} (${route.path}): ${at} ${predicates.reason}`, {
        details: { index, path: route.path, at, reason: predicates.reason },
      });
    }
    const gateways = route.gateways === undefined ? undefined : gatewaysProblem(route.gateways);
    if (gateways !== undefined) {
      throw new FleetgateError('ERR_FG_INVALID_ROUTE', `route ${index} (${route.path}): ${gateways}`, {
        details: { index, path: route.path, at: 'gateways', reason: gateways },
      });
    }
    return claimed;
  });
}

/**
 * Refuses a registration whose routes claim what is not `service`'s.
 * @throws FleetgateError `ERR_FG_ROUTE_CONFLICT` with details `{ index, route, conflictsWith }`.
 */
export function assertRoutesAdmissible(service: string, routes: readonly ClaimedRoute[], ctx: AdmissionContext): void {
  for (let index = 0; index < routes.length; index++) {
    const route = routes[index]!;
    const other = conflictOf(service, route, ctx);
    if (other === undefined) continue;
    throw new FleetgateError(
      'ERR_FG_ROUTE_CONFLICT',
      `route ${route.method} ${route.path} (routes[${index}]) of ${service} overlaps ${describeClaim(other)}: ` +
        'some request could match both',
      {
        details: {
          index,
          route: { method: route.method, path: route.path, protocol: route.protocol },
          conflictsWith: other,
        },
      },
    );
  }
}

/**
 * The claims of other services that shadow `service`'s `/{service}/…` name fallback: explicit
 * routes that take some of its paths first.
 * @example nameShadowsOf('cart', [claims]) // [{ service: 'shop', method: 'GET', path: '/cart/items', protocol: 'http' }]
 */
export function nameShadowsOf(service: string, claims: readonly RouteClaims[]): ClaimRef[] {
  const prefix = compileRoute({ path: `/${service}/**` });
  if (prefix === undefined) return [];
  const seen = new Set<string>();
  const out: ClaimRef[] = [];
  for (const index of claims) {
    for (const ref of index.overlappingPattern(prefix.compiled, service)) {
      const key = `${ref.service ?? ''} ${ref.protocol} ${ref.method} ${ref.path}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(ref);
    }
  }
  return out;
}

/** Says who holds a claim, for messages. */
export function describeClaim(ref: ClaimRef): string {
  if (ref.reserved) return `the gateway's reserved path ${ref.path}`;
  if (ref.static) return `the static gateway route ${ref.method} ${ref.path}`;
  if (ref.nameOf !== undefined) return `the name prefix /${ref.nameOf}/… of service ${ref.nameOf}`;
  return `${ref.method} ${ref.path} of ${ref.service}`;
}

function conflictOf(service: string, route: ClaimedRoute, ctx: AdmissionContext): ClaimRef | undefined {
  if (route.protocol === 'http') {
    const reserved = reservedOverlapOf(route.compiled);
    if (reserved !== undefined) return { reserved: true, method: '*', path: reserved, protocol: 'http' };
  }
  const fixed = ctx.staticClaims.find(service, route);
  if (fixed !== undefined) return fixed;
  const prefixOwner = namePrefixOwner(service, route, ctx);
  if (prefixOwner !== undefined) {
    return {
      service: prefixOwner,
      nameOf: prefixOwner,
      method: '*',
      path: `/${prefixOwner}/**`,
      protocol: route.protocol,
    };
  }
  for (const claims of ctx.claims) {
    const taken = claims.find(service, route);
    if (taken !== undefined) return taken;
  }
  return undefined;
}

/** Another live service whose `/{name}/…` prefix `route` overlaps. */
function namePrefixOwner(service: string, route: ClaimedRoute, ctx: AdmissionContext): string | undefined {
  const first = route.compiled.segments[0];
  if (first === undefined) return undefined; // `/` is under no name
  if (first.kind === 'static')
    return first.value !== service && ctx.isLiveService(first.value) ? first.value : undefined;
  for (const name of ctx.liveServices()) if (name !== service) return name;
  return undefined;
}
