/**
 * The message-routing endpoint (Eurus model, DESIGN.md §4): clients connect to one gateway
 * path (default `/ws`) and send `{"path","id","data"}` text frames. Each frame is matched
 * against the services' PUBLIC WebSocket routes (`protocol: 'ws'`, `public: true`); the client
 * is pinned to one instance per service on first use (one upstream WebSocket per client per
 * service, at the instance's `metadata.ws_path`, default `/ws`) and the service's frames are
 * relayed back as they are. Every refusal is an error frame; nothing is dropped silently.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { isPathFailure, normalizePath } from '../core/path-normalize.js';
import type { ErrorCode } from '../errors.js';
import type { RegistryApi } from '../registry/registry-api.js';
import { RouteTable } from '../routing/route-table.js';
import type { RouteMatch } from '../routing/types.js';
import type { ConnectionRegistry } from './connection-registry.js';
import { CLOSE_GOING_AWAY, CLOSE_POLICY_VIOLATION } from './frame-scanner.js';
import type { InstancePicker } from './instance-picker.js';
import { MessageBudget } from './message-budget.js';
import { type ClientFrame, errorFrame, type MessageId, parseClientFrame } from './message-frames.js';
import { type LinkEnd, UpstreamLink, type UpstreamLinkHooks } from './upstream-link.js';
import { messageEndpointUrl } from './upstream-target.js';
import type { ResolvedWebSocketOptions } from './websocket-options.js';

/** One connected client. */
interface ClientSession {
  readonly ws: WebSocket;
  /** Sent upstream as `X-Fleetgate-Connection`, so a service can tell clients apart. */
  readonly connectionId: string;
  readonly headers: Record<string, string>;
  /** The pinned link per service. */
  readonly links: Map<string, UpstreamLink>;
  readonly budget: MessageBudget | undefined;
  alive: boolean;
}

/** What the router shares with the rest of the gateway. */
export interface MessageRouterDeps {
  registry: RegistryApi;
  picker: InstancePicker;
  connections: ConnectionRegistry;
  options: ResolvedWebSocketOptions;
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
  #closing = false;

