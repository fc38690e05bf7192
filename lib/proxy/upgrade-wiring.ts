/**
 * WebSockets through `discoveryProxy()`: the proxy owns one WebSocket gateway (created on first
 * use, sharing the proxy's route table and outlier/breaker signals so HTTP and WebSocket routing
 * agree) and wires it to the HTTP server by itself, the way http-proxy-middleware does: the first
 * HTTP request the middleware sees on a server attaches one `upgrade` listener to that server.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Clock } from '../clock.js';
import { FleetgateError, isFleetgateError } from '../errors.js';
import type { Logger } from '../logger.js';
import { proxyClosedError } from '../upstream/upstream-error.js';
import { writeRawError } from '../websocket/raw-response.js';
import { type UpgradeServer, type WebSocketGateway, websocketGateway } from '../websocket/websocket-gateway.js';
import type { WebSocketGatewayOptions } from '../websocket/websocket-options.js';
import type { ProxyEngine } from './proxy-engine.js';
import type { ProxyWebSocketOptions } from './proxy-options.js';

/** What {@link ProxyUpgrades} hands the gateway: the `websocket` option plus the proxy's `upstreamTls` and `metrics`. */
type UpgradeOptions = ProxyWebSocketOptions & Pick<Partial<WebSocketGatewayOptions>, 'upstreamTls' | 'metrics'>;

/** The WebSocket side of one discovery proxy. */
export class ProxyUpgrades implements AsyncDisposable {
  readonly #options: UpgradeOptions;
  readonly #engine: () => Promise<ProxyEngine>;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #servers = new WeakSet<object>();
  #gateway: WebSocketGateway | undefined;
  #closed = false;

  /** @param engine resolves the proxy's engine (creating its registry in the zero-argument form). */
  constructor(options: UpgradeOptions, engine: () => Promise<ProxyEngine>, clock: Clock, logger: Logger) {
    this.#options = options;
    this.#engine = engine;
    this.#clock = clock;
    this.#logger = logger;
  }

  /** The WebSocket gateway, once an upgrade or `attach` created it. */
  get gateway(): WebSocketGateway | undefined {
    return this.#gateway;
  }

  /**
   * Called for every HTTP request: attaches to the request's server the first time it is seen.
   * A WeakSet lookup, so the hot path pays almost nothing and no server is kept alive.
   */
  noteRequest(req: IncomingMessage): void {
    const server = (req.socket as { server?: unknown } | null)?.server;
    if (server !== undefined && server !== null && !this.#servers.has(server) && isUpgradeServer(server)) {
      this.attach(server);
    }
  }

  /** Attaches one `upgrade` listener to `server` (idempotent); removed on `close()` or when the server closes. */
  attach(server: UpgradeServer | Server): void {
    if (this.#closed || this.#servers.has(server)) return;
    this.#servers.add(server);
    void this.#ensure().then(
      (gw) => gw.attach(server as UpgradeServer),
      () => this.#servers.delete(server),
    );
  }

  /** Handles one upgrade request (for servers wired by hand: `server.on('upgrade', proxy.upgrade)`). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.#gateway !== undefined) {
      this.#gateway.upgrade(req, socket, head);
      return;
    }
    this.#ensure().then(
      (gw) => gw.upgrade(req, socket, head),
      (err: unknown) =>
        writeRawError(
          socket,
          isFleetgateError(err)
            ? err
            : new FleetgateError('ERR_FG_STORE_UNAVAILABLE', 'the registry is not available', { cause: err }),
        ),
    );
  }

  /** Closes the WebSocket gateway: detaches from every server and closes every connection. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#gateway?.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #ensure(): Promise<WebSocketGateway> {
    if (this.#gateway !== undefined) return this.#gateway;
    const engine = await this.#engine();
    if (this.#closed) throw proxyClosedError();
    this.#gateway ??= websocketGateway({
      ...this.#options,
      registry: engine.registry,
      routeTable: engine.table,
      signals: engine.signals,
      // Upgrades are forwarded as the proxy forwards HTTP: same trusted proxies, same Via identity.
      trustProxy: engine.headerOptions.clients.cidrs,
      gatewayId: engine.headerOptions.gatewayId,
      maxHops: engine.headerOptions.maxHops,
      clock: this.#clock,
      logger: this.#logger,
    });
    return this.#gateway;
  }
}

function isUpgradeServer(value: unknown): value is UpgradeServer {
  const s = value as { on?: unknown; off?: unknown; once?: unknown };
  return typeof s.on === 'function' && typeof s.off === 'function' && typeof s.once === 'function';
}
