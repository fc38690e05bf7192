/**
 * `websocketGateway()`: WebSockets through the gateway (README "Routing and proxying"). Upgrades to the
 * message-routing path (default `/ws`) go to the {@link MessageRouter}; every other upgrade is
 * routed like an HTTP GET and raw-proxied to one pinned instance by the {@link UpgradeProxy}.
 * Every handshake is checked first (lib/websocket/handshake-check.ts). Both balance new pins by live connections, close what is pinned to instances that leave
 * routing, and share one heartbeat timer on the injectable clock.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TimerHandle } from '../clock.js';
import type { RegistryChange } from '../registry/registry-api.js';
import { RouteTable } from '../routing/route-table.js';
import { type ConnectionCounts, ConnectionRegistry } from './connection-registry.js';
import { DroppedFrames, type DropReason } from './dropped-frames.js';
import { handshakeError, refuseHandshake } from './handshake-check.js';
import { InstancePicker } from './instance-picker.js';
import type { MessageExplainResult } from './message-explain.js';
import { MessageRouter } from './message-router.js';
import { UpgradeProxy } from './upgrade-proxy.js';
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
export interface WebSocketGatewayStats {
  /** Raw-proxied connections piped to an instance. */
  tunnels: number;
  /** Raw upgrades waiting for the instance's `101`. */
  handshakes: number;
  /** Clients connected to the message-routing endpoint. */
  clients: number;
  /** Message-routing links to instances (open or connecting). */
  upstreams: number;
  /** Everything pinned to an instance (tunnels + handshakes + links). */
  pinned: number;
  /** Pinned connections per service and instance id. */
  instances: ConnectionCounts;
  /** Servers the gateway is attached to. */
  servers: number;
  /** Message frames dropped instead of relayed, per reason (docs/websocket.md, "Authentic replies"). */
  dropped: Record<DropReason, number>;
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
  /** Refuses new upgrades (503), closes every connection (1001) and resolves when all sockets are gone. Idempotent. */
  close(): Promise<void>;
}

/**
 * Creates the WebSocket gateway.
 * @example
 * const ws = websocketGateway({ registry });
 * ws.attach(app.listen(8080));           // Express: the http.Server app.listen returns
 * @example
 * const server = http.createServer(handler);
 * websocketGateway({ registry, messagePath: '/ws' }).attach(server);
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` for an invalid option.
 */
export function websocketGateway(
  options: Partial<WebSocketGatewayOptions> & Pick<WebSocketGatewayOptions, 'registry'>,
): WebSocketGateway {
  const opts: ResolvedWebSocketOptions = resolveWebSocketOptions(options);
  const { registry, clock } = opts;
  const ownsTable = opts.routeTable === undefined;
  const table =
    opts.routeTable ?? new RouteTable({ registry, staticRoutes: opts.staticRoutes, nameRouting: opts.nameRouting });
  const connections = new ConnectionRegistry();
  connections.follow(registry);
  const picker = new InstancePicker({
    balancer: opts.balancer,
    connections,
    signals: opts.signals,
    clock,
    logger: opts.logger,
  });
  const proxy = new UpgradeProxy({ table, picker, connections, options: opts });
  const dropped = new DroppedFrames(opts.metrics);
  const router = new MessageRouter({ registry, picker, connections, options: opts, dropped });
  // Gauges are read at scrape time: the connection path pays nothing for them.
  const removeSource = opts.metrics?.addWebSocketSource?.(() => ({
    clients: router.clients,
    connections: connections.totalsByService(),
    pins: router.pinsByService(),
  }));
  const onChange = (change: RegistryChange): void => {
    if ((change.type === 'deregister' || change.type === 'expire') && change.service !== undefined) {
      picker.forget(change.service, change.instanceId!);
    }
  };
  registry.on('change', onChange);
  const heartbeat: TimerHandle = clock.setInterval(() => {
    proxy.tick();
    router.tick();
  }, opts.heartbeatIntervalMs);
  const attached = new Map<UpgradeServer, { onUpgrade: WebSocketGateway['upgrade']; onClose: () => void }>();
  const messagePath = opts.messagePath;
  let closing: Promise<void> | undefined;

  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const invalid = handshakeError(req);
    if (invalid !== undefined) {
      refuseHandshake(socket, invalid);
      return;
    }
    if (messagePath !== false && closing === undefined && isMessagePath(req.url, messagePath)) {
      router.handle(req, socket, head);
    } else {
      proxy.handle(req, socket, head);
    }
  };

  const detach = (server: UpgradeServer): void => {
    const entry = attached.get(server);
    if (entry === undefined) return;
    attached.delete(server);
    server.off('upgrade', entry.onUpgrade);
    server.off('close', entry.onClose);
  };

  const gateway: WebSocketGateway = {
    upgrade,
    attach(server) {
      if (attached.has(server) || closing !== undefined) return;
      const entry = { onUpgrade: upgrade, onClose: () => detach(server) };
      attached.set(server, entry);
      server.on('upgrade', entry.onUpgrade);
      server.once('close', entry.onClose);
    },
    detach,
    explainMessage: (path) => router.explain(path),
    stats: () => ({
      tunnels: proxy.tunnels,
      handshakes: proxy.handshakes,
      clients: router.clients,
      upstreams: router.upstreams,
      pinned: connections.total,
      instances: connections.counts(),
      servers: attached.size,
      dropped: dropped.counts(),
    }),
    routeTable: table,
    messageTable: router.table,
    close() {
      closing ??= (async () => {
        heartbeat.cancel();
        removeSource?.();
        for (const server of [...attached.keys()]) detach(server);
        registry.off('change', onChange);
        await Promise.all([proxy.close(), router.close()]);
        await connections.close();
        if (ownsTable) await table.close();
      })();
      return closing;
    },
    [Symbol.asyncDispose]: () => gateway.close(),
  };
  return gateway;
}

/** Whether a request target is the message endpoint (query and one trailing slash ignored). */
function isMessagePath(url: string | undefined, path: string): boolean {
  if (url === undefined || !url.startsWith(path)) return false;
  const rest = url.length === path.length ? 0 : url.charCodeAt(path.length);
  return (
    rest === 0 || rest === 0x3f || (rest === 0x2f && (url.length === path.length + 1 || url[path.length + 1] === '?'))
  );
}
