/**
 * `createGateway()`: the standalone gateway the `fleetgate` bin runs. A `node:http` server whose
 * handler is a plain array of middlewares — the operator guard, `/metrics`, the registration API, `/health`,
 * the dashboard (`/_fleetgate/`), `/_fleetgate/explain`, your own middlewares, then the discovery proxy — ending in a JSON 404
 * `ERR_FG_NO_ROUTE`; WebSocket upgrades go to the WebSocket gateway. No Express on the hot path.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, Server as NetServer } from 'node:net';
import type { Duplex } from 'node:stream';
import { type Clock, realClock } from './clock.js';
import { type ConsulApiOptions, consulApi } from './compat/consul/consul-api.js';
import { type EurekaApiOptions, eurekaApi } from './compat/eureka/eureka-api.js';
import { parseEnv } from './config/env.js';
import { ClientAddressResolver } from './core/client-address.js';
import { dropUndefined } from './core/options-merge.js';
import { createGatewayDashboard } from './dashboard/gateway-dashboard.js';
import { FleetgateError } from './errors.js';
import { type GatewayHealth, startGatewayHealth } from './gateway-health.js';
import { healthAggregator } from './health/health-aggregator.js';
import type { HealthCheckerOptions } from './health/health-check-options.js';
import { type AdminAccessOptions, adminGuard, createAdminAccess } from './http/admin-access.js';
import { compose, type Middleware, pathOf } from './http/compose.js';
import { explainEndpoint } from './http/explain-endpoint.js';
import { normalizeRequestTarget } from './http/normalize-target.js';
import { probeEndpoints } from './http/probe-endpoints.js';
import { applyServerLimits, resolveServerLimits, type ServerLimits, serverOptionsFor } from './http/server-limits.js';
import { type Logger, noopLogger } from './logger.js';
import { type DiscoveryProxy, discoveryProxy } from './proxy/discovery-proxy.js';
import type { DiscoveryProxyOptions, ProxyWebSocketOptions } from './proxy/proxy-options.js';
import { createRegistry } from './registry/create-registry.js';
import { type RegistryRouterOptions, registry as registryApi } from './registry/http/registry-router.js';
import type { ListenAddress } from './registry/http/self-target.js';
import type { RegistryApi } from './registry/registry-api.js';
import { createMetrics, type FleetgateMetrics } from './telemetry/metrics.js';
import { packageVersion } from './version.js';
import { writeRawError } from './websocket/raw-response.js';
import type { WebSocketGateway } from './websocket/websocket-gateway.js';

/** Options for {@link createGateway}. */
export interface GatewayOptions {
  /** The registry to serve. When absent one is created from `env` and closed with the gateway. */
  registry: RegistryApi | undefined;
  /** Environment read for `REGISTRY_*`, `PORT`/`ERUGATEWAYPORT` and `HOST`. @default process.env */
  env: Record<string, string | undefined>;
  /** @default noopLogger */
  logger: Logger;
  /** Time source for the registration rate limit and shutdown grace. @default realClock */
  clock: Clock;
  /** Options for the registration API; `allowFrom` and `token` default to `REGISTRY_ALLOW_FROM`/`REGISTRY_TOKEN`. @default {} */
  registryApi: Partial<Omit<RegistryRouterOptions, 'registry'>>;
  /** Active health checks (`HEALTH_*` from `env` unless overridden here); `false` turns them off. @default {} */
  healthChecks: Partial<HealthCheckerOptions> | false;
  /** Discovery proxy options (registry, clock and logger are the gateway's); `false` turns it off. @default {} */
  proxy: Partial<Omit<DiscoveryProxyOptions, 'registry'>> | false;
  /** WebSocket upgrade proxying and message routing (`/ws`), served by the proxy; `false` turns it off. @default {} */
  websocket: ProxyWebSocketOptions | false;
  /** Serve Prometheus metrics at `GET /metrics`. @default true */
  metrics: boolean;
  /** Serve the live dashboard at `/_fleetgate/` to operators (docs/dashboard.md). @default true */
  dashboard: boolean;
  /** Middlewares run after the gateway's own endpoints and before the proxy (e.g. `rateLimit()`). @default [] */
  middlewares: readonly Middleware[];
  /**
   * Who is an operator (`/metrics`, `/_fleetgate/**`, `GET /internal/services`, the full `/health`);
   * `allowFrom` and `token` default to `ADMIN_ALLOW_FROM`/`ADMIN_TOKEN`. @default {}
   */
  admin: Partial<AdminAccessOptions>;
  /** The Eureka REST API (`/eureka/apps/`, `/eureka/v2/apps/`) behind the registration API's guards; `false` turns it off. @default {} */
  eureka: Partial<Omit<EurekaApiOptions, 'registry'>> | false;
  /** The Consul agent/catalog/health API subset (`/v1/…`) behind the registration API's guards; `false` turns it off. @default {} */
  consul: Partial<Omit<ConsulApiOptions, 'registry'>> | false;
  /**
   * Server limits: headers and whole-request timeouts, keep-alive idle time, header size, connection
   * cap (lib/http/server-limits.ts); each defaults to its `SERVER_*` variable. @default {}
   */
  server: Partial<ServerLimits>;
}

