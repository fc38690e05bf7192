/**
 * `websocketGateway()`: WebSockets through the gateway (README "Routing and proxying"). Upgrades to the
 * message-routing path (default `/ws`) go to the {@link MessageRouter}; every other upgrade is
 * routed like an HTTP GET and raw-proxied to one pinned instance by the {@link UpgradeProxy}.
 * Every handshake is checked first (lib/websocket/handshake-check.ts). Both balance new pins by live connections, close what is pinned to instances that leave
 * routing, and share one heartbeat timer on the injectable clock (lib/websocket/bound-gateway.ts).
 *
 * Without a `registry` option the gateway routes from the process-wide default registry
 * (lib/registry/default-registry.ts), as `discoveryProxy()` does: created from the environment on
 * the first upgrade or `ready()`, shared with a zero-argument `registry()`, and given back on close.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { FleetgateError, isFleetgateError } from '../errors.js';
import { leaseDefaultRegistry } from '../registry/default-registry.js';
import type { RegistryApi } from '../registry/registry-api.js';
import type { RouteTable } from '../routing/route-table.js';
import { type BoundGateway, type BoundGatewayStats, bindGateway } from './bound-gateway.js';
import type { ConnectionCounts } from './connection-registry.js';
import { DROP_REASONS, type DropReason } from './dropped-frames.js';
import { handshakeError, refuseHandshake } from './handshake-check.js';
import type { MessageExplainResult } from './message-explain.js';
import { writeRawError } from './raw-response.js';
import {
  type ResolvedWebSocketOptions,
  resolveWebSocketOptions,
  type WebSocketGatewayOptions,
} from './websocket-options.js';

/** A server that emits `upgrade` (node:http, node:https, the server behind an Express app). */
export interface UpgradeServer {
  on(event: 'upgrade', listener: (req: IncomingMessage, socket: Duplex, head: Buffer) => void): unknown;
  off(event: 'upgrade', listener: (req: IncomingMessage, socket: Duplex, head: Buffer) => void): unknown;
  off(event: 'close', listener: () => void): unknown;
  once(event: 'close', listener: () => void): unknown;
}

/** Counters of {@link WebSocketGateway.stats}; all 0 when nothing is open. */
export interface WebSocketGatewayStats extends BoundGatewayStats {
  /** Servers the gateway is attached to. */
  servers: number;
}

/** The handle returned by {@link websocketGateway}. */
export interface WebSocketGateway extends AsyncDisposable {
  /** Handles one upgrade request; for servers wired by hand: `server.on('upgrade', gw.upgrade)`. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Adds ONE `upgrade` listener to `server` (idempotent), removed when the server or the gateway closes. */
  attach(server: UpgradeServer): void;
  /** Removes the listener `attach` added. */
  detach(server: UpgradeServer): void;
  /** Live counters. */
  stats(): WebSocketGatewayStats;
  /**
   * How a client message frame for `path` would be routed (message routes, `protocol: 'ws'`),
   * without routing it; `servable` is Eurus' `CanServePath`.
   * @example gateway.explainMessage('/chat/join').servable // true
   */
  explainMessage(path: string): MessageExplainResult;
  /** The HTTP route table upgrades are routed with. */
  readonly routeTable: RouteTable;
  /** The table of message routes (`protocol: 'ws'`). */
  readonly messageTable: RouteTable;
  /** The registry routed from. */
  readonly registry: RegistryApi;
  /** Resolves once the registry (the default one, created from the environment, when none was given) is ready. */
  ready(): Promise<void>;
  /**
   * Refuses new upgrades (503), closes every connection (1001) and resolves when all sockets are gone;
   * gives back its lease on the default registry. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * The handle of a gateway on the default registry (no `registry` option): the registry and the
 * tables exist once the first upgrade or `ready()` created the registry.
 */
export interface DefaultRegistryWebSocketGateway
  extends Omit<WebSocketGateway, 'routeTable' | 'messageTable' | 'registry'> {
  /** The HTTP route table; `undefined` until the registry exists. */
  readonly routeTable: RouteTable | undefined;
  /** The table of message routes; `undefined` until the registry exists. */
  readonly messageTable: RouteTable | undefined;
  /** The default registry; `undefined` until it exists. */
  readonly registry: RegistryApi | undefined;
}

/**
 * Creates the WebSocket gateway.
 *
 * Without a `registry` option it routes from the process-wide default registry
 * (lib/registry/default-registry.ts), created from the environment on the first upgrade or
 * `ready()` and shared with a zero-argument `registry()` and `discoveryProxy()`; it closes when
 * the last of them closes. Upgrades that arrive while it is being created wait for it; when it
 * cannot be created they are answered 503 `ERR_FG_STORE_UNAVAILABLE`.
 * @example
 * const ws = websocketGateway();          // the default registry, as registry() and discoveryProxy() use
 * ws.attach(app.listen(8080));           // Express: the http.Server app.listen returns
 * @example
 * const server = http.createServer(handler);
 * websocketGateway({ registry, messagePath: '/ws' }).attach(server);
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` for an invalid option.
 */
export function websocketGateway(
  options: Partial<WebSocketGatewayOptions> & Pick<WebSocketGatewayOptions, 'registry'>,
): WebSocketGateway;
export function websocketGateway(options?: Partial<WebSocketGatewayOptions>): DefaultRegistryWebSocketGateway;
export function websocketGateway(options: Partial<WebSocketGatewayOptions> = {}): DefaultRegistryWebSocketGateway {
  const opts: ResolvedWebSocketOptions = resolveWebSocketOptions(options);
  let bound: BoundGateway | undefined = opts.registry === undefined ? undefined : bindGateway(opts, opts.registry);
  const lease = opts.registry === undefined ? leaseDefaultRegistry() : undefined;
  let binding: Promise<BoundGateway> | undefined;
  const attached = new Map<UpgradeServer, { onUpgrade: WebSocketGateway['upgrade']; onClose: () => void }>();
  let closing: Promise<void> | undefined;

  const bind = (): Promise<BoundGateway> => {
    if (bound !== undefined) return Promise.resolve(bound);
    if (closing !== undefined || lease === undefined) return Promise.reject(closedError());
    binding ??= lease.get().then(
      (registry) => {
        if (closing !== undefined) throw closedError();
        bound = bindGateway(opts, registry);
        return bound;
      },
      (err: unknown) => {
        // The store may come back: the next upgrade tries again instead of failing for ever.
        binding = undefined;
        throw err;
      },
    );
    return binding;
  };

  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const invalid = handshakeError(req);
    if (invalid !== undefined) {
      refuseHandshake(socket, invalid);
      return;
    }
    if (bound !== undefined) {
      bound.route(req, socket, head);
      return;
    }
    // Node removed its own error listener from an upgraded socket: a reset while waiting must not crash.
    const onEarlyError = (): void => {
      socket.destroy();
    };
    socket.on('error', onEarlyError);
    bind().then(
      (b) => {
        socket.off('error', onEarlyError);
        b.route(req, socket, head);
      },
      (err: unknown) => {
        if (!isFleetgateError(err))
          opts.logger.error(`fleetgate: websocketGateway could not create its registry: ${String(err)}`);
        writeRawError(socket, storeError(err));
      },
    );
  };

