/**
 * One client of the message-routing endpoint (message-router.ts): its socket, the encoding it
 * speaks, its pinned links to services, the requests services sent it, its message budget, and
 * the error frames it is answered with.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { ErrorCode } from '../errors.js';
import { forwardedHeaders } from '../upstream/proxy-headers.js';
import { MessageBudget } from './message-budget.js';
import { codecFor, type MessageCodec } from './message-codec.js';
import { errorFrame, type MessageId } from './message-frames.js';
import { ServerRequests } from './server-requests.js';
import type { UpstreamLink } from './upstream-link.js';
import type { ResolvedWebSocketOptions } from './websocket-options.js';
import { WriteBatch } from './write-batch.js';

/** One connected client. */
export interface ClientSession {
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

/**
 * The session of a client that just completed its handshake on `socket`.
 * @example const session = openClientSession(ws, req, socket, options);
 */
export function openClientSession(
  ws: WebSocket,
  req: IncomingMessage,
  socket: Duplex,
  o: ResolvedWebSocketOptions,
): ClientSession {
  const connectionId = randomUUID();
  return {
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
}

/**
 * Sends the client an error frame (in its encoding) answering `id`, naming `service` when given;
 * nothing once its socket is no longer open.
 * @example replyError(session, 7, 'ERR_FG_NO_ROUTE', 'no message route for /x');
 */
export function replyError(
  session: ClientSession,
  id: MessageId | null | undefined,
  code: ErrorCode,
  message: string,
  service?: string,
): void {
  if (session.ws.readyState !== session.ws.OPEN) return;
  const { codec } = session;
  session.batch.hold();
  session.ws.send(codec.encode(errorFrame(id, code, message, service === undefined ? {} : { service })), {
    binary: codec.binary,
  });
}