/** Defaults for {@link GatewayOptions}. Frozen. */
export const GATEWAY_DEFAULTS: Readonly<Omit<GatewayOptions, 'env'>> = Object.freeze({
  registry: undefined,
  logger: noopLogger,
  clock: realClock,
  registryApi: Object.freeze({}),
  eureka: Object.freeze({}),
  consul: Object.freeze({}),
  healthChecks: Object.freeze({}),
  proxy: Object.freeze({}),
  websocket: Object.freeze({}),
  metrics: true,
  dashboard: true,
  middlewares: Object.freeze([]) as readonly Middleware[],
  admin: Object.freeze({}),
  server: Object.freeze({}),
});

/** Options for {@link Gateway.close}. */
export interface GatewayCloseOptions {
  /**
   * How long `/readyz` fails (and responses say `Connection: close`) before the listener closes, so
   * load balancers stop sending new connections first (`SHUTDOWN_DELAY` in the bin). @default 0
   */
  delayMs?: number;
  /** How long in-flight requests may take to finish before their connections are cut (`SHUTDOWN_GRACE`). @default 0 */
  graceMs?: number;
}

/** A running (or ready to run) gateway. */
export interface Gateway extends AsyncDisposable {
  /** The HTTP server. */
  readonly server: Server;
  /** The registry it serves. */
  readonly registry: RegistryApi;
  /** The handler chain, in order (before the final 404). */
  readonly middlewares: readonly Middleware[];
  /** The discovery proxy, unless turned off. */
  readonly proxy: DiscoveryProxy | undefined;
  /** The WebSocket gateway (created as the server is attached), unless turned off. */
  readonly websocket: WebSocketGateway | undefined;
  /** The active health checker and its shared lease, unless turned off. */
  readonly health: GatewayHealth | undefined;
  /** The Prometheus metrics, unless turned off. */
  readonly metrics: FleetgateMetrics | undefined;
  /** True from the start of {@link Gateway.close} on: `/readyz` answers 503 and responses close their connection. */
  readonly draining: boolean;
  /** Starts listening. @default port and host from `PORT`/`ERUGATEWAYPORT` and `HOST` */
  listen(port?: number, host?: string): Promise<AddressInfo>;
  /**
   * Drains: `/readyz` fails at once and every response closes its connection; after `delayMs` the
   * listener closes and WebSockets get close 1001; in-flight requests finish within `graceMs` (idle
   * keep-alive connections get up to their idle timeout within it), then every connection is cut and
   * the registry closed. With `graceMs` 0 everything is cut at once.
   */
  close(options?: GatewayCloseOptions): Promise<void>;
}

/**
 * Builds the gateway.
 * @example
 * await using gateway = await createGateway({ logger: console });
 * const { port } = await gateway.listen(0, '127.0.0.1');
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` for an invalid variable or option.
 */
