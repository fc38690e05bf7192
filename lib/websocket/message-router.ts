/**
 * The message-routing endpoint (Eurus model, README "Routing and proxying"): clients connect to one gateway
 * path (default `/ws`) and send `{"path","id","data"}` text frames. Each frame is matched
 * against the services' PUBLIC WebSocket routes (`protocol: 'ws'`, `public: true`) and sent on
 * the client's link to that service (service-links.ts: pinned to one instance per service on
 * first use, the service's frames relayed back). Every refusal of a client request is an error
 * frame.
 *
 * Only `path` and `id` of a frame are read (message-codec.ts), so frames are relayed as bytes.
 * A client frame with an `id` and no `path` answers a request a service sent the client
 * (server-requests.ts).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { RegistryApi } from '../registry/registry-api.js';
import { resolveRequest } from '../routing/resolve-request.js';
import { RouteTable } from '../routing/route-table.js';
import { type ClientSession, openClientSession, replyError } from './client-session.js';
import type { ConnectionRegistry } from './connection-registry.js';
import type { DroppedFrames } from './dropped-frames.js';
import { CLOSE_GOING_AWAY, CLOSE_POLICY_VIOLATION } from './frame-scanner.js';
import type { InstancePicker } from './instance-picker.js';
import { selectSubprotocol } from './message-codec.js';
import { explainMessagePath, type MessageExplainResult } from './message-explain.js';
import type { MessageId } from './message-frames.js';
import { ServiceLinks } from './service-links.js';
import type { WebSocketMetricsSink } from './websocket-metrics-sink.js';
import type { ResolvedWebSocketOptions } from './websocket-options.js';

/** What the router shares with the rest of the gateway. */
export interface MessageRouterDeps {
  registry: RegistryApi;
  picker: InstancePicker;
  connections: ConnectionRegistry;
  options: ResolvedWebSocketOptions;
  /** Where dropped frames are counted. */
  dropped: DroppedFrames;
}

/**
 * @example
 * const router = new MessageRouter({ registry, picker, connections, options });
 * server.on('upgrade', (req, socket, head) => router.handle(req, socket, head));
 */
export class MessageRouter {
  readonly #deps: MessageRouterDeps;
  readonly #table: RouteTable;
  readonly #wss: WebSocketServer;
  readonly #sessions = new Set<ClientSession>();
  readonly #links: ServiceLinks;
  readonly #metrics: WebSocketMetricsSink | undefined;
  #closing = false;

