/**
 * `createGateway()`: the standalone gateway the `fleetgate` bin runs. A `node:http` server whose
 * handler is a plain array of middlewares — the operator guard, `/metrics`, the registration API, `/health`,
 * the dashboard (`/_fleetgate/`), `/_fleetgate/explain`, your own middlewares, then the discovery proxy — ending in a JSON 404
 * `ERR_FG_NO_ROUTE`; WebSocket upgrades go to the WebSocket gateway. No Express on the hot path.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, Server as NetServer } from 'node:net';
import type { Duplex } from 'node:stream';
import { parseEnv } from './config/env.js';
import { dropUndefined } from './core/options-merge.js';
import { FleetgateError } from './errors.js';
import { assemble, type GatewayState } from './gateway-assembly.js';
import type { GatewayHealth } from './gateway-health.js';
import { GATEWAY_DEFAULTS, type GatewayCloseOptions, type GatewayOptions } from './gateway-options.js';
import { compose, type Middleware, pathOf } from './http/compose.js';
import { normalizeRequestTarget } from './http/normalize-target.js';
import { applyServerLimits, resolveServerLimits, serverOptionsFor } from './http/server-limits.js';
import type { DiscoveryProxy } from './proxy/discovery-proxy.js';
import { createRegistry } from './registry/create-registry.js';
import type { ListenAddress } from './registry/http/self-target.js';
import type { RegistryApi } from './registry/registry-api.js';
import type { FleetgateMetrics } from './telemetry/metrics.js';
import { writeRawError } from './websocket/raw-response.js';
import type { WebSocketGateway } from './websocket/websocket-gateway.js';

export type { GatewayCloseOptions, GatewayOptions } from './gateway-options.js';
export { GATEWAY_DEFAULTS } from './gateway-options.js';

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
  // Remembered until the server listens again or closes (a registration asks for it every time).
  let serverRef: Server | undefined;
  let addresses: ListenAddress[] | undefined;
  const listenAddresses = (): ListenAddress[] => {
    if (addresses !== undefined) return addresses;
    const address = serverRef?.address();
    const now = address === null || address === undefined || typeof address === 'string' ? [] : [address];
    if (serverRef?.listening === true) addresses = now;
    return now;
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
  // One listener for every response (`close` fires once per response): no closure per request.
  const onResponseClose = function (this: ServerResponse): void {
    open.delete(this);
    inFlight--;
    if (inFlight === 0) idle?.();
  };
  const server = createServer(serverOptionsFor(limits), (req: IncomingMessage, res: ServerResponse) => {
    // While draining every response says `Connection: close`, so keep-alive clients reconnect elsewhere.
    if (state.draining) res.shouldKeepAlive = false;
    inFlight++;
    open.add(res);
    res.on('close', onResponseClose);
    // One normalised dispatch: the gateway's own endpoints see the same path the proxy routes,
    // so no spelling of /health, /internal/** or /_fleetgate/** slips past them to a service.
    if (normalizeRequestTarget(req, res)) handler(req, res);
  });
  serverRef = server;
  const forgetAddresses = (): void => {
    addresses = undefined;
  };
  server.on('listening', forgetAddresses);
  server.on('close', forgetAddresses);
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

/** Answers `CONNECT` 405 `ERR_FG_METHOD_NOT_ALLOWED` on the raw socket: the gateway is no forward proxy. */
function refuseConnect(_req: IncomingMessage, socket: Duplex): void {
  socket.on('error', () => socket.destroy());
  writeRawError(socket, new FleetgateError('ERR_FG_METHOD_NOT_ALLOWED', 'CONNECT is not served by this gateway'));
}
