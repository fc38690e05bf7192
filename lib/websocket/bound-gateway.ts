/**
 * The parts of a WebSocket gateway that live on one registry (websocket-gateway.ts builds them
 * at once when given a registry, or when the default registry is ready): the HTTP route table
 * upgrades are routed with, the live pins, the upgrade proxy, the message router, and the one
 * heartbeat timer they share on the injectable clock.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TimerHandle } from '../clock.js';
import type { RegistryApi, RegistryChange } from '../registry/registry-api.js';
import { RouteTable } from '../routing/route-table.js';
import { type ConnectionCounts, ConnectionRegistry } from './connection-registry.js';
import { DroppedFrames, type DropReason } from './dropped-frames.js';
import { InstancePicker } from './instance-picker.js';
import type { MessageExplainResult } from './message-explain.js';
import { MessageRouter } from './message-router.js';
import { UpgradeProxy } from './upgrade-proxy.js';
import type { ResolvedWebSocketOptions } from './websocket-options.js';

/** What the bound parts count (websocket-gateway.ts adds the servers it is attached to). */
export interface BoundGatewayStats {
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
  /** Message frames dropped instead of relayed, per reason (docs/websocket.md, "Authentic replies"). */
  dropped: Record<DropReason, number>;
}

/** The gateway's parts on one registry. */
export interface BoundGateway {
  readonly registry: RegistryApi;
  readonly routeTable: RouteTable;
  readonly messageTable: RouteTable;
  /** Routes one upgrade whose handshake was checked: the message endpoint, or a raw tunnel. */
  route(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  stats(): BoundGatewayStats;
  explainMessage(path: string): MessageExplainResult;
  /** Closes every connection (1001) and stops following the registry. Idempotent. */
  close(): Promise<void>;
}

/**
 * Builds the gateway's parts on `registry`.
 * @example const bound = bindGateway(resolveWebSocketOptions({ registry }), registry);
 */
export function bindGateway(opts: ResolvedWebSocketOptions, registry: RegistryApi): BoundGateway {
  const { clock } = opts;
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
  const messagePath = opts.messagePath;
  let closing: Promise<void> | undefined;

  return {
    registry,
    routeTable: table,
    messageTable: router.table,
    route(req, socket, head) {
      if (messagePath !== false && closing === undefined && isMessagePath(req.url, messagePath)) {
        router.handle(req, socket, head);
      } else {
        proxy.handle(req, socket, head);
      }
    },
    stats: () => ({
      tunnels: proxy.tunnels,
      handshakes: proxy.handshakes,
      clients: router.clients,
      upstreams: router.upstreams,
      pinned: connections.total,
      instances: connections.counts(),
      dropped: dropped.counts(),
    }),
    explainMessage: (path) => router.explain(path),
    close() {
      closing ??= (async () => {
        heartbeat.cancel();
        removeSource?.();
        registry.off('change', onChange);
        await Promise.all([proxy.close(), router.close()]);
        await connections.close();
        if (ownsTable) await table.close();
      })();
      return closing;
    },
  };
}

/** Whether a request target is the message endpoint (query and one trailing slash ignored). */
function isMessagePath(url: string | undefined, path: string): boolean {
  if (url === undefined || !url.startsWith(path)) return false;
  const rest = url.length === path.length ? 0 : url.charCodeAt(path.length);
  return (
    rest === 0 || rest === 0x3f || (rest === 0x2f && (url.length === path.length + 1 || url[path.length + 1] === '?'))
  );
}
