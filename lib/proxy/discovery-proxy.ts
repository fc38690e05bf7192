/**
 * `discoveryProxy()`: the middleware that routes requests by path pattern or service name to
 * live instances from the registry and forwards them (README "Routing and proxying"). A plain
 * `(req, res, next?)` function: Express 4/5, Connect, or a bare `http.createServer`.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { FleetgateError, isFleetgateError } from '../errors.js';
import { adoptExpressClasses } from '../http/express-server.js';
import { leaseDefaultRegistry } from '../registry/default-registry.js';
import type { RegistryApi } from '../registry/registry-api.js';
import type { ExplainResult } from '../routing/explain.js';
import type { RouteTable } from '../routing/route-table.js';
import { proxyClosedError, sendProxyError } from '../upstream/upstream-error.js';
import type { UpgradeServer, WebSocketGateway } from '../websocket/websocket-gateway.js';
import { type NextFunction, ProxyEngine } from './proxy-engine.js';
import { type DiscoveryProxyOptions, type ResolvedProxyOptions, resolveProxyOptions } from './proxy-options.js';
import { ProxyUpgrades } from './upgrade-wiring.js';

/** The middleware returned by {@link discoveryProxy}, with its handles. */
export interface DiscoveryProxy extends AsyncDisposable {
  (req: IncomingMessage, res: ServerResponse, next?: NextFunction): void;
  /** The route table; `undefined` until the registry exists (zero-argument form before the first request or `ready()`). */
  readonly routeTable: RouteTable | undefined;
  /** The registry routed from; `undefined` until it exists. */
  readonly registry: RegistryApi | undefined;
  /** Resolves once the registry (created from the environment when none was given) is ready. */
  ready(): Promise<void>;
  /**
   * How a request would be routed: match, candidates, exclusions (ejected, circuit-open, …) and the
   * instance a fresh balancer would pick. Throws `ERR_FG_STORE_UNAVAILABLE` before `ready()`.
   */
  explain(method: string, path: string): ExplainResult;
  /** The engine (pools, outlier detector, breakers, budget); `undefined` until the registry exists. */
  readonly engine: ProxyEngine | undefined;
  /**
   * Handles one WebSocket upgrade (routed like HTTP and pinned to one instance, or the message
   * endpoint `/ws`). Rarely needed: the proxy attaches itself to the server on the first HTTP
   * request it sees there. `undefined`-safe to pass as `server.on('upgrade', proxy.upgrade)`.
   */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Attaches the proxy's `upgrade` handler to `server` now (idempotent; removed on `close()`). */
  attach(server: Server | UpgradeServer): void;
  /** The WebSocket gateway, once created; `undefined` when the `websocket` option is `false`. */
  readonly websocket: WebSocketGateway | undefined;
  /** Stops routing, closes WebSockets and upstream pools, and gives back its lease on the default registry. Idempotent. */
  close(): Promise<void>;
}

/**
 * Creates the discovery proxy middleware.
 *
 * Without a `registry` option, the process-wide default registry is used (created from the
 * environment, `REGISTRY_TYPE`, …, on the first request or `ready()`, and shared with a
 * zero-argument `registry()` and `healthAggregator()`); it closes when the last of them closes. When no route matches, the request goes
 * to `next()` inside Express/Connect, else it is answered 404 `ERR_FG_NO_ROUTE`.
 * @example
 * const registry = await createRegistry();
 * app.use(express.json());            // bodies parsed here are re-serialised when forwarded
 * app.use(discoveryProxy({ registry }));
 * @example
 * const proxy = discoveryProxy({ registry, timeoutMs: 5000 });
 * http.createServer((req, res) => proxy(req, res)).listen(8080);
 */
