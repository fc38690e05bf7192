/**
 * The message router's links to services (README "Routing and proxying"): a client is pinned to
 * one instance per service on first use (one upstream WebSocket per client per service, at the
 * instance's `metadata.ws_path`, default `/ws`); the service's frames come back through here,
 * and a link that fails or goes away is re-pinned or answered for.
 *
 * Replies are authentic: a service frame with an `id` and no `path` reaches the client only if
 * that id was sent on that link and not answered yet; a service frame with both is a request to
 * the client, relayed under a gateway-issued id whose answer goes back to that link only
 * (server-requests.ts). Everything else with an id is dropped and counted (dropped-frames.ts).
 */
import type { ErrorCode } from '../errors.js';
import type { RouteTable } from '../routing/route-table.js';
import type { RouteMatch } from '../routing/types.js';
import { type ClientSession, replyError } from './client-session.js';
import type { ConnectionRegistry } from './connection-registry.js';
import type { DroppedFrames } from './dropped-frames.js';
import type { InstancePicker } from './instance-picker.js';
import type { MessageId } from './message-frames.js';
import { type LinkEnd, type QueuedFrame, UpstreamLink, type UpstreamLinkHooks } from './upstream-link.js';
import { messageEndpointUrl } from './upstream-target.js';
import type { WebSocketMetricsSink } from './websocket-metrics-sink.js';
import type { ResolvedWebSocketOptions } from './websocket-options.js';

/** What the links share with the router and the rest of the gateway. */
export interface ServiceLinksDeps {
  /** The message-route table the router matched with (its instances are picked from). */
  table: RouteTable;
  picker: InstancePicker;
  connections: ConnectionRegistry;
  options: ResolvedWebSocketOptions;
  /** Where dropped frames are counted. */
  dropped: DroppedFrames;
}

/** Who a link belongs to, what it was pinned for, and the instances that already failed it. */
interface LinkOwner {
  session: ClientSession;
  match: RouteMatch;
  skip: Set<string>;
  /** The link replaced one that went away: a retry after it fails to connect is a re-pin too. */
  repinned: boolean;
}

/**
 * Every link of one message router.
 * @example
 * const links = new ServiceLinks({ table, picker, connections, options, dropped });
 * const link = session.links.get(service) ?? links.pin(session, match, service, id);
 */
export class ServiceLinks {
  readonly #deps: ServiceLinksDeps;
  readonly #links = new Set<UpstreamLink>();
  /** Kept beside the links so a link stays ignorant of sessions. */
  readonly #owners = new Map<UpstreamLink, LinkOwner>();
  readonly #hooks: UpstreamLinkHooks;
  readonly #metrics: WebSocketMetricsSink | undefined;
  #closing = false;

  constructor(deps: ServiceLinksDeps) {
    this.#deps = deps;
    this.#metrics = deps.options.metrics;
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

  /** Links (open or connecting). */
  get size(): number {
    return this.#links.size;
  }

  /** Links (open or connecting) per service, for metrics. */
  pinsByService(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const link of this.#links) out[link.service] = (out[link.service] ?? 0) + 1;
    return out;
  }

  /** Heartbeat of every link. */
  tick(): void {
    for (const link of this.#links) link.tick();
  }

  /** Closes every link (no re-pin from now on); resolves when their sockets are gone. */
  close(): Promise<void> {
    this.#closing = true;
    const waits: Promise<void>[] = [];
    for (const link of [...this.#links]) {
      waits.push(link.closed);
      link.close();
    }
    return Promise.all(waits).then(() => undefined);
  }

  /** Opens the client's link to one instance of `service`, or answers why there is none. */
  pin(
    session: ClientSession,
    match: RouteMatch,
    service: string,
    id: MessageId,
    skip?: ReadonlySet<string>,
  ): UpstreamLink | undefined {
    const { picker, connections, options: o } = this.#deps;
    const sel = picker.pick(this.#deps.table.instancesFor(match), service, skip);
    const inst = sel.instance;
    if (inst === undefined) {
      replyError(session, id, 'ERR_FG_NO_HEALTHY_INSTANCE', `no healthy instance of ${service}`, service);
      return undefined;
    }
    const url = messageEndpointUrl(inst, o.upstreamMessagePath);
    const repinned = session.lost.delete(service);
    if (url === undefined) {
      replyError(session, id, 'ERR_FG_UPSTREAM_CONNECT', `an instance of ${service} has an invalid url`, service);
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
        const next = this.pin(session, match, service, queued[0]!.id, skip);
        if (next !== undefined) for (const q of queued) next.send(q.frame, q.id);
        else {
          for (const q of queued.slice(1)) {
            replyError(session, q.id, 'ERR_FG_NO_HEALTHY_INSTANCE', `no healthy instance of ${service}`, service);
          }
        }
        return;
      }
      const code: ErrorCode = end.timeout ? 'ERR_FG_UPSTREAM_TIMEOUT' : 'ERR_FG_UPSTREAM_CONNECT';
      for (const q of queued)
        replyError(session, q.id, code, `${service} could not be reached (${end.reason})`, service);
      return;
    }
    const message = `the ${service} instance this connection was pinned to went away (${end.reason}); the next message is pinned to a live one`;
    replyError(session, undefined, 'ERR_FG_UPSTREAM_CONNECT', message, service);
    for (const id of inflight) replyError(session, id, 'ERR_FG_UPSTREAM_CONNECT', message, service);
  }
}
