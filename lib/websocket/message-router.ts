/**
 * The message-routing endpoint (Eurus model, README "Routing and proxying"): clients connect to one gateway
 * path (default `/ws`) and send `{"path","id","data"}` text frames. Each frame is matched
 * against the services' PUBLIC WebSocket routes (`protocol: 'ws'`, `public: true`); the client
 * is pinned to one instance per service on first use (one upstream WebSocket per client per
 * service, at the instance's `metadata.ws_path`, default `/ws`) and the service's frames are
 * relayed back as they are. Every refusal of a client request is an error frame.
 *
 * Only `path` and `id` of a frame are read (message-codec.ts), so frames are relayed as bytes.
 * Replies are authentic: a service frame with an `id` and no `path` reaches the client only if
 * that id was sent on that link and not answered yet; a service frame with both is a request to
 * the client, relayed under a gateway-issued id whose answer goes back to that link only
 * (server-requests.ts). Everything else with an id is dropped and counted (dropped-frames.ts).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { ErrorCode } from '../errors.js';
import type { RegistryApi } from '../registry/registry-api.js';
import { resolveRequest } from '../routing/resolve-request.js';
import { RouteTable } from '../routing/route-table.js';
import type { RouteMatch } from '../routing/types.js';
import { forwardedHeaders } from '../upstream/proxy-headers.js';
import type { ConnectionRegistry } from './connection-registry.js';
import type { DroppedFrames } from './dropped-frames.js';
import { CLOSE_GOING_AWAY, CLOSE_POLICY_VIOLATION } from './frame-scanner.js';
import type { InstancePicker } from './instance-picker.js';
import { MessageBudget } from './message-budget.js';
import { codecFor, type MessageCodec, selectSubprotocol } from './message-codec.js';
import { explainMessagePath, type MessageExplainResult } from './message-explain.js';
import { errorFrame, type MessageId } from './message-frames.js';
import { ServerRequests } from './server-requests.js';
import { type LinkEnd, type QueuedFrame, UpstreamLink, type UpstreamLinkHooks } from './upstream-link.js';
import { messageEndpointUrl } from './upstream-target.js';
import type { WebSocketMetricsSink } from './websocket-metrics-sink.js';
import type { ResolvedWebSocketOptions } from './websocket-options.js';
import { WriteBatch } from './write-batch.js';

/** One connected client. */
interface ClientSession {
  readonly ws: WebSocket;
  /** Sent upstream as `X-Fleetgate-Connection`, so a service can tell clients apart. */
  readonly connectionId: string;
  readonly headers: Record<string, string>;
  /** The encoding negotiated by subprotocol; the links to services speak it too. */
  readonly codec: MessageCodec;
  /** The pinned link per service. */
  readonly links: Map<string, UpstreamLink>;
  /** Services whose pinned instance went away: the next link to them is a re-pin. */
  readonly lost: Set<string>;
  /** Requests services sent to this client, by the id the gateway issued. */
  readonly asked: ServerRequests<UpstreamLink>;
  readonly budget: MessageBudget | undefined;
  /** Frames relayed to the client in one turn leave in one write (write-batch.ts). */
  readonly batch: WriteBatch;
  alive: boolean;
}

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
  readonly #links = new Set<UpstreamLink>();
  /** Kept beside the links so a link stays ignorant of sessions. */
  readonly #owners = new Map<UpstreamLink, LinkOwner>();
  readonly #hooks: UpstreamLinkHooks;
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
    this.#hooks = {
      onOpen: (link) => {
        deps.picker.recordSuccess(link.service, link.instanceId);
        // Counted once the new instance answers: a first pick that fails to connect is not a second re-pin.
        if (this.#owners.get(link)?.repinned === true) this.#metrics?.recordWsRepin?.(link.service);
      },
      onMessage: (link, data) => this.#fromService(link, data),
      onEnd: (link, end, queued, inflight) => this.#linkEnded(link, end, queued, inflight),
    };
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
    const out: Record<string, number> = {};
    for (const link of this.#links) out[link.service] = (out[link.service] ?? 0) + 1;
    return out;
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
    for (const link of this.#links) link.tick();
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
    for (const link of [...this.#links]) {
      waits.push(link.closed);
      link.close();
    }
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
    const connectionId = randomUUID();
    const session: ClientSession = {
      ws,
      connectionId,
      codec: codecFor(ws.protocol),
      lost: new Set(),
      asked: new ServerRequests(),
      // The same X-Forwarded-* (trusted proxies extended, others replaced) and Via as HTTP gets.
      headers: { ...forwardedHeaders(req, o.forwarding), 'x-fleetgate-connection': connectionId },
      links: new Map(),
      budget:
        o.messagesPerSecond > 0
          ? new MessageBudget(o.messagesPerSecond, o.messageBurst, o.clock.now(), o.rateLimitStrikes)
          : undefined,
      batch: new WriteBatch(socket),
      alive: true,
    };
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
      this.#reply(
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
      this.#reply(session, id, 'ERR_FG_RATE_LIMITED', 'message rate limit exceeded; slow down');
      if (budget.exhausted) ws.close(CLOSE_POLICY_VIOLATION, 'message rate limit exceeded');
      return;
    }
    if (!fields.ok) {
      this.#reply(session, id, 'ERR_FG_INVALID_BODY', fields.message);
      return;
    }
    if (id === null) {
      this.#reply(session, null, 'ERR_FG_INVALID_BODY', '"id" must be a string (≤ 256 chars) or a finite number');
      return;
    }
    if (fields.path === undefined) {
      this.#answer(session, id, data);
      return;
    }
    const path = fields.path;
    if (path === null || !path.startsWith('/')) {
      this.#reply(session, id, 'ERR_FG_INVALID_BODY', '"path" must be a string starting with "/" (≤ 2048 chars)');
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
      this.#reply(session, id, 'ERR_FG_INVALID_BODY', `bad message path: ${norm.reason}`);
      return;
    }
    const match = norm.kind === 'route' ? norm.match : undefined;
    if (match === undefined || match.service === undefined) {
      this.#reply(session, id, 'ERR_FG_NO_ROUTE', `no message route for ${norm.path}`);
      return;
    }
    const service = match.service;
    // Static routes are the gateway's own configuration; registered ones must opt in.
    if (!match.isStatic && match.route.public !== true) {
      this.#reply(session, id, 'ERR_FG_FORBIDDEN', `message route ${match.pattern} is not public`, service);
      return;
    }
    const link = session.links.get(service) ?? this.#pin(session, match, service, id);
    if (link === undefined) return;
    // A path changed by normalisation is sent normalised: the service must see what was routed.
    const frame = norm.path === path ? raw : session.codec.patch(raw, { path: norm.path });
    if (!link.send(frame, id)) {
      this.#reply(session, id, 'ERR_FG_RATE_LIMITED', `too many messages waiting for ${service}`, service);
    } else this.#metrics?.recordWsMessage?.('to_service', service);
  }

  /** Opens the client's link to one instance of `service`, or answers why there is none. */
  #pin(
    session: ClientSession,
    match: RouteMatch,
    service: string,
    id: MessageId,
    skip?: ReadonlySet<string>,
  ): UpstreamLink | undefined {
    const { picker, connections, options: o } = this.#deps;
    const sel = picker.pick(this.#table.instancesFor(match), service, skip);
    const inst = sel.instance;
    if (inst === undefined) {
      this.#reply(session, id, 'ERR_FG_NO_HEALTHY_INSTANCE', `no healthy instance of ${service}`, service);
      return undefined;
    }
    const url = messageEndpointUrl(inst, o.upstreamMessagePath);
    const repinned = session.lost.delete(service);
    if (url === undefined) {
      this.#reply(session, id, 'ERR_FG_UPSTREAM_CONNECT', `an instance of ${service} has an invalid url`, service);
      return undefined;
    }
    const link = new UpstreamLink(
      service,
      inst.instanceId,
      url,
      {
        maxPayload: o.upstreamMaxPayload,
        handshakeTimeoutMs: o.handshakeTimeoutMs,
        closeTimeoutMs: o.closeTimeoutMs,
        maxQueued: o.maxQueuedMessages,
        clock: o.clock,
        headers: repinned ? { ...session.headers, 'x-fleetgate-repinned': '1' } : session.headers,
        tls: o.tlsConnect,
        protocol: session.ws.protocol === '' ? undefined : session.codec.subprotocol,
        binary: session.codec.binary,
      },
      this.#hooks,
    );
    this.#owners.set(link, { session, match, skip: new Set(skip), repinned });
    session.links.set(service, link);
    this.#links.add(link);
    connections.add(link);
    void link.closed.then(() => this.#links.delete(link));
    return link;
  }

  /**
   * A frame from a service: pushes (no `id`) are relayed as they are, replies only when this link
   * carried that id, requests to the client under a gateway-issued id. The rest is dropped.
   */
  #fromService(link: UpstreamLink, data: Buffer): void {
    const owner = this.#owners.get(link);
    if (owner === undefined) return;
    const session = owner.session;
    const ws = session.ws;
    const fields = session.codec.scan(data);
    if (!fields.ok) {
      this.#deps.dropped.record('malformed', link.service);
      return;
    }
    const id = fields.id;
    let frame: string | Buffer = data;
    if (id === undefined) {
      // A push: nobody is answered by it, so it cannot impersonate anyone.
    } else if (id === null) {
      this.#deps.dropped.record('malformed', link.service);
      return;
    } else if (fields.path === undefined) {
      if (!link.answered(id)) {
        this.#deps.dropped.record('forged_reply', link.service);
        return;
      }
    } else {
      frame = session.codec.patch(data, { id: session.asked.issue(link, id) });
    }
    if (ws.readyState !== ws.OPEN) return;
    session.batch.hold();
    ws.send(frame, { binary: session.codec.binary });
    this.#metrics?.recordWsMessage?.('to_client', link.service);
  }

  #linkEnded(link: UpstreamLink, end: LinkEnd, queued: QueuedFrame[], inflight: MessageId[]): void {
    const { picker, connections, options: o } = this.#deps;
    connections.remove(link);
    const owner = this.#owners.get(link);
    this.#owners.delete(link);
    if (owner === undefined) return;
    const { session, match } = owner;
    session.asked.forget(link);
    if (session.links.get(link.service) === link) session.links.delete(link.service);
    if (end.kind === 'gone') session.lost.add(link.service);
    if (end.kind === 'closed' || session.ws.readyState !== session.ws.OPEN) return;
    const service = link.service;
    if (end.kind === 'failed') {
      picker.recordFailure(service, link.instanceId, end.connect);
      // Nothing reached the instance: the queued messages may go to another one.
      const skip = owner.skip;
      skip.add(link.instanceId);
      if (end.connect && skip.size <= o.connectRetries && queued.length > 0 && !this.#closing) {
        // The client's state on the lost instance is still gone: the next instance must hear so.
        if (owner.repinned) session.lost.add(service);
        const next = this.#pin(session, match, service, queued[0]!.id, skip);
        if (next !== undefined) for (const q of queued) next.send(q.frame, q.id);
        else {
          for (const q of queued.slice(1)) {
            this.#reply(session, q.id, 'ERR_FG_NO_HEALTHY_INSTANCE', `no healthy instance of ${service}`, service);
          }
        }
        return;
      }
      const code: ErrorCode = end.timeout ? 'ERR_FG_UPSTREAM_TIMEOUT' : 'ERR_FG_UPSTREAM_CONNECT';
      for (const q of queued)
        this.#reply(session, q.id, code, `${service} could not be reached (${end.reason})`, service);
      return;
    }
    const message = `the ${service} instance this connection was pinned to went away (${end.reason}); the next message is pinned to a live one`;
    this.#reply(session, undefined, 'ERR_FG_UPSTREAM_CONNECT', message, service);
    for (const id of inflight) this.#reply(session, id, 'ERR_FG_UPSTREAM_CONNECT', message, service);
  }

  #reply(session: ClientSession, id: MessageId | null | undefined, code: ErrorCode, message: string, service?: string) {
    if (session.ws.readyState !== session.ws.OPEN) return;
    const { codec } = session;
    session.batch.hold();
    session.ws.send(codec.encode(errorFrame(id, code, message, service === undefined ? {} : { service })), {
      binary: codec.binary,
    });
  }
}

/** Who a link belongs to, what it was pinned for, and the instances that already failed it. */
interface LinkOwner {
  session: ClientSession;
  match: RouteMatch;
  skip: Set<string>;
  /** The link replaced one that went away: a retry after it fails to connect is a re-pin too. */
  repinned: boolean;
}