  constructor(deps: MessageRouterDeps) {
    this.#deps = deps;
    const o = deps.options;
    this.#metrics = o.metrics;
    this.#table = new RouteTable({
      registry: deps.registry,
      protocol: 'ws',
      nameRouting: false,
      staticRoutes: o.staticRoutes,
    });
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: o.maxPayload,
      perMessageDeflate: false,
      clientTracking: false,
      handleProtocols: (offered) => selectSubprotocol(offered),
    });
    const { picker, connections, dropped } = deps;
    this.#links = new ServiceLinks({ table: this.#table, picker, connections, options: o, dropped });
  }

  /** The WebSocket message-route table (routes with `protocol: 'ws'`). */
  get table(): RouteTable {
    return this.#table;
  }

  /** Connected clients. */
  get clients(): number {
    return this.#sessions.size;
  }

  /** Upstream links (open or connecting). */
  get upstreams(): number {
    return this.#links.size;
  }

  /** Message-routing pins (links, open or connecting) per service, for metrics. */
  pinsByService(): Record<string, number> {
    return this.#links.pinsByService();
  }

  /** How a client frame for `path` would be routed, without routing it. */
  explain(path: string): MessageExplainResult {
    return explainMessagePath(this.#table, this.#deps.picker, this.#deps.connections, path);
  }

  /** Accepts a client on the message endpoint. */
  handle(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, req, socket));
  }

  /** Heartbeat: clients and links that missed the previous ping are cut; the rest are pinged. */
  tick(): void {
    for (const s of this.#sessions) {
      if (!s.alive) {
        s.ws.terminate();
        continue;
      }
      s.alive = false;
      s.ws.ping();
    }
    this.#links.tick();
  }

  /** Closes every client (1001) and link; resolves when their sockets are gone. */
  async close(): Promise<void> {
    this.#closing = true;
    const waits: Promise<void>[] = [];
    const { clock, closeTimeoutMs } = this.#deps.options;
    for (const s of this.#sessions) {
      waits.push(new Promise((resolve) => s.ws.once('close', () => resolve())));
      s.ws.close(CLOSE_GOING_AWAY, 'gateway shutting down');
      const timer = clock.setTimeout(() => s.ws.terminate(), closeTimeoutMs);
      s.ws.once('close', () => timer.cancel());
    }
    waits.push(this.#links.close());
    await Promise.all(waits);
    await this.#table.close();
    this.#wss.close();
  }

  #accept(ws: WebSocket, req: IncomingMessage, socket: Duplex): void {
    const o = this.#deps.options;
    if (this.#closing) {
      ws.close(CLOSE_GOING_AWAY, 'gateway shutting down');
      return;
    }
    const session = openClientSession(ws, req, socket, o);
    this.#sessions.add(session);
    ws.on('message', (data, isBinary) => this.#onMessage(session, data as Buffer, isBinary));
    ws.on('pong', () => {
      session.alive = true;
    });
    // Oversized frames and protocol errors: ws closes the socket itself (1009, 1002) after this event.
    ws.on('error', () => {});
    ws.once('close', () => {
      this.#sessions.delete(session);
      for (const link of [...session.links.values()]) link.close();
      session.links.clear();
    });
  }

  #onMessage(session: ClientSession, data: Buffer, isBinary: boolean): void {
    session.alive = true;
    const ws = session.ws;
    const codec = session.codec;
    if (isBinary !== codec.binary) {
      const want = codec.binary ? 'binary MessagePack' : 'JSON text';
      replyError(
        session,
        null,
        'ERR_FG_INVALID_BODY',
        `this connection speaks ${codec.subprotocol}: send ${want} frames`,
      );
      return;
    }
    const fields = codec.scan(data);
    const id = fields.ok ? (fields.id ?? null) : fields.id;
    const budget = session.budget;
    if (budget !== undefined && budget.take(1, this.#deps.options.clock.now()) > 0) {
      replyError(session, id, 'ERR_FG_RATE_LIMITED', 'message rate limit exceeded; slow down');
      if (budget.exhausted) ws.close(CLOSE_POLICY_VIOLATION, 'message rate limit exceeded');
      return;
    }
    if (!fields.ok) {
      replyError(session, id, 'ERR_FG_INVALID_BODY', fields.message);
      return;
    }
    if (id === null) {
      replyError(session, null, 'ERR_FG_INVALID_BODY', '"id" must be a string (≤ 256 chars) or a finite number');
      return;
    }
    if (fields.path === undefined) {
      this.#answer(session, id, data);
      return;
    }
    const path = fields.path;
    if (path === null || !path.startsWith('/')) {
      replyError(session, id, 'ERR_FG_INVALID_BODY', '"path" must be a string starting with "/" (≤ 2048 chars)');
      return;
    }
    this.#route(session, path, id, data);
  }

  /** A client's answer to a request a service sent it: to the asking link only, under its own id. */
  #answer(session: ClientSession, id: MessageId, data: Buffer): void {
    const asked = session.asked.take(id);
    if (asked === undefined || !asked.link.sendUntracked(session.codec.patch(data, { id: asked.id }))) {
      this.#deps.dropped.record('unknown_reply', asked?.link.service ?? '-');
    } else this.#metrics?.recordWsMessage?.('to_service', asked.link.service);
  }

  #route(session: ClientSession, path: string, id: MessageId, raw: Buffer): void {
    const norm = resolveRequest(this.#table, 'GET', path);
    if (norm.kind === 'bad-path') {
      replyError(session, id, 'ERR_FG_INVALID_BODY', `bad message path: ${norm.reason}`);
      return;
    }
    const match = norm.kind === 'route' ? norm.match : undefined;
    if (match === undefined || match.service === undefined) {
      replyError(session, id, 'ERR_FG_NO_ROUTE', `no message route for ${norm.path}`);
      return;
    }
    const service = match.service;
    // Static routes are the gateway's own configuration; registered ones must opt in.
    if (!match.isStatic && match.route.public !== true) {
      replyError(session, id, 'ERR_FG_FORBIDDEN', `message route ${match.pattern} is not public`, service);
      return;
    }
    const link = session.links.get(service) ?? this.#links.pin(session, match, service, id);
    if (link === undefined) return;
    // A path changed by normalisation is sent normalised: the service must see what was routed.
    const frame = norm.path === path ? raw : session.codec.patch(raw, { path: norm.path });
    if (!link.send(frame, id)) {
      replyError(session, id, 'ERR_FG_RATE_LIMITED', `too many messages waiting for ${service}`, service);
    } else this.#metrics?.recordWsMessage?.('to_service', service);
  }
}