  const detach = (server: UpgradeServer): void => {
    const entry = attached.get(server);
    if (entry === undefined) return;
    attached.delete(server);
    server.off('upgrade', entry.onUpgrade);
    server.off('close', entry.onClose);
  };

  const gateway = {
    upgrade,
    attach(server: UpgradeServer) {
      if (attached.has(server) || closing !== undefined) return;
      const entry = { onUpgrade: upgrade, onClose: () => detach(server) };
      attached.set(server, entry);
      server.on('upgrade', entry.onUpgrade);
      server.once('close', entry.onClose);
    },
    detach,
    explainMessage(path: string): MessageExplainResult {
      if (bound === undefined) {
        throw new FleetgateError('ERR_FG_STORE_UNAVAILABLE', 'the gateway has no registry yet; await gateway.ready()');
      }
      return bound.explainMessage(path);
    },
    stats: (): WebSocketGatewayStats => ({
      ...(bound?.stats() ?? idleStats()),
      servers: attached.size,
    }),
    async ready(): Promise<void> {
      const b = await bind();
      await b.registry.ready();
    },
    close() {
      closing ??= (async () => {
        for (const server of [...attached.keys()]) detach(server);
        if (bound === undefined && binding !== undefined) await binding.catch(() => undefined);
        await bound?.close();
        await lease?.release();
      })();
      return closing;
    },
    [Symbol.asyncDispose]: () => gateway.close(),
  };
  Object.defineProperties(gateway, {
    routeTable: { get: () => bound?.routeTable, enumerable: true },
    messageTable: { get: () => bound?.messageTable, enumerable: true },
    registry: { get: () => bound?.registry, enumerable: true },
  });
  return gateway as typeof gateway & Pick<DefaultRegistryWebSocketGateway, 'routeTable' | 'messageTable' | 'registry'>;
}

/** Counters before the default registry exists: nothing is open. */
function idleStats(): Omit<WebSocketGatewayStats, 'servers'> {
  const instances: ConnectionCounts = {};
  const dropped = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
  return { tunnels: 0, handshakes: 0, clients: 0, upstreams: 0, pinned: 0, instances, dropped };
}

function closedError(): FleetgateError {
  return new FleetgateError('ERR_FG_CLOSED', 'the WebSocket gateway is closed');
}

function storeError(err: unknown): FleetgateError {
  return isFleetgateError(err)
    ? err
    : new FleetgateError('ERR_FG_STORE_UNAVAILABLE', 'the registry is not available', { cause: err });
}