export function discoveryProxy(options: Partial<DiscoveryProxyOptions> = {}): DiscoveryProxy {
  const opts: ResolvedProxyOptions = resolveProxyOptions(options);
  let engine: ProxyEngine | undefined =
    opts.registry === undefined ? undefined : new ProxyEngine(opts.registry, opts, false);
  // Without a registry option: the process-wide default one (lib/registry/default-registry.ts),
  // shared with a zero-argument registry() and healthAggregator().
  const lease = opts.registry === undefined ? leaseDefaultRegistry() : undefined;
  let starting: Promise<ProxyEngine> | undefined;
  let closed: Promise<void> | undefined;

  const start = (): Promise<ProxyEngine> => {
    if (engine !== undefined) return Promise.resolve(engine);
    if (lease === undefined) return Promise.reject(proxyClosedError());
    starting ??= lease.get().then(
      (registry) => {
        if (closed !== undefined) throw proxyClosedError();
        engine = new ProxyEngine(registry, opts, false);
        return engine;
      },
      (err: unknown) => {
        // The store may come back: the next request tries again instead of failing for ever.
        starting = undefined;
        throw err;
      },
    );
    return starting;
  };

  const upgrades =
    opts.websocket === false
      ? undefined
      : new ProxyUpgrades(
          { ...opts.websocket, upstreamTls: opts.upstreamTls, metrics: opts.metrics },
          start,
          opts.clock,
          opts.logger,
        );

  // Servers whose classes this proxy considered adopting (lib/http/express-server.ts).
  const examined = opts.adoptServerClasses ? new WeakSet<object>() : undefined;

  const proxy = function discoveryProxyMiddleware(
    req: IncomingMessage,
    res: ServerResponse,
    next?: NextFunction,
  ): void {
    upgrades?.noteRequest(req);
    if (examined !== undefined) adoptOnce(examined, req, res);
    if (engine !== undefined) {
      engine.handle(req, res, next);
      return;
    }
    if (closed !== undefined) {
      sendProxyError(res, proxyClosedError());
      return;
    }
    start().then(
      (e) => e.handle(req, res, next),
      (err: unknown) => {
        opts.logger.error(`fleetgate: discoveryProxy could not create its registry: ${String(err)}`);
        const error = isFleetgateError(err)
          ? err
          : new FleetgateError('ERR_FG_STORE_UNAVAILABLE', 'the registry could not be created', { cause: err });
        sendProxyError(res, error);
      },
    );
  } as DiscoveryProxy;

  Object.defineProperties(proxy, {
    routeTable: { get: () => engine?.table, enumerable: true },
    registry: { get: () => engine?.registry, enumerable: true },
    engine: { get: () => engine, enumerable: true },
    websocket: { get: () => upgrades?.gateway, enumerable: true },
  });
  Object.assign(proxy, {
    ready: async (): Promise<void> => {
      const e = await start();
      await e.registry.ready();
    },
    explain: (method: string, path: string): ExplainResult => {
      if (engine === undefined) {
        throw new FleetgateError('ERR_FG_STORE_UNAVAILABLE', 'the proxy has no registry yet; await proxy.ready()');
      }
      return engine.explain(method, path);
    },
    close: (): Promise<void> => {
      closed ??= (async () => {
        await upgrades?.close();
        if (engine === undefined && starting !== undefined) await starting.catch(() => undefined);
        await engine?.close();
        await lease?.release();
      })();
      return closed;
    },
    upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
      if (upgrades === undefined || closed !== undefined) {
        socket.destroy();
        return;
      }
      upgrades.upgrade(req, socket, head);
    },
    attach: (server: Server | UpgradeServer): void => upgrades?.attach(server),
    [Symbol.asyncDispose]: (): Promise<void> => proxy.close(),
  });
  return proxy;
}

/**
 * The first request seen on a server decides, once, whether that server builds its requests with
 * the Express app's prototypes from now on (`adoptExpressClasses`). A WeakSet lookup per request.
 */
function adoptOnce(examined: WeakSet<object>, req: IncomingMessage, res: ServerResponse): void {
  const server = (req.socket as { server?: unknown } | null)?.server;
  if (typeof server !== 'object' || server === null || examined.has(server)) return;
  examined.add(server);
  adoptExpressClasses(server, req, res);
}
