/**
 * `fleetgateTarget()`: fleetgate's routing (route table + balancer + health signals) for
 * http-proxy-middleware, whose `router` option picks a target per request.
 */
import type { IncomingMessage } from 'node:http';
import type { RegistryApi } from '../registry/registry-api.js';
import { type BalancerName, createBalancer } from '../routing/balancers/index.js';
import { type SelectOptions, selectInstance } from '../routing/instance-selector.js';
import { resolveRequest } from '../routing/resolve-request.js';
import { RouteTable } from '../routing/route-table.js';
import type { InstanceHealthSignals, PickContext, StaticRoute } from '../routing/types.js';
import type { StickyOptions } from './proxy-options.js';
import { stickyKeyOf } from './sticky-key.js';

/** Options of {@link fleetgateTarget}. */
export interface FleetgateTargetOptions {
  /** @default [] */
  staticRoutes: readonly StaticRoute[];
  /** @default true */
  nameRouting: boolean;
  /** @default 'round-robin' ('sticky' when `sticky` is given) */
  balancer: BalancerName;
  /** @default undefined */
  sticky: StickyOptions | undefined;
  /** Passive health to honour, e.g. `discoveryProxy().engine.signals`. @default undefined */
  signals: InstanceHealthSignals | undefined;
}

/** The router function, with the matching path rewrite and its handles. */
export interface FleetgateTarget extends AsyncDisposable {
  /** http-proxy-middleware `router`: the chosen instance's URL, or undefined (no route, bad path, no healthy instance). */
  (req: IncomingMessage): string | undefined;
  /**
   * http-proxy-middleware `pathRewrite`: the normalised path the route matched (the `/{service}`
   * prefix stripped for name routing). Use it, or the raw URL (with any `..`) is what gets forwarded.
   */
  pathRewrite(path: string, req: IncomingMessage): string | undefined;
  readonly routeTable: RouteTable;
  /** Stops following the registry. */
  close(): Promise<void>;
}

const kUpstreamPath = Symbol('fleetgate.upstreamPath');
type Marked = IncomingMessage & { [kUpstreamPath]?: string; originalUrl?: string };

/**
 * Creates a `router` for http-proxy-middleware that routes with fleetgate's table and balancer.
 * @example
 * const target = fleetgateTarget(registry);
 * app.use(createProxyMiddleware({ router: target, pathRewrite: target.pathRewrite }));
 */
export function fleetgateTarget(registry: RegistryApi, options: Partial<FleetgateTargetOptions> = {}): FleetgateTarget {
  const table = new RouteTable({
    registry,
    staticRoutes: options.staticRoutes ?? [],
    nameRouting: options.nameRouting ?? true,
  });
  const sticky = options.sticky;
  const ctx: PickContext = {};
  const select: SelectOptions = {
    balancer: createBalancer(options.balancer ?? (sticky === undefined ? 'round-robin' : 'sticky')),
    ctx,
    ...(options.signals === undefined ? {} : { signals: options.signals }),
    service: '',
  };

  const router = ((req: Marked): string | undefined => {
    const resolved = resolveRequest(table, req.method ?? 'GET', req.originalUrl ?? req.url ?? '/', req);
    if (resolved.kind !== 'route') return undefined;
    const { match } = resolved;
    let url: string | undefined;
    if (match.service === undefined) {
      url = match.target;
    } else {
      if (sticky !== undefined) ctx.stickyKey = stickyKeyOf(req, sticky);
      select.service = match.service;
      url = selectInstance(table.instancesFor(match), select).instance?.url;
    }
    if (url !== undefined) req[kUpstreamPath] = match.upstreamPath;
    return url;
  }) as FleetgateTarget;

  Object.defineProperty(router, 'routeTable', { value: table, enumerable: true });
  Object.assign(router, {
    pathRewrite: (_path: string, req: Marked): string | undefined => req[kUpstreamPath],
    close: () => table.close(),
    [Symbol.asyncDispose]: () => table.close(),
  });
  return router;
}