  constructor(deps: MessageRouterDeps) {
    this.#deps = deps;
    const o = deps.options;
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
    });
    this.#hooks = {
      onOpen: (link) => deps.picker.recordSuccess(link.service, link.instanceId),
      onMessage: (link, data, isBinary) => this.#relay(link, data, isBinary),
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

  /** Accepts a client on the message endpoint. */
  handle(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, req));
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

  #accept(ws: WebSocket, req: IncomingMessage): void {
    const o = this.#deps.options;
    if (this.#closing) {
      ws.close(CLOSE_GOING_AWAY, 'gateway shutting down');
      return;
    }
    const remote = req.socket.remoteAddress;
    const prior = req.headers['x-forwarded-for'];
    const xff = [typeof prior === 'string' ? prior : undefined, remote].filter((v) => v !== undefined).join(', ');
    const connectionId = randomUUID();
    const session: ClientSession = {
      ws,
      connectionId,
      headers: {
        'x-fleetgate-connection': connectionId,
        'x-forwarded-proto': 'ws',
        ...(xff === '' ? {} : { 'x-forwarded-for': xff }),
        ...(req.headers.host === undefined ? {} : { 'x-forwarded-host': req.headers.host }),
      },
      links: new Map(),
      budget:
        o.messagesPerSecond > 0
          ? new MessageBudget(o.messagesPerSecond, o.messageBurst, o.clock.now(), o.rateLimitStrikes)
          : undefined,
      alive: true,
    };
    this.#sessions.add(session);
    ws.on('message', (data, isBinary) => this.#onMessage(session, data, isBinary));
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

  #onMessage(session: ClientSession, data: RawData, isBinary: boolean): void {
    session.alive = true;
    const ws = session.ws;
    if (isBinary) {
      this.#reply(session, null, 'ERR_FG_INVALID_BODY', 'binary frames are not supported; send JSON text frames');
      return;
    }
    const parsed = parseClientFrame(data.toString());
    const id = parsed.ok ? parsed.frame.id : parsed.id;
    const budget = session.budget;
    if (budget !== undefined && budget.take(1, this.#deps.options.clock.now()) > 0) {
      this.#reply(session, id, 'ERR_FG_RATE_LIMITED', 'message rate limit exceeded; slow down');
      if (budget.exhausted) ws.close(CLOSE_POLICY_VIOLATION, 'message rate limit exceeded');
      return;
    }
    if (!parsed.ok) {
      this.#reply(session, id, 'ERR_FG_INVALID_BODY', parsed.message);
      return;
    }
    this.#route(session, parsed.frame, data);
  }

  #route(session: ClientSession, frame: ClientFrame, raw: RawData): void {
    const norm = normalizePath(frame.path);
    if (isPathFailure(norm)) {
      this.#reply(session, frame.id, 'ERR_FG_INVALID_BODY', `bad message path: ${norm.reason}`);
      return;
    }
    const match = this.#table.match('GET', norm.path);
    if (match === undefined || match.service === undefined) {
      this.#reply(session, frame.id, 'ERR_FG_NO_ROUTE', `no message route for ${norm.path}`);
      return;
    }
    const service = match.service;
    // Static routes are the gateway's own configuration; registered ones must opt in.
    if (!match.isStatic && match.route.public !== true) {
      this.#reply(session, frame.id, 'ERR_FG_FORBIDDEN', `message route ${match.pattern} is not public`, service);
      return;
    }
    const link = session.links.get(service) ?? this.#pin(session, match, service, frame.id);
    if (link === undefined) return;
    // A path changed by normalisation is sent normalised: the service must see what was routed.
    const text = norm.path === frame.path ? raw.toString() : JSON.stringify({ ...frame, path: norm.path });
    if (!link.send(text, frame.id)) {
      this.#reply(session, frame.id, 'ERR_FG_RATE_LIMITED', `too many messages waiting for ${service}`, service);
    }
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
        headers: session.headers,
        tls: o.tlsConnect,
      },
      this.#hooks,
    );
    this.#owners.set(link, { session, match, skip: new Set(skip) });
    session.links.set(service, link);
    this.#links.add(link);
    connections.add(link);
    void link.closed.then(() => this.#links.delete(link));
    return link;
  }

  #relay(link: UpstreamLink, data: RawData, isBinary: boolean): void {
    const owner = this.#owners.get(link);
    if (owner === undefined) return;
    if (owner.session.ws.readyState === owner.session.ws.OPEN) owner.session.ws.send(data, { binary: isBinary });
  }

  #linkEnded(link: UpstreamLink, end: LinkEnd, queued: { text: string; id: MessageId }[], inflight: MessageId[]): void {
    const { picker, connections, options: o } = this.#deps;
    connections.remove(link);
    const owner = this.#owners.get(link);
    this.#owners.delete(link);
    if (owner === undefined) return;
    const { session, match } = owner;
    if (session.links.get(link.service) === link) session.links.delete(link.service);
    if (end.kind === 'closed' || session.ws.readyState !== session.ws.OPEN) return;
    const service = link.service;
    if (end.kind === 'failed') {
      picker.recordFailure(service, link.instanceId, end.connect);
      // Nothing reached the instance: the queued messages may go to another one.
      const skip = owner.skip;
      skip.add(link.instanceId);
      if (end.connect && skip.size <= o.connectRetries && queued.length > 0 && !this.#closing) {
        const next = this.#pin(session, match, service, queued[0]!.id, skip);
        if (next !== undefined) for (const q of queued) next.send(q.text, q.id);
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
    session.ws.send(errorFrame(id, code, message, service === undefined ? {} : { service }));
  }
}

/** Who a link belongs to, what it was pinned for, and the instances that already failed it. */
interface LinkOwner {
  session: ClientSession;
  match: RouteMatch;
  skip: Set<string>;
}