export async function createGateway(options: Partial<GatewayOptions> = {}): Promise<Gateway> {
  const env = options.env ?? process.env;
  const parsed = parseEnv(env);
  const logger = options.logger ?? GATEWAY_DEFAULTS.logger;
  const clock = options.clock ?? GATEWAY_DEFAULTS.clock;
  const ownsRegistry = options.registry === undefined;
  const registry = options.registry ?? (await createRegistry({ env, logger }));

  // The server is created after its handlers; the registration API asks for its address lazily.
  let serverRef: Server | undefined;
  const listenAddresses = (): ListenAddress[] => {
    const address = serverRef?.address();
    return address === null || address === undefined || typeof address === 'string' ? [] : [address];
  };
  const state: GatewayState = { draining: false, loaded: false };
  void registry.ready().then(
    () => {
      state.loaded = true;
    },
    () => {},
  );
  const limits = resolveServerLimits({
    headersTimeoutMs: parsed.serverHeadersTimeoutMs,
    requestTimeoutMs: parsed.serverRequestTimeoutMs,
    keepAliveTimeoutMs: parsed.serverKeepAliveTimeoutMs,
    maxHeaderSize: parsed.serverMaxHeaderSize,
    maxConnections: parsed.serverMaxConnections,
    ...dropUndefined(options.server ?? GATEWAY_DEFAULTS.server),
  });
  const parts = await assemble(registry, parsed, options, logger, clock, listenAddresses, state).catch(
    async (err: unknown) => {
      if (ownsRegistry) await registry.close();
      throw err;
    },
  );
  const { middlewares } = parts;
  const handler = compose(middlewares, {
    logger,
    notFound: (req) =>
      new FleetgateError('ERR_FG_NO_ROUTE', `no route matches ${req.method ?? 'GET'} ${pathOf(req.url)}`),
  });

  let inFlight = 0;
  let idle: (() => void) | undefined;
  /** Responses in flight, told to close their connection when draining starts. */
  const open = new Set<ServerResponse>();
  const server = createServer(serverOptionsFor(limits), (req: IncomingMessage, res: ServerResponse) => {
    // While draining every response says `Connection: close`, so keep-alive clients reconnect elsewhere.
    if (state.draining) res.shouldKeepAlive = false;
    inFlight++;
    open.add(res);
    res.once('close', () => {
      open.delete(res);
      inFlight--;
      if (inFlight === 0) idle?.();
    });
    // One normalised dispatch: the gateway's own endpoints see the same path the proxy routes,
    // so no spelling of /health, /internal/** or /_fleetgate/** slips past them to a service.
    if (normalizeRequestTarget(req, res)) handler(req, res);
  });
  serverRef = server;
  applyServerLimits(server, limits);
  // Attached at once (not on the first request), so an upgrade arriving first is served too.
  parts.proxy?.attach(server);
  // node:http hands CONNECT to this event, never to the request handler; the gateway tunnels nothing.
  server.on('connect', refuseConnect);

  let closing: Promise<void> | undefined;
  const close = (closeOptions: GatewayCloseOptions = {}): Promise<void> => {
    closing ??= (async () => {
      const graceMs = closeOptions.graceMs ?? 0;
      const delayMs = closeOptions.delayMs ?? 0;
      state.draining = true;
      for (const res of open) if (!res.headersSent) res.shouldKeepAlive = false;
      if (delayMs > 0 && server.listening) {
        await new Promise<void>((resolve) => clock.setTimeout(resolve, delayMs));
      }
      let allGone = false;
      let onAllGone: (() => void) | undefined;
      // net.Server's close stops listening and keeps the connections: http.Server's would also drop
      // idle keep-alive connections at once, racing a client that is just sending on one. While
      // draining, each of them closes after its next response (Connection: close) or its idle timeout.
      const closed = new Promise<void>((resolve) =>
        NetServer.prototype.close.call(server, () => {
          allGone = true;
          onAllGone?.();
          resolve();
        }),
      );
      if (graceMs === 0) server.closeIdleConnections();
      // WebSockets hear 1001 (going away) now, so their clients reconnect while HTTP requests finish.
      const websocketsClosed = parts.proxy?.websocket?.close();
      if (graceMs > 0) {
        await new Promise<void>((resolve) => {
          const timer = clock.setTimeout(resolve, graceMs);
          const done = (): void => {
            timer.cancel();
            resolve();
          };
          onAllGone = done;
          idle = () => {
            // In-flight requests are done: idle keep-alive connections may close now without a race
            // only if nobody is about to reuse them; give them until their idle timeout (within the grace).
            const linger = clock.setTimeout(done, Math.min(graceMs, limits.keepAliveTimeoutMs));
            onAllGone = () => {
              linger.cancel();
              done();
            };
          };
          if (allGone) done();
          else if (inFlight === 0) idle();
        });
        if (inFlight > 0)
          logger.warn(`fleetgate: ${inFlight} requests still running after ${graceMs} ms; cutting them`);
      }
      await websocketsClosed;
      server.closeAllConnections();
      await closed;
      await parts.close();
      if (ownsRegistry) await registry.close();
    })();
    return closing;
  };

  return {
    server,
    registry,
    middlewares,
    proxy: parts.proxy,
    get websocket() {
      return parts.proxy?.websocket;
    },
    health: parts.health,
    metrics: parts.metrics,
    get draining() {
      return state.draining;
    },
    listen(port = parsed.port, host = parsed.host) {
      return new Promise<AddressInfo>((resolve, reject) => {
        const onError = (err: Error): void => reject(err);
        server.once('error', onError);
        server.listen(port, host, () => {
          server.off('error', onError);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    close,
    [Symbol.asyncDispose]: () => close(),
  };
}

/** What the gateway's own endpoints read of its lifecycle. */
interface GatewayState {
  draining: boolean;
  /** The registry's local cache has been filled (registry.ready() resolved). */
  loaded: boolean;
}

interface GatewayParts {
  middlewares: Middleware[];
  proxy: DiscoveryProxy | undefined;
  health: GatewayHealth | undefined;
  metrics: FleetgateMetrics | undefined;
  /** Closes everything but the WebSocket gateway (closed first, before connections are cut). */
  close(): Promise<void>;
}

/** Builds the handler chain and the stateful parts behind it; closes what it built if a later part fails. */
async function assemble(
  registry: RegistryApi,
  env: ReturnType<typeof parseEnv>,
  options: Partial<GatewayOptions>,
  logger: Logger,
  clock: Clock,
  listenAddresses: () => ListenAddress[],
  state: GatewayState,
): Promise<GatewayParts> {
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async (): Promise<void> => {
    for (const c of closers.reverse()) await c().catch((err: unknown) => logger.error('fleetgate: close failed', err));
  };
  try {
    const clients = new ClientAddressResolver(
      options.registryApi?.trustProxy ?? env.trustedProxies,
      options.registryApi?.trustProxy === undefined ? 'TRUSTED_PROXIES' : 'trustProxy',
    );
    const admin = createAdminAccess({
      allowFrom: env.adminAllowFrom,
      token: env.adminToken,
      clientAddress: (req) => clients.addressOf(req),
      logger,
      ...dropUndefined(options.admin ?? GATEWAY_DEFAULTS.admin),
    });
    // Metrics are created below (they follow the health checker); refusals reach them once they exist.
    let metricsSink: FleetgateMetrics | undefined;
    const api = registryApi({
      metrics: { recordLoopDetected: (kind) => metricsSink?.recordLoopDetected(kind) },
      allowFrom: env.allowFrom,
      token: env.registryToken,
      registrationRateLimit: env.registerLimit,
      trustProxy: env.trustedProxies,
      serviceKeys: env.serviceKeys,
      listenAddresses,
      clock,
      logger,
      ...dropUndefined(options.registryApi ?? GATEWAY_DEFAULTS.registryApi),
      registry,
    });
    closers.push(() => api.close());
    const eurekaOptions = options.eureka ?? GATEWAY_DEFAULTS.eureka;
    const eureka =
      eurekaOptions === false
        ? undefined
        : eurekaApi({
            allowFrom: env.allowFrom,
            token: env.registryToken,
            trustProxy: env.trustedProxies,
            clock,
            logger,
            ...dropUndefined(eurekaOptions),
            registry,
          });
    if (eureka !== undefined) closers.push(() => eureka.close());
    const consulOptions = options.consul ?? GATEWAY_DEFAULTS.consul;
    const consul =
      consulOptions === false
        ? undefined
        : consulApi({
            allowFrom: env.allowFrom,
            token: env.registryToken,
            trustProxy: env.trustedProxies,
            clock,
            logger,
            ...dropUndefined(consulOptions),
            registry,
          });
    if (consul !== undefined) closers.push(() => consul.close());
    const checks = options.healthChecks ?? GATEWAY_DEFAULTS.healthChecks;
    const health =
      checks === false ? undefined : await startGatewayHealth(env, registry, { logger, clock, overrides: checks });
    if (health !== undefined) closers.push(() => health.close());
    const metrics =
      (options.metrics ?? GATEWAY_DEFAULTS.metrics)
        ? createMetrics({ registry, ...(health === undefined ? {} : { checker: health.checker }) })
        : undefined;
    if (metrics !== undefined) closers.push(() => metrics.close());
    metricsSink = metrics;
    const dashboard =
      (options.dashboard ?? GATEWAY_DEFAULTS.dashboard)
        ? createGatewayDashboard({
            registry,
            admin,
            clock,
            gatewayName: env.gatewayName,
            draining: () => state.draining,
          })
        : undefined;
    if (dashboard !== undefined) closers.push(() => dashboard.close());
    const sink = dashboard === undefined ? metrics : dashboard.sink(metrics);
    const proxyOptions = options.proxy ?? GATEWAY_DEFAULTS.proxy;
    const proxy =
      proxyOptions === false
        ? undefined
        : discoveryProxy({
            panicThreshold: env.panicThreshold,
            trustProxy: env.trustedProxies,
            maxHops: env.maxHops,
            ...(env.gatewayName === undefined ? {} : { gatewayId: env.gatewayName, gatewayName: env.gatewayName }),
            ...dropUndefined(proxyOptions),
            registry,
            clock,
            logger,
            onNoMatch: '404',
            // The bin starts the OpenTelemetry SDK when TRACE_URL is set; spans are cheap no-ops otherwise.
            tracing: env.traceUrl !== undefined,
            ...(sink === undefined ? {} : { metrics: sink }),
            // The proxy's own WebSocket gateway shares its route table and outlier/breaker signals.
            websocket: options.websocket ?? GATEWAY_DEFAULTS.websocket,
          });
    if (proxy !== undefined) closers.push(() => proxy.close());
    const middlewares: Middleware[] = [
      probeEndpoints({
        loaded: () => state.loaded,
        storeConnected: () => registry.health().connected,
        draining: () => state.draining,
      }),
      adminGuard(admin, { registryPrefix: options.registryApi?.prefix ?? '/internal' }),
      ...(metrics === undefined ? [] : [metrics.handler()]),
      api,
      ...(eureka === undefined ? [] : [eureka]),
      ...(consul === undefined ? [] : [consul]),
      healthAggregator({
        registry,
        version: packageVersion(),
        fullReportFor: (req) => admin.isAdmin(req),
        panicThreshold: proxyOptions === false ? 0 : (proxyOptions.panicThreshold ?? env.panicThreshold),
        ...(health === undefined ? {} : { checker: health.checker }),
      }),
      ...(dashboard === undefined ? [] : [dashboard.middleware]),
      ...(proxy === undefined
        ? []
        : [
            explainEndpoint({
              explain: (m, p) => proxy.explain(m, p),
              // The proxy's WebSocket gateway exists once the server is attached (at start).
              explainMessage:
                options.websocket === false
                  ? undefined
                  : (p) => {
                      const ws = proxy.websocket;
                      if (ws === undefined)
                        throw new FleetgateError('ERR_FG_NOT_FOUND', 'WebSocket routing is not attached yet');
                      return ws.explainMessage(p);
                    },
            }),
          ]),
      ...(options.middlewares ?? GATEWAY_DEFAULTS.middlewares),
      ...(proxy === undefined ? [] : [proxy]),
    ];
    return { middlewares, proxy, health, metrics, close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/** Answers `CONNECT` 405 `ERR_FG_METHOD_NOT_ALLOWED` on the raw socket: the gateway is no forward proxy. */
function refuseConnect(_req: IncomingMessage, socket: Duplex): void {
  socket.on('error', () => socket.destroy());
  writeRawError(socket, new FleetgateError('ERR_FG_METHOD_NOT_ALLOWED', 'CONNECT is not served by this gateway'));
}
